"""The executor contract and how one is chosen (built-ins and the `robocore.executors` entry points)."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Protocol

from robocore.errors import PluginError

ENTRY_POINT_GROUP = "robocore.executors"


class Executor(Protocol):
    """Something that executes queued runs (by id) somewhere, exactly once per item through the store."""

    name: str

    def submit(self, run_id: str, queue: str | None = None) -> None:
        """Hand a queued run over; returns at once."""

    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting runs; with wait, let the current ones finish."""


_instances: dict[str, Executor] = {}


def get_executor(name: str) -> Executor:
    """The executor of that name, created once per process."""
    if name not in _instances:
        found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
        if name not in found:
            raise PluginError(f"exécuteur inconnu '{name}' (disponibles : {', '.join(sorted(found))}) "
                              "/ unknown executor")
        _instances[name] = found[name].load()()
    return _instances[name]
