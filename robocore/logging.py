"""structlog set-up: JSON lines per run, pretty console for the CLI, secrets removed first."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging as std_logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import structlog
from structlog.typing import EventDict

from robocore.secrets import scrub_any

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}
_run_file: contextvars.ContextVar[tuple[IO[str], int] | None] = contextvars.ContextVar("run_file", default=None)
_console_level = 30
_console_mode = "pretty"


def redact(_logger: Any, _name: str, event: EventDict) -> EventDict:
    """Remove every known secret value (and its encodings) from the event."""
    return scrub_any(event)


def _level_no(event: EventDict) -> int:
    return _LEVELS.get(str(event.get("level", "info")), 20)


def _default(value: Any) -> str:
    return str(value)


def to_run_file(_logger: Any, _name: str, event: EventDict) -> EventDict:
    """Append the event as one JSON line to the current run's log file."""
    target = _run_file.get()
    if target is not None and _level_no(event) >= target[1]:
        target[0].write(json.dumps(event, ensure_ascii=False, default=_default) + "\n")
    return event


def console_filter(_logger: Any, _name: str, event: EventDict) -> EventDict:
    """Drop events below the console level."""
    if _console_mode == "off" or _level_no(event) < _console_level:
        raise structlog.DropEvent
    return event


class _Console:
    """Pretty console lines; a robot's own message (flow.log) is shown as its text alone."""

    def __init__(self) -> None:
        self.inner = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())

    def __call__(self, logger: Any, name: str, event: EventDict) -> str:
        if event.get("event") == "robot.message":
            return f"» {event.get('message', '')}"
        return self.inner(logger, name, event)


def configure(console: str = "pretty", level: str = "warning") -> None:
    """Set the console renderer ('pretty', 'json', 'off') and level; files get INFO and above."""
    global _console_level, _console_mode
    _console_level, _console_mode = _LEVELS[level], console
    renderer: Any = (structlog.processors.JSONRenderer(ensure_ascii=False, default=_default)
                     if console != "pretty" else _Console())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact,
            to_run_file,
            console_filter,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(10),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr if console == "pretty" else sys.stdout),
        cache_logger_on_first_use=False,
    )
    std_logging.getLogger("sqlalchemy").setLevel(std_logging.WARNING)


@contextlib.contextmanager
def run_log(path: Path, level: str = "info", **bind: Any) -> Iterator[None]:
    """Send this task's events to a run's log file and bind run_id, robot..."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8", buffering=1) as fh:
        token = _run_file.set((fh, _LEVELS[level]))
        tokens = structlog.contextvars.bind_contextvars(**bind)
        try:
            yield
        finally:
            structlog.contextvars.reset_contextvars(**tokens)
            _run_file.reset(token)
