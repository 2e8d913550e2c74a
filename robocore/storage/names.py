"""The names of a run's files: run-relative, confined, bounded; and mapping a recorded path to one.

Every backend checks a name here before touching anything, so a name that could leave the run
(`..`, an absolute path, a drive, a backslash) or that no file system would accept (a part over
255 bytes, a NUL) is refused the same way everywhere, with our message naming it.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath, PureWindowsPath

MAX_NAME_CHARS = 512           # a whole run-relative name
MAX_PART_BYTES = 255           # one folder or file name, in UTF-8 (what Linux file systems accept)
MAX_DEPTH = 32
LOG_NAME = "log.jsonl"         # the run's log: appended line by line, never put as a file
_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
_DRIVE = re.compile(r"^[A-Za-z]:")


class RunFileError(ValueError):
    """A run file name or run id refused, or a file over the size bound (the caller's mistake: 400)."""


class RunFileMissing(FileNotFoundError):
    """No such file in the run (404)."""


def _shown(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def check_run_id(run_id: str) -> str:
    """The run id itself, when it can name a folder (letters, digits, `_`, `-`, at most 36)."""
    if not _RUN_ID.match(run_id):
        raise RunFileError(f"identifiant d'exécution refusé {_shown(run_id)} / run id refused")
    return run_id


def check_name(name: str) -> str:
    """The name itself when it is a confined run-relative path, else RunFileError saying why."""
    why = _problem(name)
    if why:
        raise RunFileError(f"nom de fichier refusé {_shown(name)} : {why}")
    return name


def _problem(name: str) -> str | None:
    if not name:
        return "vide / empty"
    if len(name) > MAX_NAME_CHARS:
        return f"plus de {MAX_NAME_CHARS} caractères / longer than {MAX_NAME_CHARS} characters"
    if any(ord(c) < 32 or c == "\x7f" for c in name) or "\\" in name:
        return "caractère de contrôle ou barre oblique inverse / control character or backslash"
    if name.startswith("/") or _DRIVE.match(name):
        return "chemin absolu / absolute path"
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "partie vide, « . » ou « .. » / empty, '.' or '..' part"
    if len(parts) > MAX_DEPTH:
        return f"plus de {MAX_DEPTH} dossiers / deeper than {MAX_DEPTH} folders"
    if any(len(part.encode("utf-8")) > MAX_PART_BYTES for part in parts):
        return f"une partie dépasse {MAX_PART_BYTES} octets / a part is longer than {MAX_PART_BYTES} bytes"
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
