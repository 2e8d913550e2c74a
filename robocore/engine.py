"""Runs a robot spec: steps in order, durable work items, retries, resume, the ledger."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from pydantic import ValidationError

from robocore import ledger
from robocore.context import Context
from robocore.errors import ApplicationError, BusinessError, ExpressionError
from robocore.expressions import evaluate, render, truthy
from robocore.i18n import gettext as _
from robocore.loader import LoadedRobot
from robocore.plugins import Registry
from robocore.secrets import scrub
from robocore.spec import ActionStep, ForEach
from robocore.statuses import ITEM_FAILED, ITEM_TO_RETRY, RUN_COMPLETED, ItemStatus, RunStatus, StepStatus
from robocore.store import ItemCounts, Store

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

    # ---- steps -------------------------------------------------------------------
    def _where(self, step: ActionStep | ForEach, index: int) -> str:
        return f"{self.spec.robot} › {step.id or step.name or f'étape {index + 1}'}"

    async def call(self, step: ActionStep, ctx: Context, scope: dict[str, Any], where: str) -> Any:
        """Render one step's parameters, validate them, and call its action."""
        if step.when is not None and not truthy(render(step.when, scope, where)):
            return None
        action_def = self.registry.get(step.use)
        assert action_def is not None  # the loader checked every action
        kwargs = action_def.validate(render(step.with_, scope, where))
        ctx.step_id = step.id or step.use
        structlog.contextvars.bind_contextvars(step=ctx.step_id)
        try:
            if action_def.is_async:
                result = await action_def.func(ctx, **kwargs)
            else:
                result = action_def.func(ctx, **kwargs)
        except Exception as exc:
            if step.continue_on_error:
                ctx.log.warning("step.error_ignored", step=ctx.step_id, error=_error_text(exc))
                return None
            raise
        if step.id:
            scope["steps"][step.id] = result
        return result

    async def run_steps(self, steps: list[ActionStep], ctx: Context, scope: dict[str, Any]) -> None:
        for i, step in enumerate(steps):
            await self.call(step, ctx, scope, self._where(step, i))

    # ---- the run ------------------------------------------------------------------
    async def run(self) -> RunStatus:
        """Run every top-level step; returns the run status."""
        for i, step in enumerate(self.spec.steps):
            where = self._where(step, i)
            label = step.id or (step.use if isinstance(step, ActionStep) else "for_each")
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

    def _event(self, step: str, status: StepStatus, started: float, message: str | None = None,
               item: str | None = None) -> None:
        self.store.add_event(self.run_id, step, status, duration_ms=(time.perf_counter() - started) * 1000,
                             message=message, item_key=item)

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
            key = str(evaluate(block.key, {**self.scope, block.as_: value, "loop": {"index": index}}, where)).strip()
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
        """Store every item, then process those not final; returns True when the run must stop."""
        name = block.id or f"for_each_{index + 1}"
        pairs = self._keys(block, where)
        self.store.add_items(self.run_id, name, [k for k, _ in pairs])
        states = self.store.item_states(self.run_id)
        todo = [(k, v, states.get(k) is ItemStatus.RUNNING) for k, v in pairs
                if states.get(k) in ITEM_TO_RETRY]
        if self.progress:
            self.progress.block_started(name, len(pairs), len(pairs) - len(todo))
        stop = asyncio.Event()
        queue: asyncio.Queue[tuple[str, Any, bool]] = asyncio.Queue()
        for entry in todo:
            queue.put_nowait(entry)

        async def lane() -> None:
            lane_ctx = self.ctx.for_lane()
            try:
                while not stop.is_set() and not self.cancel.is_set() and not queue.empty():
                    key, value, was_running = queue.get_nowait()
                    status = await self.item(block, name, lane_ctx, key, value, was_running, where)
                    if status in ITEM_FAILED:
                        self.failed_items += 1
                        if block.stop_on_failure:
                            stop.set()
            finally:
                await lane_ctx.aclose()

        await asyncio.gather(*(lane() for _ in range(min(block.concurrency, len(todo)) or 0)))
        failed_before = sum(1 for k, _ in pairs if states.get(k) is ItemStatus.BUSINESS_ERROR)
        self.failed_items += failed_before
        if self.progress:
            self.progress.block_finished(name)
        if block.id:
            # plain text keys: robot expressions see `steps.<id>.done` as they always did
            self.scope["steps"][block.id] = {s.value: n for s, n in self.store.counts(self.run_id).items()}
        return stop.is_set()

    async def item(self, block: ForEach, name: str, lane: Context, key: str, value: Any,
                   was_running: bool, where: str) -> ItemStatus:
        """Process one item to a final status (retrying application errors)."""
        structlog.contextvars.bind_contextvars(item=key)
        try:
            if isinstance(value, _Duplicate):
                return self._finish(name, key, ItemStatus.BUSINESS_ERROR,
                                    _("duplicate key “{key}”", key=key), [])
            scope = {**self.scope, "steps": dict(self.scope["steps"]), block.as_: value,
                     "loop": {"key": key}}
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
        try:
            await self.run_steps(block.steps, ctx, dict(scope, steps=dict(scope["steps"])))
            return ItemStatus.DONE, None, []
        except Exception as exc:
            status = ItemStatus.BUSINESS_ERROR if _is_business(exc) else ItemStatus.APPLICATION_ERROR
            evidence = [str(p) for p in await ctx.collect_evidence(exc)]
            log.info("item.failed", status=status, error=_error_text(exc), evidence=evidence)
            return status, _error_text(exc), evidence
        finally:
            await ctx.aclose()

    def _finish(self, block: str, key: str, status: ItemStatus, error: str | None, evidence: list[str],
                verified: bool = False) -> ItemStatus:
        if status is ItemStatus.DONE:
            ledger.record_done(self.store, self.run_id, key, self.minutes, verified=verified)
        else:
            self.store.finish_item(self.run_id, key, status, error=error, evidence=evidence)
        if self.progress:
            self.progress.item_finished(block, key, status)
        return status


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
    spec, store = runner.spec, runner.store
    counts = store.counts(runner.run_id)
    # A completed run saved its fixed minutes unless it had items and none was done: then the
    # agent still does the whole job by hand (failed or skipped items save nothing).
    if status in RUN_COMPLETED and (not counts or counts.get(ItemStatus.DONE, 0) > 0):
        ledger.record_run(store, runner.run_id, runner.minutes)
    store.finish_run(runner.run_id, status, error, owner)
    result = RunResult(runner.run_id, spec.robot, status, counts,
                       store.run_minutes(runner.run_id), time.perf_counter() - started, error)
    log.info("run.finished", status=status.value, counts={s.value: n for s, n in result.counts.items()},
             minutes_saved=result.minutes_saved)
    return result


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]

