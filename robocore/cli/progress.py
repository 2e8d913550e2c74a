"""A rich progress bar per for_each: done, failed, remaining, rate (its unit in the active language)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from robocore.i18n import gettext as _
from robocore.statuses import ItemStatus


class BarProgress:
    """Implements the engine's Progress protocol with one rich bar per loop."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("[green]✔ {task.fields[done]}[/] [red]✘ {task.fields[failed]}[/]"),
                            TextColumn("{task.fields[rate]}"), TimeRemainingColumn(),
                            console=console, transient=False)
        self.tasks: dict[str, Any] = {}
        self.stats: dict[str, dict[str, float]] = {}

    def __enter__(self) -> BarProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def block_started(self, block: str, total: int, already: int) -> None:
        import time

        self.stats[block] = {"done": 0, "failed": 0, "t0": time.perf_counter(), "n": 0}
        self.tasks[block] = self.bar.add_task(block, total=total, completed=already, done=0, failed=0, rate="")

    def item_finished(self, block: str, key: str, status: ItemStatus) -> None:
        import time

        st = self.stats[block]
        st["n"] += 1
        st["done" if status is ItemStatus.DONE else "failed"] += 1
        elapsed = max(time.perf_counter() - st["t0"], 1e-6)
        self.bar.update(self.tasks[block], advance=1, done=int(st["done"]), failed=int(st["failed"]),
                        rate=_("{rate:.1f} items/s", rate=st["n"] / elapsed))

    def block_finished(self, block: str) -> None:
        self.bar.refresh()
