"""Run files and log lines in the store (ROBOCORE_STORAGE=database): the SQL of `robocore.storage.database`.

A file is one `run_files` row (run, run-relative path, size) and its bytes in `run_file_chunks`
of at most CHUNK_BYTES each: a file is written while it is read from disk, and read back one
chunk per statement, so neither side ever holds a 20 MB blob in one piece. Log lines are rows
numbered from 1 per run; their `size` (UTF-8 bytes with the newline) makes the log's size exact.
Paths are checked by the caller (`robocore.storage.names`): the store keeps what it is given.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Row, bindparam, delete, func, insert, select, update

from robocore.store.models import run_file_chunks as CHUNKS
from robocore.store.models import run_files as FILES
from robocore.store.models import run_log_lines as LOG_LINES
from robocore.store.models import utcnow

CHUNK_BYTES = 1024 * 1024
_CHUNK = select(CHUNKS.c.data).where(CHUNKS.c.file_id == bindparam("f"), CHUNKS.c.seq == bindparam("s"))


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file of a run kept in the store."""

    path: str
    size: int
    sha256: str
    updated_at: dt.datetime


_INFO = select(FILES.c.path, FILES.c.size, FILES.c.sha256, FILES.c.updated_at)


def _stored(row: Row[Any, Any, Any, Any]) -> StoredFile:
    return StoredFile(row.path, int(row.size), row.sha256, row.updated_at)


def _rechunk(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """The same bytes in pieces of exactly `size` (the last one shorter), whatever pieces come in."""
    pending = bytearray()
    for chunk in chunks:
        pending += chunk
        while len(pending) >= size:
            yield bytes(pending[:size])
            del pending[:size]
    if pending:
        yield bytes(pending)


class RunFilesMixin:
    """The Store's run files and run log lines."""

    engine: Engine

    def put_run_file(self, run_id: str, path: str, chunks: Iterable[bytes], max_bytes: int) -> int:
        """Store (or replace) a run's file from its bytes as they come; returns its size.

        Raises ValueError, with nothing stored, when more than `max_bytes` come.
        """
        size = seq = 0
        digest = hashlib.sha256()
        with self.engine.begin() as conn:
            self._delete_files(conn, run_id, path)
            created = conn.execute(insert(FILES).values(run_id=run_id, path=path, size=0, chunks=0, sha256="",
                                                        updated_at=utcnow()))
            file_id = created.inserted_primary_key[0]  # type: ignore[index]
            for piece in _rechunk(chunks, CHUNK_BYTES):
                size += len(piece)
                if size > max_bytes:
                    raise ValueError(f"{path} : plus de {max_bytes} octets / more than {max_bytes} bytes")
                digest.update(piece)
                conn.execute(insert(CHUNKS).values(file_id=file_id, seq=seq, data=piece))
                seq += 1
            conn.execute(update(FILES).where(FILES.c.id == file_id)
                         .values(size=size, chunks=seq, sha256=digest.hexdigest()))
        return size

    def run_file(self, run_id: str, path: str) -> StoredFile | None:
        """A run's file by its path, or None."""
        with self.engine.begin() as conn:
            row = conn.execute(_INFO.where(FILES.c.run_id == run_id, FILES.c.path == path)).first()
        return _stored(row) if row else None

    def run_file_bytes(self, run_id: str, path: str) -> Iterator[bytes] | None:
        """A run's file as its chunks, one statement each; None when it is absent.

        Raises FileNotFoundError while iterating when the file was replaced or deleted meanwhile.
        """
        query = select(FILES.c.id, FILES.c.chunks).where(FILES.c.run_id == run_id, FILES.c.path == path)
        with self.engine.begin() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return self._chunks(int(row.id), int(row.chunks), path)

    def _chunks(self, file_id: int, count: int, path: str) -> Iterator[bytes]:
        for seq in range(count):
            with self.engine.begin() as conn:
                data = conn.execute(_CHUNK, {"f": file_id, "s": seq}).scalar()
            if data is None:
                raise FileNotFoundError(f"{path} : remplacé ou supprimé pendant la lecture / "
                                        "replaced or deleted while read")
            yield bytes(data)

    def run_file_list(self, run_id: str, limit: int, offset: int = 0) -> list[StoredFile]:
        """A run's files in path order, `limit` of them from `offset`."""
        query = _INFO.where(FILES.c.run_id == run_id).order_by(FILES.c.path).limit(limit).offset(offset)
        with self.engine.begin() as conn:
            return [_stored(r) for r in conn.execute(query)]

    def run_files_before(self, run_id: str, path: str) -> int:
        """How many of a run's files come before `path` in the order `run_file_list` gives."""
        query = select(func.count()).where(FILES.c.run_id == run_id, FILES.c.path < path)
        with self.engine.begin() as conn:
            return int(conn.execute(query).scalar_one())

    def delete_run_files(self, run_id: str, path: str | None = None) -> int:
        """Delete one file of a run, or (path None) all its files and log lines; returns the files deleted."""
        with self.engine.begin() as conn:
            deleted = self._delete_files(conn, run_id, path)
            if path is None:
                conn.execute(delete(LOG_LINES).where(LOG_LINES.c.run_id == run_id))
        return deleted

    @staticmethod
    def _delete_files(conn: Connection, run_id: str, path: str | None) -> int:
        chosen = select(FILES.c.id).where(FILES.c.run_id == run_id)
        if path is not None:
            chosen = chosen.where(FILES.c.path == path)
        ids = list(conn.execute(chosen).scalars())
        if ids:
            conn.execute(delete(CHUNKS).where(CHUNKS.c.file_id.in_(ids)))
            conn.execute(delete(FILES).where(FILES.c.id.in_(ids)))
        return len(ids)

    def append_log_lines(self, run_id: str, lines: list[str]) -> int:
        """Add lines (without their newline) after a run's last one; returns the number of the last line."""
        with self.engine.begin() as conn:
            last = int(conn.execute(select(func.coalesce(func.max(LOG_LINES.c.seq), 0))
                                    .where(LOG_LINES.c.run_id == run_id)).scalar_one())
            if lines:
                conn.execute(insert(LOG_LINES), [
                    {"run_id": run_id, "seq": last + n, "line": line, "size": len(line.encode("utf-8")) + 1}
                    for n, line in enumerate(lines, start=1)])
        return last + len(lines)

    def log_lines(self, run_id: str, offset: int, limit: int) -> list[str]:
        """Up to `limit` of a run's log lines after the first `offset` ones."""
        query = (select(LOG_LINES.c.line).where(LOG_LINES.c.run_id == run_id, LOG_LINES.c.seq > offset)
                 .order_by(LOG_LINES.c.seq).limit(limit))
        with self.engine.begin() as conn:
            return list(conn.execute(query).scalars())

    def log_size(self, run_id: str) -> tuple[int, int]:
        """How many log lines a run has, and their size in bytes (as a log.jsonl file)."""
        query = select(func.count(), func.coalesce(func.sum(LOG_LINES.c.size), 0)).where(
            LOG_LINES.c.run_id == run_id)
        with self.engine.begin() as conn:
            count, size = conn.execute(query).one()
        return int(count), int(size)
