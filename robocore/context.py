"""The run Context handed to every action: paths, logging, settings and scoped resources."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import structlog

from robocore.paths import PathPolicy

T = TypeVar("T")
FailureHook = Callable[["Context", BaseException], Awaitable[list[Path]]]


@dataclass
class RunSettings:
    """Options of one run that actions read (set from the CLI or the server).

    Attributes:
        allowed_dirs: folders besides the robot's and the run's that paths may lie in
            (`ROBOCORE_ALLOWED_DIRS`, added where runs are executed).
        input_files: the files given as the run's `file` inputs, usable wherever they are.
    """

    headed: bool = False
    timeout_ms: int = 10_000
    trace: bool = False
    allowed_dirs: list[Path] = field(default_factory=list)
    input_files: list[Path] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


class _Scope:
    """Resources of one scope (the run or one item), closed in reverse order."""

    def __init__(self) -> None:
        self.stack = contextlib.AsyncExitStack()
        self.values: dict[str, Any] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.failure_hooks: list[FailureHook] = []
        self.per_lane: set[str] = set()  # names opened here that each lane of a loop opens anew


def safe_name(text: str) -> str:
    """A file-name-safe rendering of an item key or step id."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")[:80] or "item"


class Context:
    """What an action sees of the run: never the store, never other items.

    Attributes:
        run_id: the run's identifier.
        robot: the robot's name.
        robot_dir: folder of robot.yaml; relative paths resolve against it.
        run_dir: the run's own folder (<home>/runs/<run_id>) for logs and evidence.
        level: "run", "lane" (one concurrency slot of a for_each) or "item".
        item_key: the current work item's key, None outside a for_each.
        unit: what evidence and traces are filed under: the item key, "lane-2-setup", or None (the run).
        settings: headed, timeout_ms, trace, allowed_dirs.
        log: a structlog logger bound with run_id, robot, item and step.
    """

    def __init__(self, *, run_id: str, robot: str, robot_dir: Path, run_dir: Path,
                 settings: RunSettings | None = None, item_key: str | None = None,
                 parent: Context | None = None, level: str = "run", unit: str | None = None) -> None:
        self.run_id, self.robot = run_id, robot
        self.robot_dir, self.run_dir = robot_dir, run_dir
        self.settings = settings or RunSettings()
        self.item_key = item_key
        self.unit = unit or item_key
        self.parent = parent
        self.level = level
        self.step_id: str | None = None
        self._scope = _Scope()
        self._policy: tuple[tuple[Any, ...], PathPolicy] | None = None
        self.log = structlog.get_logger("robocore.action")

    # ---- scopes -------------------------------------------------------------
    def for_lane(self) -> Context:
        """A child context for one concurrency lane of a for_each (one browser page each).

        A loop of one lane does not call it: its items are children of the run context and share
        the run's lane-scoped resources (the run-level page).
        """
        return Context(run_id=self.run_id, robot=self.robot, robot_dir=self.robot_dir,
                       run_dir=self.run_dir, settings=self.settings, parent=self, level="lane")

    def for_setup(self, lane: int) -> Context:
        """A child context for the `lane_setup` steps of one lane: item-like, evidence under lane-<n>-setup."""
        return Context(run_id=self.run_id, robot=self.robot, robot_dir=self.robot_dir,
                       run_dir=self.run_dir, settings=self.settings, parent=self, level="item",
                       unit=f"lane-{lane}-setup")

    def for_item(self, key: str) -> Context:
        """A child context for one work item: its own item-scoped resources."""
        return Context(run_id=self.run_id, robot=self.robot, robot_dir=self.robot_dir,
                       run_dir=self.run_dir, settings=self.settings, item_key=key,
                       parent=self, level="item")

    def _scope_for(self, scope: str) -> _Scope:
        """The nearest scope at `scope` level or above ("item" < "lane" < "run")."""
        order = {"item": 0, "lane": 1, "run": 2}
        ctx: Context = self
        while order[ctx.level] < order[scope] and ctx.parent is not None:
            ctx = ctx.parent
        return ctx._scope

    def resource(self, name: str, factory: Callable[[], contextlib.AbstractContextManager[T]],
                 scope: str = "run") -> T:
        """Open a resource once per scope ("run" or "item") from a context-manager factory."""
        sc = self._scope_for(scope)
        if name not in sc.values:
            sc.values[name] = sc.stack.enter_context(factory())
            if scope == "lane":
                sc.per_lane.add(name)
        return sc.values[name]

    async def aresource(self, name: str,
                        factory: Callable[[], contextlib.AbstractAsyncContextManager[T]],
                        scope: str = "run") -> T:
        """Open an async resource once per scope; concurrent items share a run-scoped one."""
        sc = self._scope_for(scope)
        lock = sc.locks.setdefault(name, asyncio.Lock())
        async with lock:
            if name not in sc.values:
                sc.values[name] = await sc.stack.enter_async_context(factory())
                if scope == "lane":
                    sc.per_lane.add(name)
        return sc.values[name]

    def peek(self, name: str, scope: str = "item") -> Any:
        """The resource already open under `name` in that scope, or None."""
        return self._scope_for(scope).values.get(name)

    def per_lane_resources(self) -> set[str]:
        """Names of the open resources of this scope that each lane of a loop opens for itself (a page)."""
        return set(self._scope.per_lane)

    def on_failure(self, hook: FailureHook) -> None:
        """Register a hook called when the current item fails; it returns evidence files."""
        hooks = self._scope_for("item").failure_hooks
        if hook not in hooks:
            hooks.append(hook)

    async def collect_evidence(self, exc: BaseException) -> list[Path]:
        """Run the failure hooks (engine use); a failing hook never hides the item's error."""
        paths: list[Path] = []
        for hook in self._scope.failure_hooks:
            with contextlib.suppress(Exception):
                paths.extend(await hook(self, exc))
        return paths

    async def aclose(self) -> None:
        """Close this scope's resources in reverse order (engine use)."""
        await self._scope.stack.aclose()
        self._scope = _Scope()

    # ---- paths ---------------------------------------------------------------
    def path(self, path: str | Path, *, write: bool = False) -> Path:
        """A path from a robot, resolved and confined: THE call of every action that opens a file.

        Relative paths are relative to the robot's folder; the result (links followed) must lie
        in the robot's folder, the run's folder, an allowed folder, or be a file input of the run
        (robocore.paths). With `write`, the parent folder is created and the target checked again.

        Raises:
            BusinessError (PathRefused): naming the current step and the path.
        """
        return self._path_policy().check(path, write=write, step=self.step_id)

    def _path_policy(self) -> PathPolicy:
        """The run's policy, its folders resolved once per run (and again if its settings change)."""
        root: Context = self
        while root.parent is not None:
            root = root.parent
        key = (self.robot_dir, self.run_dir, tuple(self.settings.allowed_dirs), tuple(self.settings.input_files))
        if root._policy is None or root._policy[0] != key:
            root._policy = (key, PathPolicy.of(*key))
        return root._policy[1]

    def resolve_path(self, path: str | Path) -> Path:
        """Former name of `path(p)` (reading), kept for plugins: confined the same way."""
        return self.path(path)

    def evidence_path(self, filename: str) -> Path:
        """Where to save a piece of evidence for the current item (folder created, path confined)."""
        folder = self.run_dir / "evidence" / safe_name(self.unit or "run")
        return self.path(folder / safe_name(filename), write=True)


@contextlib.asynccontextmanager
async def anull(value: T) -> AsyncIterator[T]:
    """An async context manager yielding a value, for a resource with nothing to close."""
    yield value
