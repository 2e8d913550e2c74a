"""What the tray shows, one JSON line per change, for desktop automation and support (ROBOCORE_TRAY_AUTOMATION).

An end-to-end test drives the tray with real clicks and keys (xdotool) but cannot read a menu or a balloon
from outside; this journal writes down the texts the agent sees: menu entries, tooltip, notifications,
dialogs opened and the runs followed. It never holds the token nor an input's value, only what is on screen.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QMenu

ENV = "ROBOCORE_TRAY_AUTOMATION"


def menu_texts(menu: QMenu, indent: str = "") -> list[str]:
    """A menu's entries as shown (a sub-menu's entries indented by two spaces; separators as "")."""
    out: list[str] = []
    for action in menu.actions():
        out.append(indent + action.text().replace("&&", "&"))
        sub = action.menu()
        if isinstance(sub, QMenu):
            out.extend(menu_texts(sub, indent + "  "))
    return out


class Journal:
    """Appends `{"at": ..., "event": ..., ...}` lines to a file; with no file, does nothing."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()

    def write(self, event: str, **data: Any) -> None:
        if self.path is None:
            return
        line = json.dumps({"at": dt.datetime.now(dt.UTC).isoformat(), "event": event, **data}, ensure_ascii=False,
                          default=str)
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
