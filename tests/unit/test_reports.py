"""Reports as shown: rates never rounded to 100 % by mistake, totals from the unrounded minutes."""

from __future__ import annotations

from robocore import reports
from robocore.ledger import Figures, HoursSaved, LedgerLine


def test_a_rate_reads_100_percent_only_when_every_one_succeeded() -> None:
    """9,995 done of 10,000 shows 99.9 %, 1 of 10,000 shows 0.1 %; nothing attempted shows no rate."""
    assert reports.shown_rate(9995, 10000) == 0.999
    assert reports.shown_rate(10000, 10000) == 1.0
    assert reports.shown_rate(1, 10000) == 0.001
    assert reports.shown_rate(0, 3) == 0.0
    assert reports.shown_rate(3, 7) == 0.429
    assert reports.shown_rate(0, 0) is None


def test_the_total_is_rounded_from_the_exact_total_not_summed() -> None:
    """Three groups of 0.4 min show 0.01 h each, and the total shows 0.02 h (1.2 min), not 0.03 h."""
    lines = tuple(LedgerLine(f"P{n}", Figures(minutes=0.4, items_done=1)) for n in range(3))
    shown = reports.present(HoursSaved("process", None, None, lines), annual_hours=1607)
    assert [line.hours for line in shown.lines] == [0.01, 0.01, 0.01]
    assert (shown.total.group, shown.total.hours, shown.total.items) == ("Total", 0.02, 3)
    assert abs(shown.total.minutes - 1.2) < 1e-12


def test_a_line_keeps_items_and_runs_apart() -> None:
    """Item success is done / (done + business + application errors); run success is succeeded / finished."""
    figures = Figures(minutes=90, items_done=9, business_errors=1, application_errors=0, runs_finished=2,
                      runs_succeeded=1, runs_with_errors=1)
    line = reports.ReportLine.of("P", figures, annual_hours=1607)
    assert (line.items_attempted, line.item_success_rate, line.run_success_rate) == (10, 0.9, 0.5)
    assert (line.hours, line.fte, line.items, line.runs, line.success_rate) == (1.5, round(1.5 / 1607, 3), 9, 2, 0.5)


def test_groups_without_a_process_are_named() -> None:
    """Entries of robots counted against no process or service show under a French label."""
    saved = HoursSaved("service", None, None, (LedgerLine(None, Figures(items_done=1)),))
    assert reports.present(saved).lines[0].group == "(sans service)"
