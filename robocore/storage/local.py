"""`local` run files: the run folders of the data folder itself (`<home>/runs/<run_id>/`).

The embedded default, and the zero-copy case: when the server and the workers share that folder
(one machine, or a shared mount), a worker's files are the server's, nothing is copied or shipped.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from robocore.i18n import gettext as _
from robocore.i18n import lazy_gettext as _l
from robocore.storage.base import MAX_LIST, LogPage, RunFile, RunFiles, Source, read_chunks
from robocore.storage.names import LOG_NAME, RunFileError, RunFileMissing, check_name, check_run_id


def too_large(name: str, limit: int) -> RunFileError:
    return RunFileError(_l("file too large {name} (at most {limit} MB)", name=repr(name), limit=limit // (1024 * 1024)))


class LocalRunFiles(RunFiles):
    """Run files under `root` (the data folder's `runs/`), one folder per run."""

    shared_folder = True

    def __init__(self, root: Path, max_file_bytes: int | None = None) -> None:
        self.root = root
        if max_file_bytes is not None:
            self.max_file_bytes = max_file_bytes

    @property
    def description(self) -> str:
        return f"local:{self.root}"

    def folder(self, run_id: str) -> Path:
        """The run's folder (not created)."""
        return self.root / check_run_id(run_id)

    def _existing(self, run_id: str, name: str) -> Path:
        """The file `name` of the run, resolved (symlinks included) inside its folder; else RunFileMissing."""
        check_name(name)
        base = self.folder(run_id)
        try:
            base = base.resolve()
            target = (base / name).resolve()
            if target.is_relative_to(base) and target.is_file():
                return target
        except OSError:  # a name the file system refuses, a loop of links...
            pass
        raise RunFileMissing(_("file not found in the run {run_id}: {name}", run_id=run_id, name=repr(name)))

    def local_path(self, run_id: str, name: str) -> Path | None:
        try:
            return self._existing(run_id, name)
        except RunFileMissing:
            return None

    def put(self, run_id: str, name: str, source: Source) -> int:
        check_name(name)
        if name == LOG_NAME:
            raise RunFileError(_l("{name} is the log: use append_log", name=LOG_NAME))
        target = self.folder(run_id) / name
        if isinstance(source, Path) and target.exists() and source.resolve() == target.resolve():
            size = target.stat().st_size  # already in place: the upload or the worker wrote it here
            if size > self.max_file_bytes:
                raise too_large(name, self.max_file_bytes)
            return size
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for piece in read_chunks(source):
                    size += len(piece)
                    if size > self.max_file_bytes:
                        raise too_large(name, self.max_file_bytes)
                    out.write(piece)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return size

    def chunks(self, run_id: str, name: str) -> Iterator[bytes]:
        return read_chunks(self._existing(run_id, name))

    def stat(self, run_id: str, name: str) -> RunFile | None:
        path = self.local_path(run_id, name)
        return RunFile(name, path.stat().st_size) if path else None

    def list_files(self, run_id: str, limit: int = 1000, offset: int = 0) -> list[RunFile]:
        base = self.folder(run_id)
        names: list[str] = []
        for folder, _dirs, files in os.walk(base):  # links to folders are not followed
            here = Path(folder)
            names += [(here / f).relative_to(base).as_posix() for f in files if not (here / f).is_symlink()]
        chosen = sorted(names)[offset:offset + min(limit, MAX_LIST)]
        out = []
        for name in chosen:
            try:
                out.append(RunFile(name, (base / name).stat().st_size))
            except OSError:  # removed meanwhile
                continue
        return out

    def delete(self, run_id: str, name: str | None = None) -> None:
        if name is None:
            shutil.rmtree(self.folder(run_id), ignore_errors=True)
            return
        check_name(name)
        (self.folder(run_id) / name).unlink(missing_ok=True)

    def append_log(self, run_id: str, lines: Sequence[str]) -> int:
        path = self.folder(run_id) / LOG_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.writelines(line + "\n" for line in lines)
        with path.open("rb") as fh:
            return sum(1 for _ in fh)

    def read_log(self, run_id: str, offset: int = 0, limit: int = 1000) -> LogPage:
        path = self.folder(run_id) / LOG_NAME
        lines: list[str] = []
        if not path.is_file():
            return LogPage(lines, offset)
        with path.open(encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, start=1):
                if number <= offset or not line.endswith("\n"):
                    continue  # a line still being written is sent next time
                if len(lines) >= limit:
                    return LogPage(lines, number - 1)
                lines.append(line.rstrip("\n"))
        return LogPage(lines, offset + len(lines))
