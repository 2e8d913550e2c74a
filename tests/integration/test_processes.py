"""Processes as records, on SQLite and PostgreSQL: created when a robot first names one (once, even by
concurrent workers), edited by engineers only with values checked field by field, the minutes in force
with the robot version that changed them, estimated beside realised hours, the CLI list and set."""

from __future__ import annotations

import asyncio
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import DateTime, Select, bindparam, text
from typer.testing import CliRunner

from robocore import ledger, processes, runs
from robocore.loader import load_robot
from robocore.server import create_app
from robocore.server.auth import create_token
from robocore.statuses import ItemStatus, RunStatus
from robocore.store import NewRun, Store
from robocore.store import process_page as sql
from robocore.store.processes import runs_credited_query
from robocore.store.rows import ProcessStage
from tests.integration.api_support import FakeExecutor, bearer
from tests.integration.test_server_auth import FakeScheduler

HOSTILE = ["<script>alert('x')</script>", 'Dossiers "urgents" l\'été', "=cmd|' /C calc'!A0"]
ROBOT = """\
robot: {robot}
process: {{name: {process}, service: {service}, manual_minutes_per_item: {item}, manual_minutes_per_run: {run}}}
steps:
  - for_each: "{{{{ ['a', 'b', 'c'] }}}}"
    as: k
    key: "{{{{ k }}}}"
    steps:
      - use: flow.log
        with: {{message: "ligne {{{{ k }}}}"}}
"""


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = Store(store_url)
    yield opened
    opened.close()


def _robot(folder: Path, robot: str = "saisie", process: str = "Instruction des demandes",
           service: str = "DDETS 31", item: float = 4.5, run: float = 10) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    quoted = {"process": json.dumps(process, ensure_ascii=False), "service": json.dumps(service, ensure_ascii=False)}
    (folder / "robot.yaml").write_text(ROBOT.format(robot=robot, item=item, run=run, **quoted), encoding="utf-8")
    return folder


# ---- created when a robot first names it ------------------------------------------------
def test_the_first_run_of_a_robot_creates_its_process(store: Store, tmp_path: Path) -> None:
    """Preparing a run of a robot naming an unknown process records it (service from robot.yaml, stage
    production); later runs keep what an engineer has set since."""
    folder = _robot(tmp_path / "saisie")
    assert store.get_process("Instruction des demandes") is None
    runs.prepare(load_robot(folder), store, {})
    record = store.get_process("Instruction des demandes")
    assert record is not None
    assert (record.service, record.stage, record.updated_by) == ("DDETS 31", ProcessStage.PRODUCTION, "robot:saisie")
    assert (record.lab, record.annual_volume, record.goal_hours) == (None, None, None)
    processes.update(store, record.name, {"lab": "Lab Occitanie", "stage": "en étude"}, "ingenieur")
    _robot(folder, service="Autre service")  # the robot now names another service: the record is not rewritten
    runs.prepare(load_robot(folder), store, {})
    again = store.get_process("Instruction des demandes")
    assert again is not None and (again.service, again.lab, again.stage) == ("DDETS 31", "Lab Occitanie",
                                                                           ProcessStage.STUDY)
    assert store.count_processes() == 1


def test_concurrent_first_runs_create_one_process(store_url: str, tmp_path: Path) -> None:
    """Eight workers (each its own connection pool) preparing the first runs of a process at once all
    succeed; one record exists and exactly one worker created it."""
    Store(store_url).close()  # migrated once, as a deployment is before its workers start
    loaded = load_robot(_robot(tmp_path / "saisie"))
    workers = 8
    barrier = threading.Barrier(workers, timeout=30)
    created: list[bool] = []
    errors: list[BaseException] = []

    def worker() -> None:
        store = Store(store_url)
        try:
            barrier.wait()
            created.append(store.ensure_process("Instruction des demandes", "DDETS 31", "robot:saisie"))
            runs.prepare(loaded, store, {})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sorted(created) == [False] * (workers - 1) + [True]
    store = Store(store_url)
    assert store.count_processes() == 1
    assert len(store.list_runs(limit=50)) == workers
    store.close()


# ---- the API ---------------------------------------------------------------------------------
@dataclass
class Api:
    store: Store
    client: TestClient
    engineer: dict[str, str]
    manager: dict[str, str]
    agent: dict[str, str]
    admin: dict[str, str]

    def url(self, name: str) -> str:
        return f"/api/v1/processes/{quote(name, safe='')}"


@pytest.fixture
def api(store: Store, tmp_path: Path) -> Iterator[Api]:
    app = create_app(store, FakeScheduler(), FakeExecutor(), robots_dir=tmp_path / "robots")
    tokens = {role: bearer(create_token(store, f"t-{role}", role)) for role in ("engineer", "manager", "agent",
                                                                                 "admin")}
    with TestClient(app) as client:
        yield Api(store, client, tokens["engineer"], tokens["manager"], tokens["agent"], tokens["admin"])


def test_an_engineer_edits_a_process_through_the_api(api: Api) -> None:
    """PATCH by an engineer sets lab, region, description, volume, goal and stage (code or French label);
    fields left out are kept; GET answers them with the French label; the change names its author."""
    api.store.ensure_process("Contrôle des listes", "DDETS 31", "robot:controle")
    changes = {"lab": "Lab Occitanie", "region": "Occitanie", "description": "Contrôle mensuel",
               "annual_volume": 12000, "goal_hours": 450.5, "stage": "en étude"}
    response = api.client.patch(api.url("Contrôle des listes"), json=changes, headers=api.engineer)
    assert response.status_code == 200, response.text
    body = api.client.get(api.url("Contrôle des listes"), headers=api.manager).json()
    assert {k: body[k] for k in changes} == {**changes, "stage": "study"}
    assert (body["stage_label"], body["service"], body["updated_by"]) == ("en étude", "DDETS 31", "t-engineer")
    response = api.client.patch(api.url("Contrôle des listes"), json={"stage": "production", "region": None},
                                headers=api.admin)
    body = response.json()
    assert (body["stage"], body["stage_label"], body["region"], body["lab"]) == ("production", "en production",
                                                                                 None, "Lab Occitanie")


def test_managers_and_agents_cannot_edit_and_agents_cannot_read(api: Api) -> None:
    """A manager reads processes but gets 403 on PATCH; an agent gets 403 on every process route;
    the record is unchanged."""
    api.store.ensure_process("Contrôle des listes", "DDETS 31", "robot:controle")
    url = api.url("Contrôle des listes")
    assert api.client.get(url, headers=api.manager).status_code == 200
    assert api.client.get("/api/v1/processes", headers=api.manager).status_code == 200
    assert api.client.patch(url, json={"lab": "X"}, headers=api.manager).status_code == 403
    for method, path in (("GET", url), ("GET", "/api/v1/processes"), ("PATCH", url)):
        response = api.client.request(method, path, json={"lab": "X"} if method == "PATCH" else None,
                                      headers=api.agent)
        assert response.status_code == 403, (method, path)
    assert api.store.get_process("Contrôle des listes").lab is None  # type: ignore[union-attr]


@pytest.mark.parametrize(("content", "field", "words"), [
    ('{"annual_volume": -5}', "annual_volume", "positif ou nul"),
    ('{"stage": "abandonné"}', "stage", "étape inconnue « abandonné »"),
    ('{"goal_hours": NaN}', "goal_hours", "nombre fini"),
    ('{"goal_hours": Infinity}', "goal_hours", "nombre fini"),
    ('{"description": "' + "é" * 10_240 + '"}', "description", "trop long : 10240 caractères, 2000 au plus"),
    ('{"name": "Autre nom"}', "name", "inconnu ou non modifiable"),
    ('{"lab": "a\\u0000b"}', "lab", "caractère nul"),
    ('[1, 2]', "corps", "objet JSON est attendu"),
])
def test_bad_values_are_refused_naming_the_field(api: Api, content: str, field: str, words: str) -> None:
    """A negative volume, an unknown stage, NaN or infinite hours, a 10 KB description, the name, a NUL
    character are refused (422) with our French-first message naming the field; nothing changes."""
    api.store.ensure_process("Contrôle des listes", "DDETS 31", "robot:controle")
    response = api.client.patch(api.url("Contrôle des listes"), content=content.encode(), headers={
        **api.engineer, "content-type": "application/json"})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid_process_field"
    assert f"« {field} »" in body["erreur"] and words in body["erreur"], body["erreur"]
    assert len(body["erreur"]) < 300  # a 10 KB value is not echoed back
    record = api.store.get_process("Contrôle des listes")
    assert record is not None and record.updated_by == "robot:controle"


def test_hostile_names_are_stored_and_returned_verbatim(api: Api, tmp_path: Path) -> None:
    """Process, service and lab names with <script>, quotes and a spreadsheet formula are kept and answered
    as they are (JSON), read by name (a slash included) and listed, filtered by service and lab."""
    for n, name in enumerate(HOSTILE):
        runs.prepare(load_robot(_robot(tmp_path / f"r{n}", robot=f"r{n}", process=name, service=HOSTILE[-1 - n])),
                     api.store, {})
        assert api.client.patch(api.url(name), json={"lab": HOSTILE[n]}, headers=api.engineer).status_code == 200
    for n, name in enumerate(HOSTILE):
        body = api.client.get(api.url(name), headers=api.manager).json()
        assert (body["name"], body["service"], body["lab"]) == (name, HOSTILE[-1 - n], HOSTILE[n])
    listed = api.client.get("/api/v1/processes", headers=api.manager).json()
    assert {p["name"] for p in listed["processes"]} == set(HOSTILE) and listed["total"] == 3
    kept = api.client.get("/api/v1/processes", params={"service": HOSTILE[0], "lab": HOSTILE[2]},
                          headers=api.manager).json()
    assert [p["name"] for p in kept["processes"]] == [HOSTILE[2]] and kept["total"] == 1


def test_list_pages_and_filters_by_stage(api: Api) -> None:
    """The list is by name, paged (limit, offset) with the filtered total; stage filters by code; an unknown
    process is a 404 naming it."""
    for n in range(5):
        api.store.ensure_process(f"P{n}", "DDETS", "robot:x")
    processes.update(api.store, "P3", {"stage": "retired"}, "t")
    page = api.client.get("/api/v1/processes", params={"limit": 2, "offset": 1}, headers=api.engineer).json()
    assert [p["name"] for p in page["processes"]] == ["P1", "P2"] and page["total"] == 5
    retired = api.client.get("/api/v1/processes", params={"stage": "retired"}, headers=api.engineer).json()
    assert [(p["name"], p["stage_label"]) for p in retired["processes"]] == [("P3", "retiré")]
    assert api.client.get("/api/v1/processes", params={"limit": 501}, headers=api.engineer).status_code == 422
    missing = api.client.get(api.url("Inconnu"), headers=api.engineer)
    assert missing.status_code == 404 and "« Inconnu »" in missing.json()["erreur"]


def test_an_unknown_process_is_answered_in_the_request_language(api: Api) -> None:
    """The 404 of an unknown process names it in the request's language, French by default, English with
    `Accept-Language: en`; `erreur` and `error` keep both for older clients."""
    french = api.client.get(api.url("Inconnu"), headers=api.engineer)
    english = api.client.get(api.url("Inconnu"), headers={**api.engineer, "Accept-Language": "en"})
    assert french.status_code == english.status_code == 404
    assert french.json() == {"code": "process_not_found", "detail": "processus introuvable « Inconnu »",
                             "erreur": "processus introuvable « Inconnu »", "error": "process not found “Inconnu”"}
    assert english.json()["detail"] == "process not found “Inconnu”"


# ---- minutes in force and their history -------------------------------------------------------
def test_minutes_history_names_the_robot_version_that_changed_them(api: Api, tmp_path: Path) -> None:
    """Two runs at 4.5 min/item and 10 min/run, then the robot's baseline is measured again (9 and 20):
    the history shows two periods, the second from the new robot version, with the minutes it replaced
    and the first ledger entry counted at the new minutes; the minutes in force are the new ones."""
    folder = _robot(tmp_path / "saisie")
    for _ in range(2):
        assert asyncio.run(runs.start(load_robot(folder), api.store, {})).status == RunStatus.SUCCEEDED
    _robot(folder, item=9, run=20)
    second = load_robot(folder)
    changed = asyncio.run(runs.start(second, api.store, {}))
    body = api.client.get(api.url("Instruction des demandes"), headers=api.manager).json()
    first_period, second_period = body["minutes_history"]
    assert (first_period["minutes_per_item"], first_period["minutes_per_run"], first_period["runs"]) == (4.5, 10, 2)
    assert first_period["previous_minutes_per_item"] is None
    assert (second_period["minutes_per_item"], second_period["minutes_per_run"], second_period["runs"]) == (9, 20, 1)
    assert (second_period["previous_minutes_per_item"], second_period["previous_minutes_per_run"]) == (4.5, 10)
    assert second_period["version_sha256"] == second.sha256 != first_period["version_sha256"]
    assert "4,5 → 9" in second_period["reason"] and second.sha256[:12] in second_period["reason"]
    entries = [r for r in api.store.ledger_rows() if r.run_id == changed.run_id]
    assert datetime.fromisoformat(second_period["since"]).replace(tzinfo=None) == min(r.recorded_at for r in entries)
    assert (body["minutes_per_item"], body["minutes_per_run"]) == (9, 20)
    assert body["realised_hours_year"] == pytest.approx((2 * (3 * 4.5 + 10) + 3 * 9 + 20) / 60)


def test_minutes_going_back_to_an_earlier_version_are_a_new_period(store: Store) -> None:
    """Runs at 4.5, then 9, then back to 4.5 (the first robot content again) make three periods."""
    old = store.save_robot_version("a", "1" * 64, "a: 1")
    new = store.save_robot_version("a", "2" * 64, "a: 2")
    for n, (version, minutes) in enumerate([(old, 4.5), (old, 4.5), (new, 9.0), (old, 4.5)]):
        store.create_run(NewRun(id=f"run-{n}", robot="a", version_id=version, robot_path="/r", inputs={},
                                process_name="P", service="S", minutes_per_item=minutes, minutes_per_run=0.0))
        _date(store, f"run-{n}", datetime(2026, 1, 1) + timedelta(days=n))
    history = store.process_minutes_history("P")
    assert [(p.version_id, p.minutes_per_item, p.runs) for p in history] == [(old, 4.5, 2), (new, 9.0, 1),
                                                                               (old, 4.5, 1)]
    assert store.process_minutes_now(["P"]) == {"P": (4.5, 0.0)}


# ---- estimated beside realised -----------------------------------------------------------------
def _date(store: Store, run_id: str, at: datetime) -> None:
    stamp = bindparam("t", at, type_=DateTime)
    with store.engine.begin() as conn:
        for sql in ("UPDATE ledger SET recorded_at = :t WHERE run_id = :r",
                    "UPDATE runs SET started_at = :t, finished_at = :t WHERE id = :r"):
            conn.execute(text(sql).bindparams(stamp, r=run_id))


def _done_run(store: Store, version: int, run_id: str, robot: str, process: str, per_item: float,
              per_run: float, done: int, failed: int, at: datetime) -> None:
    """A finished run with `done` items saved and `failed` refused, as the engine records it, dated `at`."""
    store.create_run(NewRun(id=run_id, robot=robot, version_id=version, robot_path="/r", inputs={},
                            process_name=process, service="DDETS", minutes_per_item=per_item, minutes_per_run=per_run))
    assert store.claim_run(run_id, "test")
    keys = [f"k{n}" for n in range(done + failed)]
    store.add_items(run_id, "lignes", keys)
    run = store.get_run(run_id)
    assert run is not None
    for n, key in enumerate(keys):
        store.start_item(run_id, key)
        if n < done:
            assert ledger.record_done(store, run_id, key, run)
        else:
            store.finish_item(run_id, key, ItemStatus.BUSINESS_ERROR, error="refusé")
    ledger.record_run(store, run_id, run)
    store.finish_run(run_id, RunStatus.COMPLETED_WITH_ERRORS if failed else RunStatus.SUCCEEDED)
    _date(store, run_id, at)


def test_estimated_and_realised_hours_equal_a_computation_by_hand(api: Api) -> None:
    """Runs over 17 months (failed items saving nothing): realised hours this year and over 12 months, and
    the estimate (volume × minutes per item in force + runs of 12 months × minutes per run) ÷ 60, equal sums
    made here from the plan; another process's entries never count."""
    now = datetime.now(UTC).replace(tzinfo=None)
    version = api.store.save_robot_version("saisie", "0" * 64, "robot: saisie")
    plan = [(500, 3.0, 5.0, 4, 1), (380, 3.0, 5.0, 6, 0), (300, 3.0, 5.0, 5, 2), (120, 4.5, 10.0, 7, 0),
            (40, 4.5, 10.0, 2, 3), (2, 4.5, 10.0, 9, 0)]  # days ago, per item, per run, done, failed
    for n, (days, per_item, per_run, done, failed) in enumerate(plan):
        _done_run(api.store, version, f"run-{n}", "saisie", "Instruction", per_item, per_run, done, failed,
                  now - timedelta(days=days, hours=1))
        _done_run(api.store, version, f"other-{n}", "autre", "Autre processus", 60.0, 60.0, 5, 0,
                  now - timedelta(days=days, hours=1))
    api.store.ensure_process("Instruction", "DDETS", "robot:saisie")
    processes.update(api.store, "Instruction", {"annual_volume": 1500}, "t")
    year_start = datetime(now.year, 1, 1)
    at = [now - timedelta(days=days, hours=1) for days, *_ in plan]
    minutes = [done * per_item + per_run for _, per_item, per_run, done, _ in plan]
    realised_year = sum(m for m, when in zip(minutes, at, strict=True) if when >= year_start) / 60
    in_12_months = [when >= now - timedelta(days=365) for when in at]
    realised_12 = sum(m for m, inside in zip(minutes, in_12_months, strict=True) if inside) / 60
    estimated = (1500 * 4.5 + sum(in_12_months) * 10.0) / 60
    body = api.client.get(api.url("Instruction"), headers=api.manager).json()
    assert body["realised_hours_year"] == pytest.approx(realised_year)
    assert body["realised_hours_12_months"] == pytest.approx(realised_12)
    assert body["runs_12_months"] == sum(in_12_months) == 4
    assert body["estimated_hours"] == pytest.approx(estimated)
    listed = api.client.get("/api/v1/processes", headers=api.manager).json()["processes"]
    assert [(p["estimated_hours"], p["realised_hours_year"]) for p in listed] == [
        (body["estimated_hours"], body["realised_hours_year"])]
    assert "volume annuel estimé" in body["estimate_formula"]


def test_no_estimate_without_a_volume(store: Store) -> None:
    """A process with runs but no estimated volume has no estimate (None), not 0."""
    version = store.save_robot_version("saisie", "0" * 64, "robot: saisie")
    _done_run(store, version, "run-1", "saisie", "P", 3.0, 0.0, 2, 0, datetime.now(UTC).replace(tzinfo=None))
    store.ensure_process("P", "DDETS", "robot:saisie")
    [shown] = processes.figures(store, store.list_processes())
    assert shown.estimated_hours is None and shown.realised_hours_year == pytest.approx(6 / 60)


# ---- the CLI ----------------------------------------------------------------------------------------
@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Console:
    """`robo` in this process, its tables written to a wide recording console."""
    from robocore.cli import cmd_processes

    console = Console(width=250, record=True, file=io.StringIO())
    monkeypatch.setattr(cmd_processes, "console", console)
    return console


def test_cli_lists_and_sets_processes(store: Store, cli: Console) -> None:
    """`robo processes set` completes a process (French stage label accepted) and `robo processes` lists
    it in French: stage label, goal and estimate in French number format; a negative volume is refused
    naming the field; an unknown process is an error."""
    from robocore.cli.app import app

    version = store.save_robot_version("saisie", "0" * 64, "robot: saisie")
    _done_run(store, version, "run-1", "saisie", HOSTILE[2], 3.0, 0.0, 4, 0, datetime.now(UTC).replace(tzinfo=None))
    store.ensure_process(HOSTILE[2], "DDETS", "robot:saisie")
    runner = CliRunner()
    result = runner.invoke(app, ["processes", "set", HOSTILE[2], "--lab", "Lab [Occitanie]", "--goal-hours", "1200.5",
                                 "--volume", "20000", "--stage", "en étude", "--region", "Occitanie"])
    assert result.exit_code == 0, result.output
    record = store.get_process(HOSTILE[2])
    assert record is not None
    assert (record.lab, record.goal_hours, record.annual_volume, record.stage, record.updated_by) == (
        "Lab [Occitanie]", 1200.5, 20000, ProcessStage.STUDY, "cli")
    result = runner.invoke(app, ["processes"])
    assert result.exit_code == 0, result.output
    shown = cli.export_text()
    assert HOSTILE[2] in shown and "Lab [Occitanie]" in shown and "en étude" in shown
    assert "1\u202f200,5" in shown and "1\u202f000,0" in shown and "0,2" in shown  # goal, 20000 × 3 ÷ 60, 12 min
    refused = runner.invoke(app, ["processes", "set", HOSTILE[2], "--volume", "-5"])
    assert refused.exit_code == 1 and "« annual_volume » doit être positif ou nul" in refused.output
    assert store.get_process(HOSTILE[2]).annual_volume == 20000  # type: ignore[union-attr]
    unknown = runner.invoke(app, ["processes", "set", "Inconnu", "--lab", "X"])
    assert unknown.exit_code == 1 and "processus introuvable « Inconnu »" in unknown.output


# ---- the sums of the process pages ---------------------------------------------------------------
def _plan(store: Store, query: Select[Any]) -> str:
    """The database's plan for `query` with its own bound parameters (only the kind is a literal)."""
    compiled = query.compile(dialect=store.engine.dialect, compile_kwargs={"render_postcompile": True})
    with store.engine.begin() as conn:
        if store.dialect == "sqlite":
            values = [compiled.params[name] for name in compiled.positiontup or ()]
            values = [str(v) if isinstance(v, datetime) else v for v in values]
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + compiled.string, tuple(values)).all()
            return "\n".join(str(row[-1]) for row in rows)
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a handful of rows: else a scan is cheaper
        return "\n".join(str(row[0]) for row in conn.exec_driver_sql("EXPLAIN " + compiled.string, compiled.params))


def test_runs_of_12_months_are_counted_from_the_run_entries_index(store: Store) -> None:
    """The count of runs credited reads the partial index of run entries (0012), not every entry; its condition
    on the kind is the index's WHERE word for word (a literal: a generic plan knows no parameter's value)."""
    version = store.save_robot_version("saisie", "0" * 64, "robot: saisie")
    _done_run(store, version, "run-1", "saisie", "P", 3.0, 5.0, 3, 0, datetime.now(UTC).replace(tzinfo=None))
    query = runs_credited_query(["P", "Q"], datetime(2025, 1, 1))
    assert "ledger.kind = 'run'" in str(query.compile(dialect=store.engine.dialect))
    plan = _plan(store, query)
    assert "ix_ledger_runs" in plan, plan


def test_list_sums_equal_the_ledger_summed_by_hand(store: Store) -> None:
    """The list's minutes (period, year, 12 months, read per day) and runs credited equal sums made here over
    the entries, entries at the bounds' very midnights included on the right side; bounds must be midnights."""
    version = store.save_robot_version("saisie", "0" * 64, "robot: saisie")
    first, end, year, twelve = datetime(2025, 3, 1), datetime(2025, 6, 1), datetime(2025, 1, 1), datetime(2024, 6, 1)
    plan = [("a", "P", 2.0, 1.0, 3, datetime(2025, 3, 1)), ("b", "P", 2.0, 1.0, 1, datetime(2025, 5, 31, 23, 59)),
            ("c", "P", 4.0, 0.0, 2, datetime(2025, 6, 1)), ("d", "P", 1.0, 7.0, 5, datetime(2024, 12, 31, 23, 0)),
            ("e", "P", 1.0, 9.0, 1, datetime(2024, 5, 31, 23, 59)), ("f", "Q", 10.0, 2.0, 2, datetime(2025, 4, 2))]
    for run_id, process, per_item, per_run, done, at in plan:
        _done_run(store, version, run_id, "saisie", process, per_item, per_run, done, 0, at)
    sums = sql.list_sums(store.engine, ["P", "Q", "R"], (first, end), year, twelve)

    def minutes(process: str, since: datetime, before: datetime = datetime.max) -> float:
        return sum(done * per_item + per_run for _, p, per_item, per_run, done, at in plan
                   if p == process and since <= at < before)

    for process in ("P", "Q"):
        got = sums[process]
        assert got.minutes_period == pytest.approx(minutes(process, first, end))
        assert got.minutes_year == pytest.approx(minutes(process, year))
        assert got.minutes_12_months == pytest.approx(minutes(process, twelve))
        assert got.runs_12_months == sum(1 for _, p, _, per_run, _, at in plan
                                         if p == process and per_run and at >= twelve)  # no entry for 0 minutes
    assert (sums["P"].minutes_period, sums["P"].runs_12_months) == (pytest.approx(3 * 2.0 + 1 + 2.0 + 1), 3)
    assert "R" not in sums
    with pytest.raises(ValueError, match="not a midnight"):
        sql.list_sums(store.engine, ["P"], (first, datetime(2025, 6, 1, 12)), year, twelve)
