"""robocore.tray.menu: the agent's robots by process, favourites first, search past ten robots, last runs."""

from __future__ import annotations

from typing import Any

from robocore.tray.menu import build_menu, one_line


def robots(n: int) -> list[dict[str, Any]]:
    processes = ["Subventions", "Démarches", None]
    return [{"robot": f"r{i:02d}", "title": f"Robot {i:02d}", "process": processes[i % 3]} for i in range(n)]


def test_grouped_by_process_with_favourites_first() -> None:
    """Pinned robots come first; the others are grouped by process (by name, robots without one last)."""
    model = build_menu(robots(6), pinned={"r04"})
    assert [e.name for e in model.favourites] == ["r04"]
    assert [g.process for g in model.groups] == ["Démarches", "Subventions", None]
    assert [e.name for e in model.groups[1].robots] == ["r00", "r03"]
    assert "r04" not in [e.name for g in model.groups for e in g.robots]
    assert not model.searchable


def test_search_when_more_than_ten() -> None:
    """Eleven robots or more: a search filters on title, name and process, accents and case ignored."""
    assert not build_menu(robots(10)).searchable
    model = build_menu(robots(12), query="DEMARCHES")
    assert model.searchable and model.total == 12
    assert {e.name for e in model.robots} == {"r01", "r04", "r07", "r10"}
    assert [e.name for e in build_menu(robots(12), query="robot 11").robots] == ["r11"]
    assert build_menu(robots(12), query="zzz").robots == ()


def test_last_runs_most_recent_first_with_one_line_error() -> None:
    """Each robot shows its three last runs, most recent first, with the first line of the error."""
    runs = [{"id": f"x{i}", "robot": "r00", "status": "failed", "started_at": f"2026-12-0{i}T08:00:00Z",
             "error": "Ligne 12 refusée\nTraceback ..." if i == 4 else None} for i in range(1, 5)]
    entry = build_menu(robots(1), runs).robots[0]
    assert [r.id for r in entry.last_runs] == ["x4", "x3", "x2"]
    assert entry.last_runs[0].error == "Ligne 12 refusée" and entry.last_runs[0].at is not None


def test_one_line_cuts_long_errors() -> None:
    """A long error is cut with an ellipsis; blank ones vanish."""
    assert one_line("x" * 300, 20) == "x" * 19 + "…"
    assert one_line("\n  \n") is None and one_line(None) is None


def test_names_are_kept_as_given() -> None:
    """Titles with markup or formula-like text are data: kept verbatim (Qt menus show plain text)."""
    odd = [{"robot": "x", "title": "<script>alert(1)</script> =cmd|' /C calc'!A0", "process": "\"quoted\""}]
    entry = build_menu(odd).robots[0]
    assert entry.title == "<script>alert(1)</script> =cmd|' /C calc'!A0" and entry.process == "\"quoted\""
