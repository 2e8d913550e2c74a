"""`robo purge --older-than DAYS [--dry-run]`: old finished runs lose their detail, never their hours saved.

What a purged run keeps and loses in the store is decided in `robocore.store.purge`; here its files
(uploads, outputs, evidence, log) are deleted first, wherever ROBOCORE_STORAGE keeps them
(`robocore.storage`), with this machine's working copy of the run folder, then the store forgets the
run's detail. A purge stopped half-way leaves runs not yet marked, which the next purge finishes:
deleting files already gone is not an error.
"""

import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from robocore.errors import RobocoreError
from robocore.i18n import N_, ngettext
from robocore.i18n import gettext as _

if TYPE_CHECKING:
    from robocore.storage import RunFiles
    from robocore.store import Store

console = Console()
err = Console(stderr=True)
_PAGE = 1000


@dataclass(frozen=True)
class PurgeResult:
    """What a purge removed (or, in a dry run, would remove)."""

    runs: int
    events: int
    files: int
    bytes: int
    dry_run: bool


def _files_of(files: "RunFiles", run_id: str) -> tuple[int, int]:
    """How many files (log included) a run has in the storage, and their bytes."""
    count = size = 0
    while page := files.list_files(run_id, limit=_PAGE, offset=count):
        count += len(page)
        size += sum(f.size for f in page)
        if len(page) < _PAGE:
            break
    return count, size


def purge_runs(store: "Store", older_than_days: float, *, dry_run: bool = False, files: "RunFiles | None" = None,
               runs_root: Path | None = None) -> PurgeResult:
    """Purge the runs finished more than `older_than_days` ago (never queued or running ones).

    Args:
        files: where run files are kept (default: ROBOCORE_STORAGE's backend).
        runs_root: this machine's run folders (default `<ROBOCORE_HOME>/runs`), working copies removed too.
    """
    from robocore import settings
    from robocore.storage import open_run_files
    from robocore.store import utcnow

    files = files or open_run_files(store)
    runs_root = runs_root or settings.home() / "runs"
    cutoff = utcnow() - timedelta(days=older_than_days)
    found = store.purge_candidates(cutoff)
    counted = [_files_of(files, run_id) for run_id in found.run_ids]
    total_files, total_bytes = sum(n for n, _ in counted), sum(b for _, b in counted)
    if dry_run:
        return PurgeResult(found.runs, found.events, total_files, total_bytes, dry_run=True)
    note = _("purged on {day} (finished before {cutoff} UTC)", day=utcnow().strftime("%Y-%m-%d"),
             cutoff=cutoff.strftime("%Y-%m-%d %H:%M"))
    purged = 0
    for run_id in found.run_ids:
        files.delete(run_id)
        if (runs_root / run_id).is_dir():  # a working copy on this machine (storage elsewhere)
            shutil.rmtree(runs_root / run_id)
        purged += store.purge_run(run_id, note)
    return PurgeResult(purged, found.events, total_files, total_bytes, dry_run=False)


def _size(size: int) -> str:
    """Bytes in the active language's units: « 12,3 Mo », « 45 ko » in French, "12.3 MB", "45 kB" in English."""
    from robocore.i18n import current

    if size < 100_000:
        return _("{size} kB", size=f"{size / 1000:.0f}")
    megabytes = f"{size / 1_000_000:.1f}"
    return _("{size} MB", size=megabytes if current() == "en" else megabytes.replace(".", ","))


def purge(older_than: Annotated[float, typer.Option(
              "--older-than", min=1, help=N_("Purge the runs finished more than DAYS days ago"), metavar="DAYS")],
          dry_run: Annotated[bool, typer.Option("--dry-run", help=N_("Count, delete nothing"))] = False) -> None:
    """`robo purge`: old finished runs lose their detail (files, events), never their hours saved."""
    from robocore import settings
    from robocore.store import Store

    try:
        store = Store(settings.database_url())
        try:
            result = purge_runs(store, older_than, dry_run=dry_run)
        finally:
            store.close()
    except (RobocoreError, OSError) as exc:
        title = _("Error")
        err.print(f"[bold red]{title}[/] : {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(summary(result, older_than), highlight=False, soft_wrap=True)


def summary(result: PurgeResult, older_than: float) -> str:
    """What a purge did (or would do), in the active language; the hours saved are always kept."""
    days = ngettext("{n} day", "{n} days", int(older_than)) if older_than == int(older_than) else f"{older_than:g}"
    events = ngettext("{n} event", "{n} events", result.events)
    files = ngettext("{n} file", "{n} files", result.files)
    if result.dry_run:
        return ngettext("{n} run finished more than {days} ago would be purged: {events}, {files} ({size}); "
                        "hours saved kept",
                        "{n} runs finished more than {days} ago would be purged: {events}, {files} ({size}); "
                        "hours saved kept", result.runs, days=days, events=events, files=files,
                        size=_size(result.bytes))
    return ngettext("{n} run finished more than {days} ago purged: {events}, {files} ({size}); hours saved kept",
                    "{n} runs finished more than {days} ago purged: {events}, {files} ({size}); hours saved kept",
                    result.runs, days=days, events=events, files=files, size=_size(result.bytes))


def register(app: typer.Typer) -> None:
    """Add `robo purge` to the CLI."""
    app.command("purge", help=N_("Purge old finished runs: their detail goes, their hours saved stay."))(purge)
