"""The reference as one self-contained HTML page: no script, no external resource, its style allowed by hash."""

from __future__ import annotations

import base64
import hashlib
from itertools import groupby
from pathlib import Path

from markupsafe import Markup, escape

from robocore.reference.labels import labels
from robocore.reference.model import ActionDoc

TEMPLATES = Path(__file__).parent / "templates"


def _style() -> str:
    return (TEMPLATES / "reference.css").read_text(encoding="utf-8")


def ticks(text: str) -> Markup:
    """Docstring text with its `code spans` as <code> elements, everything else escaped."""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: shown as written
        return escape(text)
    return Markup("").join(Markup("<code>{}</code>").format(part) if i % 2 else escape(part)
                           for i, part in enumerate(parts))


def html(docs: list[ActionDoc]) -> str:
    """The page: a table of contents by namespace, then every action (Jinja2, autoescaped).

    Its Content-Security-Policy allows nothing but its own inline style (by hash): the page
    works opened from a file, served by any server, or attached to a mail.
    """
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    from robocore.i18n import current

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["ticks"] = ticks
    style = _style()
    digest = base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode("ascii")
    groups = [(ns, list(items)) for ns, items in groupby(docs, key=lambda d: d.namespace)]
    return env.get_template("reference.html.j2").render(
        t=labels(), lang=current(), groups=groups, style=style, style_hash=f"sha256-{digest}")
