"""A worker's side of the run files: fetch the run's stored files before it runs, ship its log lines and
the files it writes while it runs and when it ends.

Nothing here runs for the `local` storage (the run folder already is the shared one). For the others
the worker's own run folder is a working copy: `materialise` copies in what the storage holds (the
uploads, and the outputs of an earlier attempt when a run is resumed elsewhere), `map_inputs` points
the recorded file inputs at that copy, and `Shipper` sends, every few seconds and once at the end,
the new complete log lines and every file created or changed in the folder.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import structlog

from robocore.storage.base import RunFile, RunFiles, file_sha256
from robocore.storage.names import LOG_NAME, RunFileError, run_relative

log = structlog.get_logger("robocore.storage")
SHIP_SECONDS = 2.0
SHIPPED_MARK = ".log-shipped"   # bytes of log.jsonl already in the storage (this folder only)
_LIST_PAGE = 1000

Memo = dict[str, tuple[int, int]]  # name → (size, mtime_ns) of a file the storage already has


def _all_files(files: RunFiles, run_id: str) -> Iterable[RunFile]:
    offset = 0
    while page := files.list_files(run_id, _LIST_PAGE, offset):
        yield from page
        offset += len(page)


def _signature(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def materialise(files: RunFiles, run_id: str, folder: Path, *, refresh: bool = True) -> Memo:
    """Copy into `folder` each stored file of the run that it lacks or (with `refresh`) holds different;
    returns the memo of the files now identical on both sides (what `Shipper` need not send back).

    Without `refresh`, files present are never touched: what a process may do before it holds the run's
    lease, when another process of this machine may be executing the run in this very folder.
    """
    memo: Memo = {}
    if files.shared_folder:
        return memo
    for stored in _all_files(files, run_id):
        if stored.path == LOG_NAME:
            continue
        target = folder / stored.path
        present = target.is_file() and not target.is_symlink()
        if present and not refresh:
            continue
        same = (present and target.stat().st_size == stored.size
                and _digest(files, run_id, stored) in (None, file_sha256(target)))
        if not same:
            _write(target, files, run_id, stored.path)
        memo[stored.path] = _signature(target)
    return memo


def _digest(files: RunFiles, run_id: str, stored: RunFile) -> str | None:
    """The stored file's SHA-256: from the listing, else asked for (a bucket lists no metadata)."""
    if stored.sha256 is not None:
        return stored.sha256
    found = files.stat(run_id, stored.path)
    return found.sha256 if found else None


def _write(target: Path, files: RunFiles, run_id: str, name: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as out:
            for piece in files.chunks(run_id, name):
                out.write(piece)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def map_inputs(values: dict[str, Any], file_inputs: Iterable[str], run_id: str, folder: Path) -> dict[str, Any]:
    """The recorded inputs with each file input that names a file of this run (`<any home>/runs/<run_id>/
    inputs/f/gl.xlsx`, as the server recorded it) pointed at the same name in this process's run folder."""
    out = dict(values)
    for name in file_inputs:
        value = out.get(name)
        if isinstance(value, str) and (relative := run_relative(run_id, value)) is not None:
            out[name] = str(folder / relative)
    return out


class Shipper:
    """Sends a run folder's new log lines and new or changed files to the storage, every `every` seconds
    in a thread and once more when the `with` block ends (after the run closed its log)."""

    def __init__(self, files: RunFiles, run_id: str, folder: Path, memo: Memo | None = None,
                 every: float = SHIP_SECONDS) -> None:
        self.files, self.run_id, self.folder, self.every = files, run_id, folder, every
        self.memo: Memo = dict(memo or {})
        self._refused: set[str] = set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Shipper:
        if not self.files.shared_folder:
            self._thread = threading.Thread(target=self._loop, name=f"ship-{self.run_id}", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(60)
        self._ship_quietly(final=True)

    @contextlib.contextmanager
    def before_final_status(self) -> Iterator[None]:
        """A run resource whose closing ships everything the run wrote, before its final status is recorded;
        a failure is logged, never raised (the run's status must still be recorded)."""
        try:
            yield None
        finally:
            if self._thread is not None:
                self._ship_quietly(final=False)

    def _ship_quietly(self, final: bool) -> None:
        try:
            self.ship()
        except Exception:  # the storage is unreachable: say loudly what was not shipped, with the traceback
            log.exception("storage.ship_failed", run_id=self.run_id, storage=self.files.description, final=final)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.ship()
            except Exception:  # the storage is unreachable for now: next time
                log.exception("storage.ship_failed", run_id=self.run_id, storage=self.files.description)

    def ship(self) -> None:
        """Send what is new now (log lines first, then files)."""
        with self._lock:
            self._ship_log()
            self._ship_files()

    def _ship_log(self) -> None:
        path, mark = self.folder / LOG_NAME, self.folder / SHIPPED_MARK
        if not path.is_file():
            return
        done = int(mark.read_text() or 0) if mark.is_file() else 0
        with path.open("rb") as fh:
            fh.seek(done)
            data = fh.read()
        end = data.rfind(b"\n") + 1  # complete lines only; the rest goes next time
        if end == 0:
            return
        lines = data[:end].decode("utf-8", "replace").split("\n")[:-1]
        self.files.append_log(self.run_id, lines)
        mark.write_text(str(done + end))

    def _ship_files(self) -> None:
        for folder, _dirs, names in os.walk(self.folder):
            here = Path(folder)
            for file_name in names:
                path = here / file_name
                name = path.relative_to(self.folder).as_posix()
                if name in (LOG_NAME, SHIPPED_MARK) or file_name.startswith(".part-") or path.is_symlink():
                    continue
                self._ship_file(path, name)

    def _ship_file(self, path: Path, name: str) -> None:
        try:
            signature = _signature(path)
        except OSError:  # removed meanwhile
            return
        if self.memo.get(name) == signature or name in self._refused:
            return
        try:
            self.files.put(self.run_id, name, path)
        except RunFileError as exc:  # a name or size the storage refuses: said once, the rest goes on
            self._refused.add(name)
            log.error("storage.file_refused", run_id=self.run_id, file=name[:200], error=str(exc))
            return
        self.memo[name] = signature
