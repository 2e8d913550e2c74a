"""The tray menu as data: the agent's robots by process, pinned ones first, a search when there are many."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

SEARCH_FROM = 11  # more robots than this many - 1: the menu offers a search
LAST_RUNS = 3
ERROR_CHARS = 100


@dataclass(frozen=True)
class LastRun:
    """One of a robot's last runs as the menu shows it."""

    id: str
    status: str
    at: dt.datetime | None
    error: str | None  # one line, at most ERROR_CHARS characters


@dataclass(frozen=True)
class RobotEntry:
    name: str
    title: str
    process: str | None
    pinned: bool
    last_runs: tuple[LastRun, ...]


@dataclass(frozen=True)
class MenuGroup:
    """Robots of one process (`process` None: robots without a process)."""

    process: str | None
    robots: tuple[RobotEntry, ...]


@dataclass(frozen=True)
class MenuModel:
    favourites: tuple[RobotEntry, ...]
    groups: tuple[MenuGroup, ...]
    searchable: bool  # many robots: the menu shows a search field
    query: str
    total: int  # robots granted, before the search

    @property
    def robots(self) -> tuple[RobotEntry, ...]:
        return self.favourites + tuple(r for g in self.groups for r in g.robots)


def one_line(text: str | None, limit: int = ERROR_CHARS) -> str | None:
    """The first non-blank line of an error, cut at `limit` characters."""
    if not text:
        return None
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    if not line:
        return None
    return line if len(line) <= limit else line[:limit - 1].rstrip() + "…"


def _fold(text: str) -> str:
    """Lower case without accents: « Démarches » is found by "demarches"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _when(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def last_runs(runs: Iterable[dict[str, Any]], limit: int = LAST_RUNS) -> dict[str, tuple[LastRun, ...]]:
    """Each robot's `limit` most recent runs, from the API's run list (any order)."""
    by_robot: dict[str, list[LastRun]] = {}
    for run in runs:
        entry = LastRun(str(run["id"]), str(run.get("status", "")), _when(run.get("started_at")),
                        one_line(run.get("error")))
        by_robot.setdefault(str(run.get("robot", "")), []).append(entry)
    floor = dt.datetime.min.replace(tzinfo=dt.UTC)
    return {robot: tuple(sorted(found, key=lambda r: r.at or floor, reverse=True)[:limit])
            for robot, found in by_robot.items()}


def build_menu(robots: Iterable[dict[str, Any]], runs: Iterable[dict[str, Any]] = (),
               pinned: Iterable[str] = (), query: str = "") -> MenuModel:
    """The menu from `GET /robots` and `GET /runs` answers, the pinned names and the search text."""
    recent, favourite = last_runs(runs), set(pinned)
    entries = [RobotEntry(str(r["robot"]), str(r.get("title") or r["robot"]), r.get("process") or None,
                          str(r["robot"]) in favourite, recent.get(str(r["robot"]), ()))
               for r in robots]
    total = len(entries)
    searchable = total >= SEARCH_FROM
    wanted = _fold(query.strip()) if searchable else ""
    if wanted:
        entries = [e for e in entries if wanted in _fold(" ".join((e.name, e.title, e.process or "")))]
    key = _by_title
    favourites = tuple(sorted((e for e in entries if e.pinned), key=key))
    groups: dict[str | None, list[RobotEntry]] = {}
    for entry in entries:
        if not entry.pinned:
            groups.setdefault(entry.process, []).append(entry)
    ordered = sorted(groups.items(), key=lambda g: (g[0] is None, _fold(g[0] or "")))
    return MenuModel(favourites, tuple(MenuGroup(p, tuple(sorted(rs, key=key))) for p, rs in ordered),
                     searchable, query if searchable else "", total)


def _by_title(entry: RobotEntry) -> tuple[str, str]:
    return _fold(entry.title), entry.name
