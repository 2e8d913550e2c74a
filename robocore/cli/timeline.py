"""A run's timeline on the console: each step execution (start, step, item, duration, status), then
the time per step. Shown by `robo logs RUN` and at the end of `robo run --debug`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from robocore.i18n import current, lazy_pgettext, ngettext, render
from robocore.i18n import gettext as _
from robocore.statuses import StepStatus

if TYPE_CHECKING:
    from rich.console import Console

    from robocore.store import StepEvent

STATUS = {StepStatus.DONE: ("green", lazy_pgettext("step status", "done")),
          StepStatus.FAILED: ("red", lazy_pgettext("step status", "failed"))}
LIMIT = 200  # rows shown by default: a 1,000-item run has thousands of step executions


def seconds(ms: float) -> str:
    """`0,512 s`, `12,3 s`, `2 min 05 s` (a decimal comma in French)."""
    if ms >= 60_000:
        minutes, rest = divmod(round(ms / 1000), 60)
        return f"{minutes} min {rest:02d} s"
    text = f"{ms / 1000:.3f}" if ms < 10_000 else f"{ms / 1000:.1f}"
    return (text if current() == "en" else text.replace(".", ",")) + " s"


def _status(status: str) -> str:
    if status not in STATUS:  # a StrEnum key is found by its text
        return escape(str(status))
    style, words = STATUS[StepStatus(status)]
    return f"[{style}]{render(words)}[/]"


def print_timeline(console: Console, events: Sequence[StepEvent], limit: int | None = LIMIT) -> None:
    """The run's step executions in the order they started, at most `limit` (None: all), then per step."""
    if not events:
        console.print(_("No step recorded for this run."))
        return
    ordered = sorted(events, key=lambda e: (e.at, e.id))
    origin = ordered[0].at
    shown = ordered if limit is None else ordered[:limit]
    table = Table(_("Start"), _("Step"), _("Item"), _("Duration"), _("Status"), _("Message"),
                  title=_("Timeline"))
    for event in shown:
        offset = (event.at - origin).total_seconds() * 1000
        table.add_row(f"+{seconds(offset)}", escape(event.step), escape(event.item_key or "—"),
                      seconds(event.duration_ms), _status(event.status), escape((event.message or "")[:120]))
    console.print(table)
    if len(shown) < len(ordered):
        console.print(ngettext("… and {n} more step (robo logs RUN_ID --all)",
                               "… and {n} more steps (robo logs RUN_ID --all)", len(ordered) - len(shown)))
    print_step_totals(console, ordered)


def print_step_totals(console: Console, events: Sequence[StepEvent]) -> None:
    """Per step: how many times it ran, how many failed, its total, mean and longest duration."""
    by_step: dict[str, list[StepEvent]] = {}
    for event in events:
        by_step.setdefault(event.step, []).append(event)
    table = Table(_("Step"), _("Runs"), _("Failures"), _("Total"), _("Mean"), _("Longest"), title=_("Time per step"))
    for step, runs in sorted(by_step.items(), key=lambda kv: -sum(e.duration_ms for e in kv[1])):
        total = sum(e.duration_ms for e in runs)
        failed = sum(1 for e in runs if e.status == StepStatus.FAILED)
        table.add_row(escape(step), str(len(runs)), str(failed), seconds(total), seconds(total / len(runs)),
                      seconds(max(e.duration_ms for e in runs)))
    console.print(table)
