"""`database` run files: files and log lines in the store (PostgreSQL for a deployment), seen by every
process that reaches the store, wherever its data folder is. The SQL is `robocore.store.run_files`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from robocore.i18n import gettext as _
from robocore.i18n import lazy_gettext as _l
from robocore.storage.base import MAX_LIST, LogPage, RunFile, RunFiles, Source, read_chunks
from robocore.storage.local import too_large
from robocore.storage.names import LOG_NAME, RunFileError, RunFileMissing, check_name, check_run_id
from robocore.store import Store

LOG_PAGE = 1000  # log lines fetched per statement when the log is downloaded as a file


class DatabaseRunFiles(RunFiles):
    """Run files kept by the Store."""

    def __init__(self, store: Store, max_file_bytes: int | None = None) -> None:
        self.store = store
        if max_file_bytes is not None:
            self.max_file_bytes = max_file_bytes

    @property
    def description(self) -> str:
        return f"database:{self.store.dialect}"

    def put(self, run_id: str, name: str, source: Source) -> int:
        check_run_id(run_id)
        check_name(name)
        if name == LOG_NAME:
            raise RunFileError(_l("{name} is the log: use append_log", name=LOG_NAME))
        try:
            return self.store.put_run_file(run_id, name, read_chunks(source), self.max_file_bytes)
        except ValueError:
            raise too_large(name, self.max_file_bytes) from None

    def chunks(self, run_id: str, name: str) -> Iterator[bytes]:
        check_run_id(run_id)
        check_name(name)
        if name == LOG_NAME:
            if self.store.log_size(run_id)[0] == 0:
                raise self._missing(run_id, name)
            return self._log_bytes(run_id)
        found = self.store.run_file_bytes(run_id, name)
        if found is None:
            raise self._missing(run_id, name)
        return found

    @staticmethod
    def _missing(run_id: str, name: str) -> RunFileMissing:
        return RunFileMissing(_("file not found in the run {run_id}: {name}", run_id=run_id, name=repr(name)))

    def _log_bytes(self, run_id: str) -> Iterator[bytes]:
        offset = 0
        while lines := self.store.log_lines(run_id, offset, LOG_PAGE):
            offset += len(lines)
            yield "".join(line + "\n" for line in lines).encode("utf-8")

    def stat(self, run_id: str, name: str) -> RunFile | None:
        check_run_id(run_id)
        check_name(name)
        if name == LOG_NAME:
            count, size = self.store.log_size(run_id)
            return RunFile(LOG_NAME, size) if count else None
        found = self.store.run_file(run_id, name)
        return RunFile(found.path, found.size, found.sha256) if found else None

    def list_files(self, run_id: str, limit: int = 1000, offset: int = 0) -> list[RunFile]:
        check_run_id(run_id)
        limit = min(limit, MAX_LIST)
        count, size = self.store.log_size(run_id)
        if not count:
            return self._stored(run_id, limit, offset)
        at = self.store.run_files_before(run_id, LOG_NAME)  # the log's place among the files, in name order
        if at < offset:  # listed on an earlier page: every later name moves one place down
            return self._stored(run_id, limit, offset - 1)
        page = self._stored(run_id, limit, offset)
        if at < offset + limit:
            page.insert(at - offset, RunFile(LOG_NAME, size))
        return page[:limit]

    def _stored(self, run_id: str, limit: int, offset: int) -> list[RunFile]:
        return [RunFile(f.path, f.size, f.sha256) for f in self.store.run_file_list(run_id, limit, offset)]

    def delete(self, run_id: str, name: str | None = None) -> None:
        check_run_id(run_id)
        if name is not None:
            check_name(name)
        self.store.delete_run_files(run_id, name)

    def append_log(self, run_id: str, lines: Sequence[str]) -> int:
        return self.store.append_log_lines(check_run_id(run_id), list(lines))

    def read_log(self, run_id: str, offset: int = 0, limit: int = 1000) -> LogPage:
        lines = self.store.log_lines(check_run_id(run_id), offset, limit)
        return LogPage(lines, offset + len(lines))
