"""Pagination of list answers: a `limit` with a documented maximum and an `offset`, never an unbounded list."""

from __future__ import annotations

from typing import Any

from fastapi import Query

from robocore.i18n import N_

PAGE_MAX = 500  # most rows one list answer holds; larger sets are read page by page with `offset`
OFFSET_MAX = 1_000_000


def limit(default: int = 100, maximum: int = PAGE_MAX) -> Any:
    """The `limit` query parameter: rows answered at most (1 to `maximum`)."""
    return Query(default, ge=1, le=maximum, description=N_("Most rows answered (the schema's maximum)"))


def offset() -> Any:
    """The `offset` query parameter: rows skipped before the page."""
    return Query(0, ge=0, le=OFFSET_MAX, description=N_("Rows skipped before the page (pagination)"))
