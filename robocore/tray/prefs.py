"""The agent's tray preferences: pinned robots and each robot's last launch values (never secrets)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import platformdirs


def default_path() -> Path:
    """`<user config dir>/robocore/tray.json`."""
    return platformdirs.user_config_path("robocore", appauthor=False) / "tray.json"


class Prefs:
    """A small JSON file: `{"pinned": [robot, ...], "values": {robot: {input: value}}}`."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # first start, or a damaged file: start again rather than fail
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tray-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1)
        os.replace(tmp, self.path)  # whole or not at all

    def pinned(self) -> set[str]:
        return {str(name) for name in self._read().get("pinned", []) if isinstance(name, str)}

    def pin(self, robot: str, pinned: bool = True) -> None:
        data = self._read()
        names = self.pinned() | {robot} if pinned else self.pinned() - {robot}
        data["pinned"] = sorted(names)
        self._write(data)

    def values(self, robot: str) -> dict[str, Any]:
        """The values last launched with for `robot` (empty when none)."""
        found = self._read().get("values", {}).get(robot, {})
        return dict(found) if isinstance(found, dict) else {}

    def remember(self, robot: str, values: dict[str, Any]) -> None:
        """Keep `values` (already stripped of secrets by the form) for the next launch of `robot`."""
        data = self._read()
        data.setdefault("values", {})[robot] = values
        self._write(data)
