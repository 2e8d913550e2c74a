"""`RunFiles`: the one interface to a run's files (uploads, outputs, evidence) and its log lines."""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK_BYTES = 1024 * 1024
MAX_FILE_BYTES = 200 * 1024 * 1024   # one run file, whatever the backend (an upload is bounded lower)
MAX_LIST = 5000                       # most files one listing returns (pages through limit/offset)

Source = bytes | BinaryIO | Path


@dataclass(frozen=True, slots=True)
class RunFile:
    """A file of a run, by its run-relative name (`evidence/N-2/echec.png`), with its size and,
    where the backend keeps it, its SHA-256 (hex)."""

    path: str
    size: int
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class LogPage:
    """Log lines (JSON text, without newline) after `offset`; read again from `next_offset` to follow."""

    lines: list[str]
    next_offset: int


def read_chunks(source: Source, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The bytes of a source in pieces of at most `size`."""
    if isinstance(source, bytes):
        for start in range(0, len(source), size):
            yield source[start:start + size]
        return
    if isinstance(source, Path):
        with source.open("rb") as fh:
            yield from read_chunks(fh, size)
        return
    while piece := source.read(size):
        yield piece


def file_sha256(path: Path) -> str:
    """The SHA-256 (hex) of a local file, read in chunks."""
    digest = hashlib.sha256()
    for piece in read_chunks(path):
        digest.update(piece)
    return digest.hexdigest()


class RunFiles(abc.ABC):
    """A run's files and log lines, wherever the deployment keeps them.

    Names are run-relative (`inputs/classeur/gl.xlsx`) and checked by `names.check_name`: a name
    leaving the run, absolute, or over the length bounds raises RunFileError; a file over
    `max_file_bytes` too, with nothing kept. `log.jsonl` is the log: appended with `append_log`,
    read with `read_log`, listed and downloadable like a file.
    """

    #: True when the files *are* the data folder's run folders (`local`): nothing to copy or ship.
    shared_folder: bool = False
    max_file_bytes: int = MAX_FILE_BYTES

    @property
    @abc.abstractmethod
    def description(self) -> str:
        """Where the files are, for logs and errors (no credential)."""

    @abc.abstractmethod
    def put(self, run_id: str, name: str, source: Source) -> int:
        """Store (or replace) a run's file; returns its size in bytes."""

    @abc.abstractmethod
    def chunks(self, run_id: str, name: str) -> Iterator[bytes]:
        """A run's file in pieces; raises RunFileMissing (at the call) when it is absent."""

    @abc.abstractmethod
    def stat(self, run_id: str, name: str) -> RunFile | None:
        """A run's file (its size), or None."""

    @abc.abstractmethod
    def list_files(self, run_id: str, limit: int = 1000, offset: int = 0) -> list[RunFile]:
        """A run's files in name order, at most `limit` (≤ MAX_LIST) of them from `offset`."""

    @abc.abstractmethod
    def delete(self, run_id: str, name: str | None = None) -> None:
        """Delete one file of a run, or (name None) all its files and its log."""

    @abc.abstractmethod
    def append_log(self, run_id: str, lines: Sequence[str]) -> int:
        """Add log lines (without newline) at the end of a run's log; returns its number of lines."""

    @abc.abstractmethod
    def read_log(self, run_id: str, offset: int = 0, limit: int = 1000) -> LogPage:
        """Up to `limit` complete log lines after the first `offset` ones."""

    def local_path(self, run_id: str, name: str) -> Path | None:
        """The file on this machine's disk when the backend keeps it there (served as is), else None."""
        return None

    def get(self, run_id: str, name: str) -> bytes:
        """A run's whole file (small files: tests, inputs); raises RunFileMissing."""
        return b"".join(self.chunks(run_id, name))
