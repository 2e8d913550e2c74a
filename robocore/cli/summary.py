"""Rich renderings: a run's summary, the run history, a log, a report, in the active language (robocore.i18n).

Tables never cut a value: in a terminal their cells wrap to its width (ids and dates stay whole), and
written to a file or a pipe they are printed at their natural width, one line per row.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from robocore.i18n import Message, current, lazy_npgettext, lazy_pgettext, ngettext, render
from robocore.i18n import gettext as _
from robocore.statuses import ITEM_FAILED, ItemStatus, RunStatus

if TYPE_CHECKING:
    from robocore.reports import Report
    from robocore.store import Item, Store

RUN_STATUS: dict[str, tuple[str, Message]] = {  # rich style, words
    RunStatus.SUCCEEDED: ("green", lazy_pgettext("run status", "succeeded")),
    RunStatus.COMPLETED_WITH_ERRORS: ("yellow", lazy_pgettext("run status", "completed with errors")),
    RunStatus.FAILED: ("red", lazy_pgettext("run status", "failed")),
    RunStatus.RUNNING: ("cyan", lazy_pgettext("run status", "running / interrupted")),
}


def item_count(status: str, n: int) -> str:
    """`3 faits`, `1 erreur métier`: a count of items in a status, in the active language."""
    words: dict[str, Message] = {
        ItemStatus.DONE: lazy_npgettext("items", "{n} done", "{n} done", n),
        ItemStatus.BUSINESS_ERROR: lazy_npgettext("items", "{n} business error", "{n} business errors", n),
        ItemStatus.APPLICATION_ERROR: lazy_npgettext("items", "{n} technical error", "{n} technical errors", n),
        ItemStatus.SKIPPED: lazy_npgettext("items", "{n} skipped", "{n} skipped", n),
        ItemStatus.PENDING: lazy_npgettext("items", "{n} pending", "{n} pending", n),
        ItemStatus.RUNNING: lazy_npgettext("items", "{n} running", "{n} running", n),
    }
    return render(words[status]) if status in words else f"{n} {status}"


def _status_order(count: tuple[str, int]) -> tuple[int, str]:
    """Items in the order of their statuses' declaration (done first), unknown ones last."""
    order = list(ItemStatus)
    return (order.index(ItemStatus(count[0])) if count[0] in order else len(order), count[0])


def run_status(status: str) -> str:
    """A run's status in words, with its rich colour."""
    style, words = RUN_STATUS.get(status, ("", None))
    return f"[{style}]{render(words)}[/]" if words else str(status)


def fmt_minutes(minutes: float) -> str:
    """'2 h 14 min' style, French."""
    hours, rest = divmod(round(minutes), 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


def table(*headers: str, **options: Any) -> Table:
    """A table whose cells wrap (fold inside long words, such as paths) rather than end in "…"."""
    shown = Table(**options)
    for header in headers:
        shown.add_column(header, overflow="fold")
    return shown


def show(console: Console, shown: Table) -> None:
    """Print a table whole: wrapped to a terminal's width, at its natural width elsewhere (file, pipe)."""
    if console.is_terminal:
        console.print(shown)
        return
    from rich.measure import Measurement
    from rich.segment import Segments

    natural = Measurement.get(console, console.options.update_width(100_000), shown).maximum
    lines = console.render_lines(shown, console.options.update_width(max(natural, console.width)), new_lines=True)
    console.print(Segments(segment for line in lines for segment in line), crop=False)


def print_failures(console: Console, items: list[Item], limit: int = 15) -> None:
    """The failed items of a run: key, kind, message, evidence."""
    failed = [i for i in items if i.status in ITEM_FAILED]
    if not failed:
        return
    shown = table(_("Item"), _("Kind"), _("Message"), _("Evidence"),
                  title=ngettext("Failed item ({n})", "Failed items ({n})", len(failed)))
    for item in failed[:limit]:
        kind = _("business") if item.status is ItemStatus.BUSINESS_ERROR else _("technical")
        shown.add_row(Text(item.key), kind, Text(item.error or ""), Text("\n".join(item.evidence)))
    show(console, shown)
    if len(failed) > limit:
        console.print(ngettext("… and {n} more item (robo logs RUN_ID)", "… and {n} more items (robo logs RUN_ID)",
                               len(failed) - limit))


def print_dropped_traces(console: Console, dropped: dict[str, str]) -> None:
    """The items whose trace (`--trace`) was not kept, and why (the console said it as it happened)."""
    if not dropped:
        return
    console.print(ngettext("Trace not kept ({n}):", "Traces not kept ({n}):", len(dropped)), highlight=False)
    for item, why in dropped.items():
        console.print(_("  • {item}: {why}", item=item, why=why), highlight=False, markup=False)


def print_result(console: Console, result: Any) -> None:
    """A finished (or interrupted) run: status, items per status, duration, agent time saved."""
    shown = table("", "", title=_("Run {run_id} — {robot}", run_id=result.run_id, robot=result.robot),
                  show_header=False)
    shown.add_row(_("Status"), run_status(result.status))
    shown.add_row(_("Items"), ", ".join(item_count(s, n) for s, n in sorted(result.counts.items(), key=_status_order))
                  or _("none"))
    shown.add_row(_("Duration"), f"{_decimal(result.duration_s, 2)} s")
    exact = f"{result.minutes_saved:g}"
    shown.add_row(_("Agent time saved"), f"{fmt_minutes(result.minutes_saved)} "
                  f"({exact if current() == 'en' else exact.replace('.', ',')} min)")
    if result.error:
        shown.add_row(_("Error"), Text(str(result.error), style="red"))  # as written: a path's brackets are no markup
    show(console, shown)
    if result.status == RunStatus.RUNNING:
        console.print(_("Resume: robo resume {run_id}", run_id=result.run_id))


def print_runs(console: Console, store: Store, limit: int, robot: str | None) -> None:
    """The last runs, most recent first: id, robot, start, status, items done, minutes saved, trigger."""
    shown = table(_("Run"), _("Robot"), _("Start (UTC)"), _("Status"), _("Items"), _("Minutes"), _("Trigger"))
    shown.columns[0].no_wrap = shown.columns[2].no_wrap = True  # an id is copied whole (robo logs, robo resume)
    for run in store.list_runs(limit=limit, robot=robot):
        counts = store.counts(run.id)
        done = counts.get(ItemStatus.DONE, 0)
        total = sum(counts.values())
        shown.add_row(run.id, Text(run.robot), f"{run.started_at:%Y-%m-%d %H:%M:%S}",
                      run_status(run.status), f"{done}/{total}",
                      f"{store.run_minutes(run.id):g}", Text(run.trigger))
    show(console, shown)


def print_log(console: Console, path: Path) -> None:
    if not path.exists():
        console.print(_("No log: {path}", path=path))
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        extras = {k: v for k, v in event.items() if k not in ("event", "timestamp", "level", "run_id", "robot")}
        detail = " ".join(f"{k}={v}" for k, v in extras.items())
        console.print(f"{event.get('timestamp', '')[:19]} {event.get('level', ''):7} {event.get('event')} {detail}",
                      highlight=False, markup=False)


_SEPARATORS = {"fr": ("\u202f", ","), "en": (",", ".")}  # thousands, decimal


def _decimal(value: float, digits: int) -> str:
    """A number as the active language writes it: `1 119,50` (narrow no-break space, comma) or `1,119.50`."""
    thousands, point = _SEPARATORS.get(current(), _SEPARATORS["fr"])
    return f"{value:,.{digits}f}".replace(",", "\0").replace(".", point).replace("\0", thousands)


def _share(part: int, whole: int, rate: float | None) -> str:
    """'49/50 · 98,0 %' (100 % only when every one succeeded: see reports.shown_rate)."""
    return f"{part}/{whole} · {_decimal(rate * 100, 1)} %" if rate is not None else f"{part}/{whole}"


def print_report(console: Console, report: Report, period: str) -> None:
    """Hours saved per group, items and runs apart, and the total from the unrounded figures."""
    from rich.markup import escape

    from robocore.reports import label
    attended = report.total.supervision_minutes > 0  # attended runs (robo tray --local): net hours beside
    net_column = [_("Net hours (supervision deducted)")] if attended else []
    shown = table(label(report.by), _("Hours saved"), *net_column, _("FTE"), _("Items succeeded"),
                  _("Business errors"), _("Technical errors"), _("Runs succeeded"),
                  title=_("Hours of manual work saved — {period}", period=period))
    for line in [*report.lines, report.total]:
        style = "bold" if line is report.total else None
        net = [_decimal(line.net_hours, 2)] if attended else []
        shown.add_row(escape(line.group), _decimal(line.hours, 2), *net, _decimal(line.fte, 3),
                      _share(line.items_done, line.items_attempted, line.item_success_rate),
                      str(line.business_errors), str(line.application_errors),
                      _share(line.runs_succeeded, line.runs, line.run_success_rate), style=style)
    show(console, shown)
