"""The executor contract and how one is chosen (built-ins and the `robocore.executors` entry points)."""

from __future__ import annotations

from typing import Protocol

from robocore import extensions
from robocore.errors import PluginError
from robocore.i18n import gettext as _

ENTRY_POINT_GROUP = extensions.EXECUTORS.group


class Executor(Protocol):
    """Something that executes queued runs (by id) somewhere, exactly once per item through the store."""

    name: str

    def submit(self, run_id: str, queue: str | None = None) -> None:
        """Hand a queued run over; returns at once."""

    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting runs; with wait, let the current ones finish."""


_instances: dict[str, Executor] = {}


def get_executor(name: str) -> Executor:
    """The executor of that name, created once per process (only its own entry point is imported).

    Raises:
        PluginError: no executor has that name, or it could not be loaded or created (the
            message is its report: entry point, distribution, error).
    """
    if name not in _instances:
        loaded = extensions.load(extensions.EXECUTORS, only={name})
        found = loaded.get(name)
        if found is None:
            raise PluginError(_("unknown executor '{name}' (available: {available})", name=name,
                                available=", ".join(loaded.available)))
        try:
            _instances[name] = found.obj()
        except Exception as exc:  # its constructor failed: the same report as a failed import
            raise extensions.BrokenExtensionError(extensions.report_broken(found.origin, exc)) from exc
    return _instances[name]
