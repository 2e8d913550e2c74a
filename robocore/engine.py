"""Runs a robot spec: steps in order, durable work items, retries, resume, the ledger."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

import structlog
from pydantic import ValidationError

from robocore import ledger
from robocore.context import Context
from robocore.errors import ApplicationError, BusinessError, ExpressionError
from robocore.expressions import evaluate, render, truthy
from robocore.i18n import gettext as _
from robocore.i18n import ngettext
from robocore.loader import LoadedRobot
from robocore.plugins import Registry
from robocore.secrets import scrub
from robocore.spec import ActionStep, ForEach, lane_count
from robocore.statuses import ITEM_FAILED, ITEM_TO_RETRY, RUN_COMPLETED, ItemStatus, RunStatus, StepStatus
from robocore.store import ItemCounts, Store, utcnow
from robocore.timeline import Clock, Timeline, clock

log = structlog.get_logger("robocore.engine")


class Progress(Protocol):
    """What a front end (CLI bar, server events) is told while a run goes."""

    def block_started(self, block: str, total: int, already: int) -> None: ...
    def item_finished(self, block: str, key: str, status: ItemStatus) -> None: ...
    def block_finished(self, block: str) -> None: ...


@dataclass
class RunResult:
    """The outcome of a run, kept apart from its spec."""

    run_id: str
    robot: str
    status: RunStatus
    counts: ItemCounts = field(default_factory=dict)
    minutes_saved: float = 0.0
    duration_s: float = 0.0
    error: str | None = None
    #: The outputs of the run-level steps by step id (`steps.<id>`), in this process only (never stored).
    outputs: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.SUCCEEDED


class _Stop(Exception):
    """A run-level step failed: the run stops."""


def _error_text(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if not isinstance(exc, (BusinessError, ApplicationError, ExpressionError)):
        text = f"{type(exc).__name__}: {text}"
    return scrub(text)[:4000]


def _is_business(exc: BaseException) -> bool:
    return isinstance(exc, (BusinessError, ExpressionError, ValidationError))


class Runner:
    """One run of one robot."""

    def __init__(self, loaded: LoadedRobot, store: Store, run_id: str, ctx: Context,
                 scope: dict[str, Any], registry: Registry, progress: Progress | None) -> None:
        self.loaded, self.spec, self.store = loaded, loaded.spec, store
        self.run_id, self.ctx, self.scope = run_id, ctx, scope
        self.registry, self.progress = registry, progress
        self.failed_items = 0
        self.minutes = ledger.MinutesInForce.of(loaded.spec)  # the version the run was recorded with
        self.cancel = threading.Event()  # set by the heartbeat when someone asks to cancel
        self.timeline = Timeline(store, run_id)  # the items' step executions, written in batches
        self.lanes: dict[int, int] = {}  # each top-level loop's concurrency, rendered at run start
        self.timeouts: dict[str, str] = {}  # items whose last attempt failed on a timeout: their error

    # ---- steps -------------------------------------------------------------------
    def _where(self, step: ActionStep | ForEach, index: int) -> str:
        return f"{self.spec.robot} › {step.id or step.name or f'étape {index + 1}'}"

    async def call(self, step: ActionStep, ctx: Context, scope: dict[str, Any], where: str) -> Any:
        """Render one step's parameters, validate them, and call its action."""
        # bound first: a step failing on its `when` or its parameters is logged under its own id
        ctx.step_id = step.id or step.use
        structlog.contextvars.bind_contextvars(step=ctx.step_id)
        if step.when is not None and not truthy(render(step.when, scope, where)):
            return None
        action_def = self.registry.get(step.use)
        assert action_def is not None  # the loader checked every action
        began = clock()
        try:
            kwargs = action_def.validate(render(step.with_, scope, where))
            if action_def.is_async:
                result = await action_def.func(ctx, **kwargs)
            else:
                result = action_def.func(ctx, **kwargs)
        except Exception as exc:
            self._timed(step, ctx, began, exc)
            if step.continue_on_error:
                error = _error_text(exc)
                ctx.log.warning("step.error_ignored", step=ctx.step_id, error=error)
                if step.id:  # defined, so that later steps can test it: `steps.<id>.ok is false`
                    scope["steps"][step.id] = {"ok": False, "error": error}
                return None
            raise
        self._timed(step, ctx, began)
        if step.id:
            scope["steps"][step.id] = result
        return result

    def _timed(self, step: ActionStep, ctx: Context, began: Clock, exc: BaseException | None = None) -> None:
        """A step of an item (or a lane) on the run's timeline; run-level steps are recorded by `_event`."""
        if ctx is not self.ctx:
            self.timeline.record(step.id or step.use, ctx.item_key, began,
                                 StepStatus.FAILED if exc else StepStatus.DONE, _error_text(exc) if exc else None)

    async def run_steps(self, steps: list[ActionStep], ctx: Context, scope: dict[str, Any]) -> None:
        for i, step in enumerate(steps):
            await self.call(step, ctx, scope, self._where(step, i))

    # ---- the run ------------------------------------------------------------------
    async def run(self) -> RunStatus:
        """Run every top-level step; returns the run status."""
        try:
            self.lanes = {i: self._lane_count(step, self._where(step, i))
                          for i, step in enumerate(self.spec.steps) if isinstance(step, ForEach)}
        except (BusinessError, ExpressionError) as exc:
            raise _Stop(_error_text(exc)) from exc
        for i, step in enumerate(self.spec.steps):
            where = self._where(step, i)
            label = step.id or (step.use if isinstance(step, ActionStep) else f"for_each_{i + 1}")  # as its items
            started = time.perf_counter()
            try:
                if isinstance(step, ForEach):
                    if step.when is not None and not truthy(render(step.when, self.scope, where)):
                        continue
                    stop = await self.for_each(step, i, where)
                    if self.cancel.is_set():
                        return RunStatus.CANCELLED
                    if stop:
                        return RunStatus.FAILED
                else:
                    await self.call(step, self.ctx, self.scope, where)
            except Exception as exc:
                self._event(label, StepStatus.FAILED, started, _error_text(exc))
                evidence = await self.ctx.collect_evidence(exc)
                proof = f" (preuves : {', '.join(map(str, evidence))})" if evidence else ""
                raise _Stop(_error_text(exc) + proof) from exc
            self._event(label, StepStatus.DONE, started)
        return RunStatus.COMPLETED_WITH_ERRORS if self.failed_items else RunStatus.SUCCEEDED

    def _lane_count(self, block: ForEach, where: str) -> int:
        """A loop's concurrency: its number, or its expression rendered now (inputs, secrets, run)."""
        if isinstance(block.concurrency, int):
            return block.concurrency
        place = f"{where} › concurrency"
        value = evaluate(block.concurrency, self.scope, place)
        try:
            return lane_count(value)
        except ValueError as exc:
            raise BusinessError(_("{where}: “{text}” gives {value}: {problem}", where=place,
                                  text=block.concurrency, value=value, problem=exc)) from None

    def _event(self, step: str, status: StepStatus, started: float, message: str | None = None,
               item: str | None = None) -> None:
        ms = (time.perf_counter() - started) * 1000
        self.store.add_event(self.run_id, step, status, duration_ms=ms, message=message, item_key=item,
                             at=utcnow() - timedelta(milliseconds=ms))  # `at`: when the step started

    # ---- durable work items ----------------------------------------------------------
    def _keys(self, block: ForEach, where: str) -> list[tuple[str, Any]]:
        values = evaluate(block.for_each, self.scope, where) if isinstance(block.for_each, str) else block.for_each
        if isinstance(values, dict) and "rows" in values:
            values = values["rows"]
        if not isinstance(values, (list, tuple)):
            raise BusinessError(_("{where}: for_each expects a list, got {kind}", where=where,
                                  kind=type(values).__name__))
        pairs: list[tuple[str, Any]] = []
        seen: dict[str, int] = {}
        for index, value in enumerate(values):
            loop = _position(index, len(values))
            key = str(evaluate(block.key, {**self.scope, block.as_: value, "loop": loop}, where)).strip()
            if not key:
                key = f"#vide-{index + 1}"
            if key in seen:
                seen[key] += 1
                key = f"{key}#doublon-{seen[key]}"
                value = _Duplicate(value)
            seen.setdefault(key, 1)
            pairs.append((key, value))
        return pairs

    async def for_each(self, block: ForEach, index: int, where: str) -> bool:
        """Store every item, then process those not final; returns True when the run must stop.

        One lane (`concurrency: 1`) works in the run-level context: its items use the page the
        steps before the loop left, and the steps after the loop find it as the items left it.
        More lanes each get a context of their own (their own page), prepared by `lane_setup`.

        Raises:
            ApplicationError: the loop stopped with items left pending (its first item timed out,
                or no lane could be set up); `robo resume` takes them.
        """
        name = block.id or f"for_each_{index + 1}"
        structlog.contextvars.bind_contextvars(step=name)
        pairs = self._keys(block, where)
        self.store.add_items(self.run_id, name, [k for k, _ in pairs])
        states = self.store.item_states(self.run_id)
        todo = [(k, v, states.get(k) is ItemStatus.RUNNING, pos) for pos, (k, v) in enumerate(pairs)
                if states.get(k) in ITEM_TO_RETRY]
        if self.progress:
            self.progress.block_started(name, len(pairs), len(pairs) - len(todo))
        concurrency = self.lanes.get(index, 1)
        shared = concurrency == 1  # one lane: the run-level page, as the earlier steps left it
        stop = asyncio.Event()
        queue: asyncio.Queue[tuple[str, Any, bool, int]] = asyncio.Queue()
        for entry in todo:
            queue.put_nowait(entry)
        first_timeout: list[tuple[str, str]] = []
        setup_failed: list[str] = []
        succeeded = False

        async def lane(number: int) -> None:
            nonlocal succeeded
            lane_ctx = self.ctx if shared else self.ctx.for_lane()
            steps = dict(self.scope["steps"])  # the lane's own: lane_setup outputs are seen by its items
            try:
                if block.lane_setup:
                    failure = await self._lane_setup(block, lane_ctx, number, steps, where)
                    if failure is not None:
                        error, evidence = failure
                        setup_failed.append(error)
                        if not queue.empty():  # the item this lane was about to take says why
                            key = queue.get_nowait()[0]
                            self.failed_items += 1
                            self._finish(name, key, ItemStatus.APPLICATION_ERROR, error, evidence)
                        return
                while not stop.is_set() and not self.cancel.is_set() and not queue.empty():
                    key, value, was_running, pos = queue.get_nowait()
                    loop = {**_position(pos, len(pairs)), "lane": number}
                    status = await self.item(block, name, lane_ctx, key, value, was_running, where,
                                             loop=loop, steps=steps)
                    if status is ItemStatus.DONE:
                        succeeded = True
                    elif status in ITEM_FAILED:
                        self.failed_items += 1
                        if block.stop_on_failure:
                            stop.set()
                        if block.stop_on_first_timeout and not succeeded and key in self.timeouts:
                            first_timeout.append((key, self.timeouts[key]))
                            stop.set()
            finally:
                if not shared:
                    await lane_ctx.aclose()

        lanes = min(concurrency, len(todo))
        await asyncio.gather(*(lane(n + 1) for n in range(lanes)))
        failed_before = sum(1 for k, _ in pairs if states.get(k) is ItemStatus.BUSINESS_ERROR)
        self.failed_items += failed_before
        if self.progress:
            self.progress.block_finished(name)
        if block.id:
            # plain text keys: robot expressions see `steps.<id>.done` as they always did
            self.scope["steps"][block.id] = {s.value: n for s, n in self.store.counts(self.run_id).items()}
        left = queue.qsize()
        if first_timeout and not self.cancel.is_set():
            key, error = first_timeout[0]
            raise ApplicationError(ngettext(
                "loop “{loop}” stopped: item “{key}” failed on a timeout before any item succeeded, so the "
                "page is not what the robot expects; {n} item left pending (nothing is lost): correct the "
                "robot or the site, then `robo resume {run}` — {error}",
                "loop “{loop}” stopped: item “{key}” failed on a timeout before any item succeeded, so the "
                "page is not what the robot expects; {n} items left pending (nothing is lost): correct the "
                "robot or the site, then `robo resume {run}` — {error}",
                left, loop=name, key=key, run=self.run_id, error=error))
        if lanes and len(setup_failed) == lanes and left and not self.cancel.is_set():
            raise ApplicationError(ngettext(
                "loop “{loop}”: no lane could be set up, {n} item left pending (nothing is lost): correct "
                "the lane_setup steps, then `robo resume {run}` — {error}",
                "loop “{loop}”: no lane could be set up, {n} items left pending (nothing is lost): correct "
                "the lane_setup steps, then `robo resume {run}` — {error}",
                left, loop=name, run=self.run_id, error=setup_failed[0]))
        return stop.is_set()

    async def _lane_setup(self, block: ForEach, lane: Context, number: int, steps: dict[str, Any],
                          where: str) -> tuple[str, list[str]] | None:
        """Run a loop's `lane_setup` steps in a lane's page; on failure, the error naming the lane, and evidence."""
        ctx = lane.for_setup(number)
        scope = {**self.scope, "steps": steps, "loop": {"lane": number}}
        structlog.contextvars.bind_contextvars(lane=number)
        step = block.lane_setup[0]
        try:
            for i, step in enumerate(block.lane_setup):
                await self.call(step, ctx, scope, f"{where} › lane_setup › {step.id or step.name or i + 1}")
            log.info("lane.ready", lane=number)
            return None
        except Exception as exc:
            evidence = [str(p) for p in await ctx.collect_evidence(exc)]
            error = _("setup of lane {lane} failed (lane_setup, step “{step}”): {error}", lane=number,
                      step=step.id or step.name or step.use, error=_error_text(exc))
            log.warning("lane.setup_failed", lane=number, error=error, evidence=evidence)
            return error, evidence
        finally:
            await ctx.aclose()
            structlog.contextvars.unbind_contextvars("lane")

    async def item(self, block: ForEach, name: str, lane: Context, key: str, value: Any,
                   was_running: bool, where: str, *, loop: dict[str, Any] | None = None,
                   steps: dict[str, Any] | None = None) -> ItemStatus:
        """Process one item to a final status (retrying application errors).

        Args:
            loop: the item's `loop` variables besides `key` (index, index0, first, last, length, lane).
            steps: the outputs the item starts from (the run's, plus its lane's `lane_setup` ones).
        """
        structlog.contextvars.bind_contextvars(item=key)
        try:
            if isinstance(value, _Duplicate):
                return self._finish(name, key, ItemStatus.BUSINESS_ERROR,
                                    _("duplicate key “{key}”", key=key), [])
            scope = {**self.scope, "steps": dict(self.scope["steps"] if steps is None else steps),
                     block.as_: value, "loop": {**(loop or {}), "key": key}}
            if was_running and block.verify and await self._verified(block, lane, key, scope):
                return self._finish(name, key, ItemStatus.DONE, None, [], verified=True)
            attempt = 0
            while True:
                attempt += 1
                status, error, evidence = await self._attempt(block, lane, key, scope)
                if status is not ItemStatus.APPLICATION_ERROR or attempt > block.retries:
                    return self._finish(name, key, status, error, evidence)
                delay = min(block.backoff_seconds * 2 ** (attempt - 1), 60.0)
                log.info("item.retry", attempt=attempt, delay_s=delay, error=error)
                await asyncio.sleep(delay)
        finally:
            structlog.contextvars.unbind_contextvars("item")

    async def _verified(self, block: ForEach, lane: Context, key: str, scope: dict[str, Any]) -> bool:
        ctx = lane.for_item(key)
        try:
            await self.run_steps(block.verify, ctx, dict(scope, steps=dict(scope["steps"])))
            log.info("item.verified", detail="already done, verified")
            return True
        except Exception as exc:
            log.info("item.not_verified", error=_error_text(exc))
            return False
        finally:
            await ctx.aclose()

    async def _attempt(self, block: ForEach, lane: Context, key: str,
                       scope: dict[str, Any]) -> tuple[ItemStatus, str | None, list[str]]:
        ctx = lane.for_item(key)
        self.store.start_item(self.run_id, key)
        self.timeouts.pop(key, None)
        try:
            await self.run_steps(block.steps, ctx, dict(scope, steps=dict(scope["steps"])))
            return ItemStatus.DONE, None, []
        except Exception as exc:
            status = ItemStatus.BUSINESS_ERROR if _is_business(exc) else ItemStatus.APPLICATION_ERROR
            evidence = [str(p) for p in await ctx.collect_evidence(exc)]
            error = _error_text(exc)
            if status is ItemStatus.APPLICATION_ERROR and _is_timeout(exc):  # the page is not as expected
                error = self._lane_hint(block, lane, scope, error)
                self.timeouts[key] = error
            log.info("item.failed", status=status, error=error, evidence=evidence)
            return status, error, evidence
        finally:
            await ctx.aclose()

    def _lane_hint(self, block: ForEach, lane: Context, scope: dict[str, Any], error: str) -> str:
        """A timeout in a lane's own page, the run level having one, without lane_setup: say why it may be."""
        if block.lane_setup or lane is self.ctx or not (
                self.ctx.per_lane_resources() & lane.per_lane_resources()):
            return error
        return error + _(" — lane {lane} works in its own page, opened at the run-level page's address with "
                         "its cookies only: what the steps before the loop did on the page (clicks, searches) "
                         "is not replayed there. Put those steps under `lane_setup:` (run once per lane) or "
                         "use `concurrency: 1` (the loop then works in the run-level page)",
                         lane=scope["loop"].get("lane", "?"))

    def _finish(self, block: str, key: str, status: ItemStatus, error: str | None, evidence: list[str],
                verified: bool = False) -> ItemStatus:
        if status is ItemStatus.DONE:
            ledger.record_done(self.store, self.run_id, key, self.minutes, verified=verified)
        else:
            self.store.finish_item(self.run_id, key, status, error=error, evidence=evidence)
        if self.progress:
            self.progress.item_finished(block, key, status)
        return status


def _position(index0: int, length: int) -> dict[str, Any]:
    """An item's place in its loop, named as Jinja's own `loop` names it (`index` counts from 1)."""
    return {"index": index0 + 1, "index0": index0, "first": index0 == 0, "last": index0 == length - 1,
            "length": length}


def _is_timeout(exc: BaseException) -> bool:
    """True when a timeout caused the error (a Playwright, asyncio or HTTP one, kept as its context)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, TimeoutError) or any(
                cls.__name__ in ("TimeoutError", "TimeoutException") for cls in type(current).__mro__):
            return True
        current = current.__cause__ or current.__context__
    return False


class _Duplicate:
    """Marks a repeated key: the item is recorded as a business error, never processed."""

    def __init__(self, value: Any) -> None:
        self.value = value


async def _drive(runner: Runner, started: float, owner: str | None = None) -> RunResult:
    status, error = RunStatus.FAILED, None
    try:
        status = await runner.run()
    except _Stop as exc:
        error = str(exc)
        log.error("run.failed", error=error)
    finally:
        await runner.ctx.aclose()
        runner.timeline.flush()
    spec, store = runner.spec, runner.store
    counts = store.counts(runner.run_id)
    # A completed run saved its fixed minutes unless it had items and none was done: then the
    # agent still does the whole job by hand (failed or skipped items save nothing).
    if status in RUN_COMPLETED and (not counts or counts.get(ItemStatus.DONE, 0) > 0):
        ledger.record_run(store, runner.run_id, runner.minutes)
    store.finish_run(runner.run_id, status, error, owner)
    result = RunResult(runner.run_id, spec.robot, status, counts,
                       store.run_minutes(runner.run_id), time.perf_counter() - started, error,
                       dict(runner.scope["steps"]))
    log.info("run.finished", status=status.value, counts={s.value: n for s, n in result.counts.items()},
             minutes_saved=result.minutes_saved)
    return result


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]

