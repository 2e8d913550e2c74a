"""Extensions: every kind is loaded the same way, from its entry-point group, once per process.

One failure policy for all of them: an extension that cannot be loaded is reported by name
(its kind, entry-point name, distribution and target, the error's one-line message) and
skipped; what loaded is used; whoever needs the broken one fails with that report.
A new kind (the tray's, the dashboard's) is one more `ExtensionPoint` below.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any, Generic, TypeVar

from robocore.errors import PluginError

T = TypeVar("T")


@dataclass(frozen=True)
class ExtensionPoint(Generic[T]):
    """One kind of extension: its entry-point group, its name in messages, and what is kept of each.

    Args:
        accept: turns the object an entry point loads into what the point keeps; raising
            (TypeError...) marks the extension as broken, like a failing import.
    """

    group: str
    kind: str
    accept: Callable[[Any], T]


def _module(obj: Any) -> ModuleType:
    if not isinstance(obj, ModuleType):
        raise TypeError(f"expected a module of actions, got {type(obj).__name__}")
    return obj


def _factory(obj: Any) -> Callable[..., Any]:
    if not callable(obj):
        raise TypeError(f"expected a class or a factory, got {type(obj).__name__}")
    return obj


ACTIONS: ExtensionPoint[ModuleType] = ExtensionPoint("robocore.plugins", "plugin", _module)
EXECUTORS: ExtensionPoint[Callable[..., Any]] = ExtensionPoint("robocore.executors", "executor", _factory)
SECRET_PROVIDERS: ExtensionPoint[Callable[..., Any]] = ExtensionPoint(
    "robocore.secret_providers", "secret provider", _factory)
POINTS: tuple[ExtensionPoint[Any], ...] = (ACTIONS, EXECUTORS, SECRET_PROVIDERS)


@dataclass(frozen=True)
class Origin:
    """Where an extension comes from: its kind, entry-point name, distribution and target."""

    kind: str
    name: str
    dist: str
    target: str

    @property
    def label(self) -> str:
        """How messages name it: `plugin 'exemple' (robocore-plugin-exemple: robocore_plugin_exemple.actions)`."""
        return f"{self.kind} '{self.name}' ({self.dist}: {self.target})"


@dataclass(frozen=True)
class _Found:
    """What the loader found at an entry point, named as its origin is."""

    origin: Origin

    @property
    def name(self) -> str:
        return self.origin.name

    @property
    def label(self) -> str:
        return self.origin.label


@dataclass(frozen=True)
class Extension(_Found, Generic[T]):
    """An extension that loaded: where it comes from and what its point kept of it."""

    obj: T


@dataclass(frozen=True)
class Broken(_Found):
    """An extension that could not be loaded (or used), and why, in one line."""

    error: str

    @property
    def report(self) -> str:
        """`executor 'x' (dist: module:Class): ImportError: No module named 'y'`."""
        return f"{self.label}: {self.error}"


class BrokenExtensionError(PluginError):
    """A run or a command needs an extension that could not be loaded."""

    def __init__(self, broken: Broken) -> None:
        super().__init__(f"extension non chargée / {broken.origin.kind} not loaded: {broken.report}")
        self.broken = broken


@dataclass(frozen=True)
class Loaded(Generic[T]):
    """What one point gave: its extensions by name, the broken ones, and every name its group declares."""

    point: ExtensionPoint[T]
    extensions: dict[str, Extension[T]]
    broken: dict[str, Broken]
    available: tuple[str, ...]

    def __iter__(self) -> Iterator[Extension[T]]:
        return iter(self.extensions.values())

    def get(self, name: str) -> Extension[T] | None:
        """The named extension; None when no entry point has that name.

        Raises:
            BrokenExtensionError: the named extension could not be loaded (the message is its report).
        """
        if name in self.broken:
            raise BrokenExtensionError(self.broken[name])
        return self.extensions.get(name)


def one_line(exc: BaseException) -> str:
    """`TypeName: first line of the message`, as reports show an error."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def report_broken(origin: Origin, exc: BaseException) -> Broken:
    """Log that an extension failed (to load, or when its object was first used) and return its report."""
    import structlog

    broken = Broken(origin, one_line(exc))
    structlog.get_logger("robocore.extensions").warning(
        "extension.load_failed", kind=origin.kind, extension=origin.name, dist=origin.dist,
        entry_point=origin.target, error=broken.error)
    return broken


_lock = threading.RLock()  # reentrant: an extension may load another kind while being imported
# group → its entry points, each with its distribution's name (scanning them is slow)
_declared: dict[str, tuple[tuple[EntryPoint, str], ...]] = {}
_outcomes: dict[tuple[str, Origin], Extension[Any] | Broken] = {}  # each entry point, loaded once


def _entry_points(group: str) -> tuple[tuple[EntryPoint, str], ...]:
    """The group's entry points and their distributions' names, from one scan for every kind.

    Every installed distribution is read on each scan, whatever the group, so the groups of
    all the kinds are taken from the same scan; and a distribution's name (`ep.dist.name`
    parses its metadata each time it is asked) is read once per distribution, not per entry point.
    A group already scanned (and not forgotten) keeps what it had.
    """
    if group not in _declared:
        found = entry_points()
        names: dict[int, str] = {}  # id of a distribution of this scan → its name
        for wanted in dict.fromkeys([group, *(point.group for point in POINTS)]):
            if wanted in _declared:
                continue
            declared = []
            for ep in found.select(group=wanted):
                dist = ep.dist
                if dist is None:
                    declared.append((ep, "?"))
                    continue
                if id(dist) not in names:
                    names[id(dist)] = dist.name
                declared.append((ep, names[id(dist)]))
            _declared[wanted] = tuple(declared)
    return _declared[group]


def _load_one(point: ExtensionPoint[T], ep: EntryPoint, origin: Origin) -> Extension[T] | Broken:
    try:
        return Extension(origin, point.accept(ep.load()))
    except Exception as exc:  # a broken extension must not stop what does not need it
        return report_broken(origin, exc)


def load(point: ExtensionPoint[T], only: Collection[str] | None = None) -> Loaded[T]:
    """Load the point's extensions (or only the named ones), each entry point at most once per process.

    Two distributions declaring the same name: the second is broken, and asking for that
    name fails naming both (neither silently wins).

    Args:
        only: entry-point names to load; the others are not even imported (None: all).
    """
    with _lock:
        declared = _entry_points(point.group)
        extensions: dict[str, Extension[T]] = {}
        broken: dict[str, Broken] = {}
        first: dict[str, Origin] = {}
        for ep, dist in declared:
            if only is not None and ep.name not in only:
                continue
            origin = Origin(point.kind, ep.name, dist, ep.value)
            key = (point.group, origin)
            if key not in _outcomes:
                clash = first.get(ep.name)
                _outcomes[key] = (report_broken(origin, ValueError(f"name already provided by {clash.label}"))
                                  if clash else _load_one(point, ep, origin))
            first.setdefault(ep.name, origin)
            outcome = _outcomes[key]
            if isinstance(outcome, Broken):
                broken[ep.name] = outcome
            else:
                extensions[ep.name] = outcome
        return Loaded(point, extensions, broken, tuple(sorted({ep.name for ep, _ in declared})))


def forget(point: ExtensionPoint[Any] | None = None) -> None:
    """Forget what was scanned and loaded (for one point, or for all): the next load looks again."""
    with _lock:
        for group in [point.group] if point else list(_declared):
            _declared.pop(group, None)
        for key in [k for k in _outcomes if point is None or k[0] == point.group]:
            del _outcomes[key]
