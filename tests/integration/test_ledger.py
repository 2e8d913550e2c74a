"""The hours-saved ledger against SQLite and PostgreSQL: recorded once, summed in SQL, items apart from runs."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import DateTime, bindparam, text

from robocore import ledger, reports, runs
from robocore.ledger import GROUPINGS, Figures, Grouping
from robocore.loader import load_robot
from robocore.statuses import ITEM_FAILED, RUN_COMPLETED, RUN_FINAL, ItemStatus, RunStatus
from robocore.store import NewRun, Store

# robot, process, service, minutes per item, minutes per run
ROBOTS = [("saisie", "Instruction des demandes", "DDETS 31", 4.5, 10.0),
          ("controle", "Contrôle des listes", "DDETS 31", 2.0, 0.0),
          ("rappro", "Rapprochement bancaire", "DRFiP Occitanie", 1.5, 20.0),
          ("outil", None, None, 0.0, 0.0)]
MONTHS = [(2025, 10), (2025, 11), (2025, 12), (2026, 1), (2026, 2), (2026, 3)]
D, B, A, S = ItemStatus.DONE, ItemStatus.BUSINESS_ERROR, ItemStatus.APPLICATION_ERROR, ItemStatus.SKIPPED


@dataclass(frozen=True)
class Planned:
    """One run of the generated history, as the test knows it (independently of the store)."""

    run_id: str
    robot: str
    process: str | None
    service: str | None
    per_item: float
    per_run: float
    at: datetime
    items: tuple[ItemStatus, ...]
    status: RunStatus

    def group(self, by: Grouping) -> str | None:
        return {"process": self.process, "service": self.service, "robot": self.robot,
                "month": f"{self.at:%Y-%m}"}[by]

    def figures(self) -> Figures:
        """What this run adds to its group, summed by hand."""
        done = self.items.count(D)
        minutes = 0.0
        if self.process is not None:
            minutes = done * self.per_item + (self.per_run if self.status in RUN_COMPLETED and self.per_run else 0)
        finished = self.status in RUN_FINAL
        return Figures(minutes, done, self.items.count(B), self.items.count(A), int(finished),
                       int(self.status is RunStatus.SUCCEEDED), int(self.status is RunStatus.COMPLETED_WITH_ERRORS))


def _history(seed: int = 7, count: int = 28) -> list[Planned]:
    """Runs of four robots over six months: done, refused, failed and skipped items; every run status."""
    rng = random.Random(seed)
    plans = []
    for n in range(count):
        robot, process, service, per_item, per_run = ROBOTS[n % len(ROBOTS)]
        year, month = MONTHS[rng.randrange(len(MONTHS))]
        at = datetime(2026, 1, 1) if n == 0 else datetime(year, month, rng.randint(1, 28), rng.randint(0, 23))
        items = tuple(rng.choices([D, B, A, S], weights=[75, 10, 8, 7], k=rng.randint(3, 12)))
        status = (RunStatus.FAILED if n % 9 == 4 else RunStatus.CANCELLED if n % 13 == 6
                  else RunStatus.RUNNING if n == 11
                  else RunStatus.COMPLETED_WITH_ERRORS if any(s in ITEM_FAILED for s in items)
                  else RunStatus.SUCCEEDED)
        plans.append(Planned(f"run{n:03d}", robot, process, service, per_item, per_run, at, items, status))
    return plans


def _record(store: Store, version: int, plan: Planned) -> None:
    """Record a run as the engine does (through the ledger module), then date it in its month."""
    store.create_run(NewRun(id=plan.run_id, robot=plan.robot, version_id=version, robot_path="/robots/x",
                            inputs={}, process_name=plan.process, service=plan.service,
                            minutes_per_item=plan.per_item, minutes_per_run=plan.per_run))
    assert store.claim_run(plan.run_id, "test")
    keys = [f"L-{k}" for k in range(len(plan.items))]
    store.add_items(plan.run_id, "lignes", keys)
    run = store.get_run(plan.run_id)
    assert run is not None
    for key, status in zip(keys, plan.items, strict=True):
        store.start_item(plan.run_id, key)
        if status is D:
            assert ledger.record_done(store, plan.run_id, key, run)
        else:
            store.finish_item(plan.run_id, key, status, error=None if status is S else "refusé")
    if plan.status in RUN_COMPLETED:
        ledger.record_run(store, plan.run_id, run)
    if plan.status is not RunStatus.RUNNING:
        store.finish_run(plan.run_id, plan.status)
    stamp = bindparam("t", plan.at, type_=DateTime)  # stored as the store writes timestamps
    with store.engine.begin() as conn:  # the whole run happened at `plan.at`
        for sql in ("UPDATE ledger SET recorded_at = :t WHERE run_id = :r",
                    "UPDATE items SET started_at = :t, finished_at = :t WHERE run_id = :r",
                    "UPDATE runs SET started_at = :t, finished_at = CASE WHEN finished_at IS NULL THEN NULL "
                    "ELSE :t END WHERE id = :r"):
            conn.execute(text(sql).bindparams(stamp, r=plan.run_id))


@pytest.fixture
def history(store_url: str) -> Iterator[tuple[Store, list[Planned]]]:
    """The generated history, recorded in a fresh store."""
    store = Store(store_url)
    version = store.save_robot_version("x", "0" * 64, "robot: x\n")
    plans = _history()
    for plan in plans:
        _record(store, version, plan)
    yield store, plans
    store.close()


def _expected(plans: list[Planned], by: Grouping, start: date | None = None,
              end: date | None = None) -> dict[str | None, Figures]:
    sums: dict[str | None, Figures] = {}
    for plan in plans:
        if (start and plan.at < datetime.combine(start, datetime.min.time())) or \
                (end and plan.at >= datetime.combine(end, datetime.min.time())):
            continue
        sums[plan.group(by)] = sums.get(plan.group(by), Figures()) + plan.figures()
    return {g: f for g, f in sums.items() if f != Figures()}


def _assert_same(got: dict[str | None, Figures], expected: dict[str | None, Figures]) -> None:
    assert set(got) == set(expected)
    for group, figures in expected.items():
        assert got[group].minutes == pytest.approx(figures.minutes, abs=1e-9), group
        assert replace(got[group], minutes=0.0) == replace(figures, minutes=0.0), group


@pytest.mark.parametrize("by", GROUPINGS)
def test_each_grouping_equals_a_sum_by_hand(history: tuple[Store, list[Planned]], by: Grouping) -> None:
    """Minutes, items by outcome and runs by status per group equal an independent Python sum."""
    store, plans = history
    saved = ledger.hours_saved(store, None, None, by)
    _assert_same({line.group: line.figures for line in saved.lines}, _expected(plans, by))


def test_a_period_keeps_start_and_drops_end(history: tuple[Store, list[Planned]]) -> None:
    """Only what happened from start (included, 2026-01-01 00:00 is in) to end (excluded) counts."""
    store, plans = history
    for start, end in ((date(2025, 11, 1), date(2026, 1, 1)), (date(2026, 1, 1), None), (None, date(2025, 12, 1))):
        for by in ("process", "month"):
            saved = ledger.hours_saved(store, start, end, by)
            _assert_same({line.group: line.figures for line in saved.lines}, _expected(plans, by, start, end))


def test_total_is_the_same_whatever_the_grouping(history: tuple[Store, list[Planned]]) -> None:
    """The total comes from unrounded minutes: identical for every grouping, and as shown to the minute."""
    store, plans = history
    totals = {by: ledger.hours_saved(store, None, None, by).total for by in GROUPINGS}
    by_hand = sum((plan.figures() for plan in plans), Figures())
    for total in totals.values():
        assert total.minutes == pytest.approx(by_hand.minutes, abs=1e-9)
        assert replace(total, minutes=0.0) == replace(by_hand, minutes=0.0)
    shown = {by: reports.present(ledger.hours_saved(store, None, None, by)).total for by in GROUPINGS}
    assert len({(line.hours, line.fte, round(line.minutes, 6)) for line in shown.values()}) == 1
    assert shown["month"].hours == round(by_hand.minutes / 60, 2)


def test_an_item_is_recorded_exactly_once(store_url: str) -> None:
    """Recording the same item done twice, even from eight threads at once, writes one entry; a run's too."""
    store = Store(store_url)
    version = store.save_robot_version("x", "0" * 64, "robot: x\n")
    store.create_run(NewRun(id="r1", robot="x", version_id=version, robot_path="/x", inputs={},
                            process_name="P", service="S", minutes_per_item=3.0, minutes_per_run=7.0))
    store.add_items("r1", "b", ["k1", "k2"])
    run = store.get_run("r1")
    assert run is not None
    assert ledger.record_done(store, "r1", "k1", run) is True
    assert ledger.record_done(store, "r1", "k1", run) is False
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(ledger.record_done(store, "r1", "k2", run)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]
    assert ledger.record_run(store, "r1", run) is True
    assert ledger.record_run(store, "r1", run) is False
    assert sorted(r.entry_key for r in store.ledger_rows()) == ["item:r1:k1", "item:r1:k2", "run:r1"]
    assert store.run_minutes("r1") == pytest.approx(3.0 + 3.0 + 7.0)
    store.close()


ROBOT = """\
robot: bareme
process: {{name: Instruction, service: DDETS, manual_minutes_per_item: {item}, manual_minutes_per_run: {run}}}
steps:
  - for_each: ["a", "b", "c"]
    as: k
    key: "{{{{ k }}}}"
    retries: 0
    steps:
      - id: t
        use: files.read_text
        with: {{path: "pret-{{{{ k }}}}.txt", missing_ok: true}}
      - use: flow.fail
        when: "{{{{ not steps.t.exists }}}}"
        with: {{message: "pas encore prêt", kind: application}}
"""


def test_minutes_in_force_are_kept_after_a_baseline_change(store_url: str, tmp_path: Path) -> None:
    """A run keeps the minutes it was recorded with, even resumed after the robot's baseline changed."""
    folder = tmp_path / "bareme"
    folder.mkdir()
    (folder / "robot.yaml").write_text(ROBOT.format(item=4.5, run=10))
    (folder / "pret-a.txt").write_text("ok")
    (folder / "pret-b.txt").write_text("ok")
    store = Store(store_url)
    first = asyncio.run(runs.start(load_robot(folder), store, {}))
    assert first.counts == {D: 2, A: 1}
    (folder / "robot.yaml").write_text(ROBOT.format(item=9, run=20))  # the baseline is measured again
    (folder / "pret-c.txt").write_text("ok")
    second = asyncio.run(runs.start(load_robot(folder), store, {}))
    resumed = asyncio.run(runs.resume(first.run_id, store))
    assert resumed.counts == {D: 3}
    assert store.run_minutes(first.run_id) == pytest.approx(3 * 4.5 + 10)
    assert store.run_minutes(second.run_id) == pytest.approx(3 * 9 + 20)
    [line] = ledger.hours_saved(store, None, None, "process").lines
    assert line.figures.minutes == pytest.approx(3 * 4.5 + 10 + 3 * 9 + 20)
    store.close()


REFUSING = """\
robot: {name}
process: {{name: {name}, service: DDETS, manual_minutes_per_item: 2}}
steps:
  - for_each: "{{{{ range(10) | list }}}}"
    as: n
    key: "L{{{{ n }}}}"
    retries: 0
    steps:
      - use: flow.fail
        when: "{{{{ {fails} }}}}"
        with: {{message: "ligne refusée", kind: {kind}}}
"""


def _run(store: Store, tmp_path: Path, name: str, fails: str, kind: str) -> RunStatus:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "robot.yaml").write_text(REFUSING.format(name=name, fails=fails, kind=kind))
    return RunStatus(asyncio.run(runs.start(load_robot(folder), store, {})).status)


def test_item_success_is_apart_from_run_success(store_url: str, tmp_path: Path) -> None:
    """A run that refused one row, or whose every item failed, shows neither run nor item success at 100 %."""
    store = Store(store_url)
    assert _run(store, tmp_path, "une-ligne-refusee", "n == 3", "business") is RunStatus.COMPLETED_WITH_ERRORS
    assert _run(store, tmp_path, "tout-en-echec", "true", "application") is RunStatus.COMPLETED_WITH_ERRORS
    assert _run(store, tmp_path, "sans-faute", "false", "business") is RunStatus.SUCCEEDED
    shown = {line.group: line for line in reports.present(ledger.hours_saved(store, None, None, "robot")).lines}
    refused, failed, clean = shown["une-ligne-refusee"], shown["tout-en-echec"], shown["sans-faute"]
    assert (refused.items_done, refused.items_attempted, refused.business_errors) == (9, 10, 1)
    assert (refused.item_success_rate, refused.run_success_rate) == (0.9, 0.0)
    assert (failed.items_done, failed.application_errors, failed.item_success_rate) == (0, 10, 0.0)
    assert (failed.runs, failed.runs_with_errors, failed.run_success_rate) == (1, 1, 0.0)
    assert (clean.item_success_rate, clean.run_success_rate, clean.hours) == (1.0, 1.0, round(20 / 60, 2))
    store.close()


def test_migrations_create_the_indexes_the_models_declare(store_url: str) -> None:
    """After migration 0003 the ledger's report indexes match the models: autogenerate finds nothing to do."""
    import warnings

    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    from robocore.store.migrate import compared
    from robocore.store.models import metadata

    store = Store(store_url)
    with store.engine.connect() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLite cannot reflect expression indexes: Alembic says so
        context = MigrationContext.configure(conn, opts={"include_object": compared(conn.dialect.name)})
        assert compare_metadata(context, metadata) == []
        indexes = {index["name"] for index in inspect(conn).get_indexes("ledger")}
        if conn.dialect.name == "sqlite":
            indexes |= set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'")).scalars())
    expected = {"ix_ledger_process_recorded", "ix_ledger_service_recorded", "ix_ledger_robot_recorded"}
    assert expected | ({"ix_ledger_month"} if store.dialect == "sqlite" else set()) <= indexes
    store.close()
