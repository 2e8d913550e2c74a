"""Automation ideas sent by agents (the tray's "Proposer une automatisation"): kept as processes at the
`idea` stage, named after the task, so engineers and managers find them beside the other processes.

Validated here, at the boundary, with messages naming the field (the processes' own wording where it fits).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from robocore.i18n import N_, Message, render
from robocore.i18n import lazy_gettext as _l
from robocore.processes import DESCRIPTION_MAX, NAME_MAX, VOLUME_MAX, InvalidProcess, field_refusal
from robocore.store.rows import ProcessStage

if TYPE_CHECKING:
    from robocore.store import Store

__all__ = ["FREQUENCIES", "Idea", "IdeaExists", "parse", "propose"]

Frequency = Literal["daily", "weekly", "monthly", "yearly", "occasional"]
FREQUENCIES: dict[str, Message] = {"daily": _l("every day"), "weekly": _l("every week"),
                                   "monthly": _l("every month"), "yearly": _l("every year"),
                                   "occasional": _l("now and then")}
MINUTES_MAX = 10_000.0
_NO_NUL = r"^[^\x00]*$"
_NAME = r"^[^\x00]*[^\x00\s][^\x00]*$"  # not blank (the document says so too), no NUL


class Idea(BaseModel):
    """What an agent proposes: the task, how often, how long by hand; the yearly volume and details if known."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # descriptions: English msgids, shown in the API's language by its OpenAPI document (robocore.server.app)
    task: str = Field(min_length=1, max_length=NAME_MAX, pattern=_NAME, description=N_("The task to automate"))
    frequency: Frequency = Field(description=N_("daily, weekly, monthly, yearly or occasional"))
    minutes_by_hand: float = Field(gt=0, le=MINUTES_MAX, allow_inf_nan=False,
                                   description=N_("Minutes by hand, each time"))
    volume_per_year: int | None = Field(None, ge=0, le=VOLUME_MAX, description=N_("Times (or items) a year"))
    details: str | None = Field(None, max_length=DESCRIPTION_MAX, pattern=_NO_NUL, description=N_("Details"))


class IdeaExists(Exception):
    """A process already has the idea's name."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _shown(value: Any, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _refusal(error: Mapping[str, Any]) -> InvalidProcess:
    """One pydantic error as our message, naming the field (the processes' msgids where they fit)."""
    field = ".".join(str(p) for p in error.get("loc", ())) or "body"
    kind, value, ctx = error.get("type", ""), error.get("input"), error.get("ctx") or {}
    if kind == "extra_forbidden":
        return InvalidProcess(field, _l("unknown field “{field}” (fields: {known})", field=field,
                                        known=", ".join(Idea.model_fields)))
    if kind == "missing":
        return InvalidProcess(field, _l("“{field}” is required", field=field))
    if kind == "literal_error":
        return InvalidProcess(field, _l("“{field}” must be one of {choices}, got {value}", field=field,
                                        choices=", ".join(FREQUENCIES), value=_shown(value)))
    if kind == "string_too_short" or (kind == "string_pattern_mismatch" and not str(value).strip()):
        return InvalidProcess(field, _l("“{field}” is required", field=field))
    return field_refusal(field, kind, value, ctx) or InvalidProcess(
        field, _l("invalid value for “{field}”: {value}", field=field, value=_shown(value)))


def parse(data: Any) -> Idea:
    """An idea from a JSON body (InvalidProcess naming the first wrong field)."""
    if not isinstance(data, Mapping):
        raise InvalidProcess("body", _l("“body”: a JSON object is expected ({fields})",
                                        fields=", ".join(Idea.model_fields)))
    try:
        return Idea.model_validate(dict(data))
    except ValidationError as exc:
        raise _refusal(exc.errors()[0]) from None


def _minutes(value: float) -> str:
    return f"{value:g}"


def description(idea: Idea, author: str, lang: str) -> str:
    """The process's description: who proposed it and what they said, in the server's language."""
    lines = [_l("Idea proposed by {author}.", author=author),
             _l("How often: {frequency}.", frequency=FREQUENCIES[idea.frequency]),
             _l("Time by hand: {minutes} min each time.", minutes=_minutes(idea.minutes_by_hand))]
    if idea.volume_per_year is not None:
        lines.append(_l("Volume per year: {volume}.", volume=idea.volume_per_year))
    text = "\n".join(render(line, lang) for line in lines)
    if idea.details:
        text += "\n" + render(_l("Details: {details}", details=idea.details), lang)
    return text[:DESCRIPTION_MAX]


def propose(store: Store, data: Any, author: str, lang: str) -> str:
    """Record an idea as a process at the `idea` stage (InvalidProcess, IdeaExists); returns its name."""
    idea = parse(data)
    if not store.ensure_process(idea.task, None, author, ProcessStage.IDEA,
                                description=description(idea, author, lang)):
        raise IdeaExists(idea.task)
    return idea.task
