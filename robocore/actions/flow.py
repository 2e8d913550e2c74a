"""Built-in flow actions: log, set, assert, fail, wait."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from robocore import ApplicationError, BusinessError, Context, action
from robocore.i18n import gettext as _


@action("flow.log")
def log(ctx: Context, message: Any, level: Literal["debug", "info", "warning", "error"] = "info") -> None:
    """Write a message to the run's log."""
    getattr(ctx.log, level)("robot.message", message=str(message))


@action("flow.set")
def set_values(ctx: Context, values: dict[str, Any]) -> dict[str, Any]:
    """Compute values once and expose them as this step's output (steps.<id>.<name>)."""
    return dict(values)


@action("flow.assert")
def assert_(ctx: Context, that: Any, message: str | None = None,
            business: bool = True) -> None:
    """Fail the item when a condition is false (a business error by default)."""
    from robocore.expressions import truthy

    if not truthy(that):
        raise (BusinessError if business else ApplicationError)(message or _("assertion failed"))


@action("flow.fail")
def fail(ctx: Context, message: str, kind: Literal["business", "application"] = "business") -> None:
    """Fail the item on purpose with a business (default) or application error."""
    raise (BusinessError if kind == "business" else ApplicationError)(message)


@action("flow.wait")
async def wait(ctx: Context, seconds: float) -> None:
    """Pause this item for a number of seconds (other items go on)."""
    if seconds < 0 or seconds > 3600:
        raise BusinessError(_("invalid wait: {seconds} s (0 to 3600)", seconds=seconds))
    await asyncio.sleep(seconds)
