"""The robots the server offers: the robots folder, each file loaded once per change."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import structlog

from robocore.errors import RobocoreError
from robocore.loader import LoadedRobot, load_robot
from robocore.spec import InputSpec

log = structlog.get_logger("robocore.server.catalog")
RESCAN_SECONDS = 2.0

_JSON_TYPES = {"number": {"type": "number"}, "bool": {"type": "boolean"},
               "date": {"type": "string", "format": "date"}, "url": {"type": "string", "format": "uri"},
               "file": {"type": "string", "format": "binary"}, "text": {"type": "string"},
               "choice": {"type": "string"}}


class Catalog:
    """Robots by their `robot:` name; a file is parsed again only when its mtime or size changes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._loaded: dict[Path, tuple[tuple[int, int], LoadedRobot | None]] = {}
        self._by_name: dict[str, LoadedRobot] = {}
        self._scanned_at = -RESCAN_SECONDS
        self._lock = threading.Lock()

    def _load(self, path: Path) -> LoadedRobot | None:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        known = self._loaded.get(path)
        if known and known[0] == stamp:
            return known[1]
        try:
            loaded: LoadedRobot | None = load_robot(path)
        except (RobocoreError, OSError) as exc:
            log.warning("catalog.robot_invalid", path=str(path), error=str(exc))
            loaded = None
        self._loaded[path] = (stamp, loaded)
        return loaded

    def _rescan(self) -> None:
        found: dict[str, LoadedRobot] = {}
        files = sorted(self.folder.glob("*/robot.yaml")) if self.folder.is_dir() else []
        for path in files:
            try:
                loaded = self._load(path)
            except OSError:
                continue
            if loaded is not None and loaded.spec.robot not in found:
                found[loaded.spec.robot] = loaded
        self._by_name = found

    def robots(self) -> dict[str, LoadedRobot]:
        """Every valid robot of the folder, by name (rescanned at most every two seconds)."""
        with self._lock:
            if time.monotonic() - self._scanned_at >= RESCAN_SECONDS:
                self._rescan()
                self._scanned_at = time.monotonic()
            return dict(self._by_name)

    def get(self, name: str) -> LoadedRobot | None:
        return self.robots().get(name)


def input_fields(spec: dict[str, InputSpec]) -> dict[str, dict[str, Any]]:
    """Each input's type, French label, default and constraints, for a launch form."""
    return {name: {"type": i.type, "label": i.label or name, "help": i.help, "required": i.required,
                   "default": i.default, "choices": i.choices, "accept": i.accept,
                   "minimum": _json_bound(i.minimum), "maximum": _json_bound(i.maximum)}
            for name, i in spec.items()}


def _json_bound(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def inputs_version(spec: dict[str, InputSpec]) -> str:
    """A stable hash of the inputs' definitions (names, order, types, labels, defaults, bounds...): a launch
    form built from another version is refused (409 `inputs_changed`) rather than sent to changed inputs."""
    definitions = [[name, i.model_dump(mode="json", exclude_defaults=True)] for name, i in spec.items()]
    text = json.dumps(definitions, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def input_schema(spec: dict[str, InputSpec]) -> dict[str, Any]:
    """A JSON Schema of the launch inputs (file inputs are uploaded as multipart parts)."""
    properties: dict[str, Any] = {}
    for name, i in spec.items():
        prop: dict[str, Any] = dict(_JSON_TYPES[i.type], title=i.label or name)
        if i.choices:
            prop["enum"] = list(i.choices)
        if i.help:
            prop["description"] = i.help
        if i.default is not None:
            prop["default"] = i.default
        if i.type == "number":  # a date's bounds have no JSON Schema keyword (formatMinimum is not standard)
            if i.minimum is not None:
                prop["minimum"] = i.minimum
            if i.maximum is not None:
                prop["maximum"] = i.maximum
        properties[name] = prop
    required = [n for n, i in spec.items() if i.required and i.default is None]
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
