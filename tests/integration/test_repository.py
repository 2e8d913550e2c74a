"""The Store's operations, the same on SQLite and PostgreSQL: runs and their lease, items, events,
tokens, grants, schedule fires and totals, all returned as typed rows with enum statuses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from robocore.statuses import FireStatus, ItemStatus, RunStatus, StepStatus
from robocore.store import (
    LEASE_SECONDS,
    ApiToken,
    Conflict,
    Grant,
    Item,
    NewRun,
    Run,
    ScheduleFire,
    StepEvent,
    Store,
)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = Store(store_url)
    yield opened
    opened.close()


def _new(store: Store, run_id: str, robot: str = "r", created_by: str | None = None) -> str:
    version = store.save_robot_version(robot, "0" * 64, f"robot: {robot}")
    store.create_run(NewRun(id=run_id, robot=robot, version_id=version, robot_path="/robots/r/robot.yaml",
                            inputs={"n": 3}, process_name="Contrôle", service="DDETS", minutes_per_item=4.5,
                            minutes_per_run=10.0, trigger="api", queue="q", created_by=created_by))
    return run_id


def _age(store: Store, run_id: str, **columns: dt.datetime) -> None:
    """Move a run's timestamps back, as time passing would."""
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    with store.engine.begin() as conn:
        conn.execute(text(f"UPDATE runs SET {assignments} WHERE id = :i"), {**columns, "i": run_id})


def _ago(seconds: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=seconds)


# ---- runs -------------------------------------------------------------------------------
def test_created_run_reads_back_as_a_typed_queued_run(store: Store) -> None:
    """A recorded run comes back as a Run with every field given, status QUEUED and no owner."""
    _new(store, "run-1", created_by="agent")
    run = store.get_run("run-1")
    assert isinstance(run, Run) and run.status is RunStatus.QUEUED
    assert (run.robot, run.inputs, run.trigger, run.queue, run.created_by) == ("r", {"n": 3}, "api", "q", "agent")
    assert (run.minutes_per_item, run.minutes_per_run, run.process_name) == (4.5, 10.0, "Contrôle")
    assert run.owner is None and run.cancel_requested is False and run.finished_at is None


def test_same_robot_content_is_stored_once(store: Store) -> None:
    """Saving the same robot content twice gives the same version id and its content back."""
    first = store.save_robot_version("r", "a" * 64, "robot: r")
    assert store.save_robot_version("r", "a" * 64, "robot: r") == first
    assert store.save_robot_version("r", "b" * 64, "robot: r\n") != first
    assert store.robot_content(first) == "robot: r"


def test_get_run_is_exact_find_run_takes_a_unique_prefix(store: Store) -> None:
    """get_run matches the whole id only; find_run takes the exact id or a prefix shared by no other run."""
    _new(store, "abc123")
    _new(store, "abc456")
    _new(store, "abc")
    assert store.get_run("abc1") is None and store.get_run("abc123").id == "abc123"  # type: ignore[union-attr]
    assert store.find_run("abc1").id == "abc123"  # type: ignore[union-attr]
    assert store.find_run("abc").id == "abc"  # type: ignore[union-attr]  # exact beats prefix
    assert store.find_run("ab") is None  # ambiguous
    assert store.find_run("zz") is None and store.find_run("") is None
    assert store.find_run("abc%") is None and store.find_run("a_c") is None  # no SQL wildcards


def test_claim_takes_the_lease_once_until_it_goes_stale(store: Store) -> None:
    """A queued run is claimed by one owner; another is refused while the lease is fresh, then may take it over."""
    _new(store, "run-1")
    assert store.claim_run("run-1", "host:1:a")
    run = store.get_run("run-1")
    assert run is not None and run.status is RunStatus.RUNNING and run.owner == "host:1:a"
    assert run.heartbeat_at is not None and run.pid is not None
    assert not store.claim_run("run-1", "host:2:b")
    assert store.claim_run("run-1", "host:1:a")  # its own holder may claim again
    assert store.claim_run("run-1", "host:2:b", stale_after_s=0)  # a stopped heartbeat
    assert store.get_run("run-1").owner == "host:2:b"  # type: ignore[union-attr]


def test_succeeded_run_is_never_claimed_failed_one_is(store: Store) -> None:
    """A succeeded run cannot be claimed again; a failed or cancelled one can (resume)."""
    _new(store, "ok")
    _new(store, "ko")
    store.finish_run("ok", RunStatus.SUCCEEDED)
    store.finish_run("ko", RunStatus.FAILED, "panne")
    assert not store.claim_run("ok", "me", stale_after_s=0)
    assert store.claim_run("ko", "me")
    run = store.get_run("ko")
    assert run is not None and run.status is RunStatus.RUNNING and run.error is None and run.finished_at is None


def test_heartbeat_renews_and_reports_a_cancellation(store: Store) -> None:
    """A running run's heartbeat is renewed; after request_cancel the heartbeat answers True."""
    _new(store, "run-1")
    store.claim_run("run-1", "me")
    _age(store, "run-1", heartbeat_at=_ago(60))
    assert store.heartbeat("run-1", "me") is False
    beat = store.get_run("run-1").heartbeat_at  # type: ignore[union-attr]
    assert beat is not None and beat > _ago(10)
    assert store.request_cancel("run-1") is True
    assert store.heartbeat("run-1", "me") is True and store.get_run("run-1").cancel_requested  # type: ignore[union-attr]


def test_cancelling_a_queued_run_ends_it_at_once(store: Store) -> None:
    """A queued run is cancelled immediately (no process holds it to be told)."""
    _new(store, "run-1")
    assert store.request_cancel("run-1") is False
    run = store.get_run("run-1")
    assert run is not None and run.status is RunStatus.CANCELLED and run.finished_at is not None


def test_finish_run_with_owner_only_touches_a_run_it_holds(store: Store) -> None:
    """finish_run given an owner leaves a run held by another process as it is."""
    _new(store, "run-1")
    store.claim_run("run-1", "holder")
    store.finish_run("run-1", RunStatus.FAILED, "not mine", owner="intruder")
    assert store.get_run("run-1").status is RunStatus.RUNNING  # type: ignore[union-attr]
    store.finish_run("run-1", RunStatus.COMPLETED_WITH_ERRORS, owner="holder")
    run = store.get_run("run-1")
    assert run is not None and run.status is RunStatus.COMPLETED_WITH_ERRORS and run.finished_at is not None


def test_list_runs_newest_first_with_filters(store: Store) -> None:
    """list_runs orders by start (newest first) and filters by robot, status and creator."""
    for n, (robot, who) in enumerate([("a", "x"), ("b", "x"), ("a", "y")]):
        _new(store, f"run-{n}", robot=robot, created_by=who)
        _age(store, f"run-{n}", started_at=_ago(100 - n))
    store.finish_run("run-2", RunStatus.SUCCEEDED)
    assert [r.id for r in store.list_runs()] == ["run-2", "run-1", "run-0"]
    assert [r.id for r in store.list_runs(limit=1)] == ["run-2"]
    assert [r.id for r in store.list_runs(robot="a")] == ["run-2", "run-0"]
    assert [r.id for r in store.list_runs(status=RunStatus.QUEUED)] == ["run-1", "run-0"]
    assert [r.id for r in store.list_runs(created_by="x", robot="a")] == ["run-0"]


def test_orphans_are_old_queued_runs_and_expired_leases(store: Store) -> None:
    """orphaned_runs lists runs queued for a while and running ones whose lease expired, nothing live."""
    for run_id in ("old-queued", "new-queued", "stale", "alive", "done"):
        _new(store, run_id)
    _age(store, "old-queued", started_at=_ago(60))
    for run_id in ("stale", "alive"):
        store.claim_run(run_id, "someone")
    _age(store, "stale", heartbeat_at=_ago(LEASE_SECONDS + 5))
    store.finish_run("done", RunStatus.SUCCEEDED)
    assert sorted(r.id for r in store.orphaned_runs(queued_for_s=10)) == ["old-queued", "stale"]


def test_live_run_of_a_creator(store: Store) -> None:
    """live_run finds a queued or freshly beating run of a creator, not a finished or abandoned one."""
    _new(store, "s1", created_by="schedule:nuit")
    assert store.live_run("schedule:nuit") == "s1"
    store.claim_run("s1", "me")
    assert store.live_run("schedule:nuit") == "s1"
    _age(store, "s1", heartbeat_at=_ago(LEASE_SECONDS + 5))
    assert store.live_run("schedule:nuit") is None
    store.finish_run("s1", RunStatus.SUCCEEDED)
    assert store.live_run("schedule:nuit") is None and store.live_run("schedule:autre") is None


# ---- items and events ---------------------------------------------------------------------
def test_items_stored_pending_then_started_and_finished(store: Store) -> None:
    """Items are stored pending once, counted per status, and read back as typed Items in order."""
    _new(store, "run-1")
    store.add_items("run-1", "lot", ["k1", "k2", "k3"])
    store.add_items("run-1", "lot", ["k1", "k2", "k3", "k4"])  # a resume adds only the new keys
    assert store.item_states("run-1") == {k: ItemStatus.PENDING for k in ("k1", "k2", "k3", "k4")}
    store.start_item("run-1", "k1")
    store.start_item("run-1", "k2")
    store.start_item("run-1", "k2")
    assert store.finish_item("run-1", "k1", ItemStatus.DONE, verified=True)
    assert store.finish_item("run-1", "k2", ItemStatus.BUSINESS_ERROR, error="montant manquant",
                             evidence=["/runs/run-1/k2.png"])
    assert store.counts("run-1") == {ItemStatus.DONE: 1, ItemStatus.BUSINESS_ERROR: 1, ItemStatus.PENDING: 2}
    items = store.items("run-1")
    assert [i.key for i in items] == ["k1", "k2", "k3", "k4"] and all(isinstance(i, Item) for i in items)
    k1, k2 = items[0], items[1]
    assert (k1.status, k1.attempts, k1.verified, k1.evidence) == (ItemStatus.DONE, 1, True, ())
    assert (k2.status, k2.attempts, k2.error, k2.evidence) == (ItemStatus.BUSINESS_ERROR, 2, "montant manquant",
                                                               ("/runs/run-1/k2.png",))
    assert k2.started_at is not None and k2.finished_at is not None


def test_done_item_is_never_finished_twice(store: Store) -> None:
    """finish_item on an item already done changes nothing and answers False."""
    _new(store, "run-1")
    store.add_items("run-1", "lot", ["k1"])
    assert store.finish_item("run-1", "k1", ItemStatus.DONE)
    assert not store.finish_item("run-1", "k1", ItemStatus.APPLICATION_ERROR, error="late")
    assert store.item_states("run-1") == {"k1": ItemStatus.DONE}


def test_step_events_read_back_in_order(store: Store) -> None:
    """Recorded step events come back as StepEvents, oldest first, with their item and message."""
    _new(store, "run-1")
    store.add_event("run-1", "ouvrir", StepStatus.DONE, duration_ms=12.5)
    store.add_event("run-1", "saisir", StepStatus.FAILED, message="introuvable", item_key="k2")
    events = store.events("run-1")
    assert all(isinstance(e, StepEvent) for e in events)
    assert [(e.step, e.status, e.item_key, e.message) for e in events] == [
        ("ouvrir", StepStatus.DONE, None, None), ("saisir", StepStatus.FAILED, "k2", "introuvable")]
    assert events[0].duration_ms == 12.5 and events[0].id < events[1].id


# ---- tokens and grants ---------------------------------------------------------------------
def test_tokens_recorded_found_touched_and_revoked(store: Store) -> None:
    """A token is found by lookup (with its hash) or name (without), listed, touched, revoked once."""
    store.add_token("agent-dupont", "agent", "$argon2id$hash", "abcdefghijkl", ["ddets", "drets"])
    with pytest.raises(Conflict):
        store.add_token("agent-dupont", "admin", "$argon2id$other", "zzzzzzzzzzzz", [])
    hashed = store.token_by_lookup("abcdefghijkl")
    assert hashed is not None and hashed.token_hash == "$argon2id$hash" and "hash" not in repr(hashed)
    token = store.token_by_name("agent-dupont")
    assert isinstance(token, ApiToken) and token == hashed.token
    assert (token.role, token.groups, token.last_used_at, token.revoked_at) == ("agent", ("ddets", "drets"),
                                                                                None, None)
    store.touch_token(token.id)
    assert store.token_by_name("agent-dupont").last_used_at is not None  # type: ignore[union-attr]
    assert [t.name for t in store.list_tokens()] == ["agent-dupont"]
    assert store.revoke_token("agent-dupont") and not store.revoke_token("agent-dupont")
    assert store.token_by_name("agent-dupont").revoked_at is not None  # type: ignore[union-attr]
    assert store.token_by_lookup("nope") is None and store.token_by_name("nope") is None


def test_grants_added_once_listed_and_removed(store: Store) -> None:
    """A grant is added once, listed by robot then group, seen through granted_robots, removed once."""
    assert store.add_grant("lot-50", "g2") and store.add_grant("lot-50", "g1") and store.add_grant("autre", "g2")
    assert not store.add_grant("lot-50", "g1")
    assert store.list_grants() == [Grant("autre", "g2"), Grant("lot-50", "g1"), Grant("lot-50", "g2")]
    assert store.granted_robots(["g1"]) == {"lot-50"} and store.granted_robots(["g2", "g9"]) == {"autre", "lot-50"}
    assert store.granted_robots([]) == set()
    assert store.remove_grant("lot-50", "g1") and not store.remove_grant("lot-50", "g1")
    assert store.granted_robots(["g1"]) == set()


# ---- schedule fires ------------------------------------------------------------------------
def test_schedule_fire_recorded_once_then_updated(store: Store) -> None:
    """A fire time is recorded once (a second record answers False), then its run id and status are set."""
    paris_nine = dt.datetime(2026, 5, 4, 9, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert store.record_fire("nuit", paris_nine, FireStatus.LAUNCHED, "rattrapage")
    assert not store.record_fire("nuit", paris_nine.astimezone(dt.UTC), FireStatus.MISSED)
    store.update_fire("nuit", paris_nine, run_id="run-1")
    fire = store.last_fire("nuit")
    assert fire == ScheduleFire("nuit", dt.datetime(2026, 5, 4, 7), FireStatus.LAUNCHED, "run-1", "rattrapage")
    assert fire.fire_time_utc == paris_nine
    store.update_fire("nuit", paris_nine, status=FireStatus.FAILED, note="refusé")
    assert (store.last_fire("nuit").status, store.last_fire("nuit").note) == (FireStatus.FAILED, "refusé")  # type: ignore[union-attr]


def test_fires_listed_oldest_first_and_latest_per_schedule(store: Store) -> None:
    """fires lists oldest first (of one schedule or all); last_fires keeps each schedule's latest."""
    base = dt.datetime(2026, 5, 1, 7, tzinfo=dt.UTC)
    for day, status in ((2, FireStatus.MISSED), (1, FireStatus.SKIPPED_HOLIDAY), (3, FireStatus.LAUNCHED)):
        store.record_fire("jour", base.replace(day=day), status)
    store.record_fire("nuit", base, FireStatus.SKIPPED_OVERLAP)
    assert [(f.fire_time.day, f.status) for f in store.fires("jour")] == [
        (1, FireStatus.SKIPPED_HOLIDAY), (2, FireStatus.MISSED), (3, FireStatus.LAUNCHED)]
    assert len(store.fires()) == 4 and store.fires("autre") == [] and store.last_fire("autre") is None
    latest = store.last_fires()
    assert {name: f.fire_time.day for name, f in latest.items()} == {"jour": 3, "nuit": 1}


# ---- totals ---------------------------------------------------------------------------------
def test_totals_by_status(store: Store) -> None:
    """Runs and items are totalled per status over the whole store; nothing saved yet is 0 minutes."""
    _new(store, "a")
    _new(store, "b")
    store.finish_run("b", RunStatus.SUCCEEDED)
    store.add_items("a", "lot", ["k1", "k2"])
    store.add_items("b", "lot", ["k1"])
    store.finish_item("b", "k1", ItemStatus.SKIPPED)
    assert store.runs_by_status() == {RunStatus.QUEUED: 1, RunStatus.SUCCEEDED: 1}
    assert store.items_by_status() == {ItemStatus.PENDING: 2, ItemStatus.SKIPPED: 1}
    assert store.minutes_saved() == 0.0
    store.ping()
