"""Built-in flow actions: log, set, assert, fail, wait."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from robocore import ApplicationError, BusinessError, Context, action
from robocore.i18n import gettext as _


@action("flow.log")
def log(ctx: Context, message: Any, level: Literal["debug", "info", "warning", "error"] = "info") -> None:
    """Write a message to the run's log.

    Args:
        message: the text to write (any value is written as text).
        level: `debug`, `info`, `warning` or `error`; `warning` and `error` also show on the console.

    Example:
        - use: flow.log
          with: {message: "Dossier {{ item.numero }} traité", level: info}
    """
    getattr(ctx.log, level)("robot.message", message=str(message))


@action("flow.set")
def set_values(ctx: Context, values: dict[str, Any]
               ) -> Annotated[dict[str, Any], "each entry of `values` under its own name: steps.<id>.<name>"]:
    """Compute values once and expose them as this step's output (steps.<id>.<name>).

    Args:
        values: names and values (expressions computed once, when the step runs).

    Example:
        - id: dates
          use: flow.set
          with:
            values: {mois: "{{ inputs.mois }}", fichier: "releve-{{ inputs.mois }}.xlsx"}
    """
    return dict(values)


@action("flow.assert")
def assert_(ctx: Context, that: Any, message: str | None = None,
            business: bool = True) -> None:
    """Fail the item when a condition is false (a business error by default).

    Args:
        that: the condition, usually an expression.
        message: the error's message (default "assertion failed").
        business: false: an application error (the item is retried) instead of a business one.

    Example:
        - use: flow.assert
          with: {that: "{{ steps.releve.count > 0 }}", message: "relevé vide"}
    """
    from robocore.expressions import truthy

    if not truthy(that):
        raise (BusinessError if business else ApplicationError)(message or _("assertion failed"))


@action("flow.fail")
def fail(ctx: Context, message: str, kind: Literal["business", "application"] = "business") -> None:
    """Fail the item on purpose with a business (default) or application error.

    Args:
        message: the error's message, shown in the run's summary.
        kind: `business` (the data is wrong: no retry) or `application` (the system failed: retried).

    Example:
        - use: flow.fail
          when: "{{ item.montant < 0 }}"
          with: {message: "montant négatif"}
    """
    raise (BusinessError if kind == "business" else ApplicationError)(message)


@action("flow.wait")
async def wait(ctx: Context, seconds: float) -> None:
    """Pause this item for a number of seconds (other items go on).

    Args:
        seconds: 0 to 3600.

    Example:
        - use: flow.wait
          with: {seconds: 2}
    """
    if seconds < 0 or seconds > 3600:
        raise BusinessError(_("invalid wait: {seconds} s (0 to 3600)", seconds=seconds))
    await asyncio.sleep(seconds)
