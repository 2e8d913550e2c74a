"""Run files (uploads, outputs, evidence) and run logs where every process of a deployment sees them.

`open_run_files(store)` gives the backend `ROBOCORE_STORAGE` names: `local` (the data folder's run
folders, the embedded default: zero copy), `database` (the store), `s3://bucket/prefix` (not built yet).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from robocore.errors import SettingsError
from robocore.i18n import gettext as _
from robocore.storage.base import MAX_FILE_BYTES, MAX_LIST, LogPage, RunFile, RunFiles
from robocore.storage.names import LOG_NAME, RunFileError, RunFileMissing, check_name, run_relative

if TYPE_CHECKING:
    from robocore.store import Store

__all__ = ["LOG_NAME", "MAX_FILE_BYTES", "MAX_LIST", "LogPage", "RunFile", "RunFileError", "RunFileMissing",
           "RunFiles", "check_name", "open_run_files", "run_relative"]


def open_run_files(store: Store, storage: str | None = None) -> RunFiles:
    """The run files backend of `storage` (default: ROBOCORE_STORAGE); `database` uses `store`."""
    from robocore import settings

    kind = storage or settings.get_settings().storage
    if kind == "local":
        from robocore.storage.local import LocalRunFiles

        return LocalRunFiles(settings.home() / "runs")
    if kind == "database":
        from robocore.storage.database import DatabaseRunFiles

        return DatabaseRunFiles(store)
    if kind.startswith("s3://"):
        from robocore.storage.s3 import S3RunFiles

        return S3RunFiles(kind, settings.get_settings().s3_endpoint_url)
    raise SettingsError(_("ROBOCORE_STORAGE={value}: “local”, “database” or “s3://bucket/prefix” expected",
                          value=repr(kind[:60])), variables=("ROBOCORE_STORAGE",))
