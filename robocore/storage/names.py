"""The names of a run's files: run-relative, confined, bounded; and mapping a recorded path to one.

Every backend checks a name here before touching anything, so a name that could leave the run
(`..`, an absolute path, a drive, a backslash) or that no file system would accept (a part over
255 bytes, a NUL) is refused the same way everywhere, with our message naming it.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath, PureWindowsPath

from robocore.i18n import Message, Text, render
from robocore.i18n import lazy_gettext as _l

MAX_NAME_CHARS = 512           # a whole run-relative name
MAX_PART_BYTES = 255           # one folder or file name, in UTF-8 (what Linux file systems accept)
MAX_DEPTH = 32
LOG_NAME = "log.jsonl"         # the run's log: appended line by line, never put as a file
_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
_DRIVE = re.compile(r"^[A-Za-z]:")


class RunFileError(ValueError):
    """A run file name or run id refused, or a file over the size bound (the caller's mistake: 400).

    Its message is lazy: shown in the reader's language (the API's request, the CLI's command).
    """

    def __init__(self, message: Text) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return render(self.message)


class RunFileMissing(FileNotFoundError):
    """No such file in the run (404)."""


def _shown(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def check_run_id(run_id: str) -> str:
    """The run id itself, when it can name a folder (letters, digits, `_`, `-`, at most 36)."""
    if not _RUN_ID.match(run_id):
        raise RunFileError(_l("run id refused {run_id}", run_id=_shown(run_id)))
    return run_id


def check_name(name: str) -> str:
    """The name itself when it is a confined run-relative path, else RunFileError saying why."""
    why = _problem(name)
    if why:
        raise RunFileError(_l("file name refused {name}: {why}", name=_shown(name), why=why))
    return name


def _problem(name: str) -> Message | None:
    if not name:
        return _l("empty")
    if len(name) > MAX_NAME_CHARS:
        return _l("longer than {limit} characters", limit=MAX_NAME_CHARS)
    if any(ord(c) < 32 or c == "\x7f" for c in name) or "\\" in name:
        return _l("control character or backslash")
    if name.startswith("/") or _DRIVE.match(name):
        return _l("absolute path")
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return _l("empty, “.” or “..” part")
    if len(parts) > MAX_DEPTH:
        return _l("deeper than {limit} folders", limit=MAX_DEPTH)
    if any(len(part.encode("utf-8")) > MAX_PART_BYTES for part in parts):
        return _l("a part is longer than {limit} bytes", limit=MAX_PART_BYTES)
    return None


def run_relative(run_id: str, recorded: str) -> str | None:
    """The run-relative name of a path recorded by any process (`<its home>/runs/<run_id>/evidence/x.png`
    → `evidence/x.png`), or None when the path is not inside a folder of that run.

    The folder is found by its last `runs/<run_id>` parts, not by this process's home: a worker on
    another machine records its own paths, and the run id (unique) names the same run everywhere.
    """
    path = PureWindowsPath(recorded) if "\\" in recorded else PurePosixPath(recorded)
    parts = path.parts
    for i in range(len(parts) - 2, 0, -1):
        if parts[i] == run_id and parts[i - 1] == "runs":
            name = "/".join(parts[i + 1:])
            return name if name and _problem(name) is None else None
    return None
