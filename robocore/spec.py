"""Pydantic models of a robot file: process, inputs, secrets and steps."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator
from pydantic_core import PydanticCustomError

from robocore.i18n import gettext as _

NAME_RE = r"^[a-z0-9][a-z0-9_-]*$"
STEP_ID_RE = r"^[A-Za-z_][A-Za-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Process(_Strict):
    """What the saved hours count against, and an agent's manual time."""

    name: str = Field(description="Nom du processus métier / business process name")
    service: str = Field(description="Service ou direction / department")
    manual_minutes_per_item: float = Field(ge=0, le=24 * 60,
                                           description="Minutes d'un agent pour un élément, à la main")
    manual_minutes_per_run: float = Field(0, ge=0, le=24 * 60,
                                          description="Minutes fixes par exécution (ouvrir les fichiers...)")


InputType = Literal["text", "number", "date", "choice", "file", "url", "bool"]


def _refused(message: str) -> PydanticCustomError:
    """A refusal shown as written (no "Value error," prefix): the loader quotes it after the input's place."""
    return PydanticCustomError("input_definition", message)  # without context, braces are kept as they are


class InputSpec(_Strict):
    """One input an agent or a schedule gives the robot."""

    type: InputType = "text"
    label: str | None = Field(None, description="Libellé affiché (en français)")
    help: str | None = None
    default: Any = None
    required: bool = True
    choices: list[str] | None = None
    accept: list[str] | None = Field(None, description="Extensions acceptées pour un fichier, ex. [.xlsx]")
    minimum: int | float | dt.date | None = Field(None, description="Plus petite valeur (nombre ou date)")
    maximum: int | float | dt.date | None = Field(None, description="Plus grande valeur (nombre ou date)")

    @model_validator(mode="after")
    def _bounds(self) -> InputSpec:
        """Bounds only for numbers (numbers) and dates (dates), the minimum not above the maximum."""
        given = [(key, v) for key, v in (("minimum", self.minimum), ("maximum", self.maximum)) if v is not None]
        if given and self.type not in ("number", "date"):
            raise _refused(_("'{key}' applies to number and date inputs only", key=given[0][0]))
        for key, value in given:
            if (self.type == "date") != isinstance(value, dt.date):
                expected = _("a date (YYYY-MM-DD)") if self.type == "date" else _("a number")
                raise _refused(_("'{key}' must be {expected}, got {value}", key=key, expected=expected,
                                 value=str(value)))
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:  # type: ignore[operator]
            raise _refused(_("'minimum' ({minimum}) is above 'maximum' ({maximum})", minimum=self.minimum,
                               maximum=self.maximum))
        return self

    @field_validator("accept")
    @classmethod
    def _dotted(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            for ext in v:
                if not ext.startswith("."):
                    raise ValueError(f"extension '{ext}' must start with a dot, e.g. '.{ext}'")
        return v


class SecretSpec(_Strict):
    """A secret the robot needs; values come from providers, never from the file."""

    fields: list[str] = Field(min_length=1, description="Champs du secret, ex. [username, password]")
    label: str | None = None


class ActionStep(_Strict):
    """A step that calls one action."""

    id: str | None = Field(None, pattern=STEP_ID_RE, description="Nom de la sortie: steps.<id>")
    name: str | None = None
    use: str = Field(description="Action à appeler, ex. browser.fill")
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    when: str | bool | None = Field(None, description="Condition: l'étape ne s'exécute que si vraie")
    continue_on_error: bool = False


class ForEach(_Strict):
    """A loop over durable work items: each is stored before it is processed."""

    id: str | None = Field(None, pattern=STEP_ID_RE)
    name: str | None = None
    for_each: str | list[Any] = Field(description="Liste des éléments (expression)")
    as_: str = Field("item", alias="as", pattern=STEP_ID_RE)
    key: str = Field(description="Clé durable de l'élément, unique dans l'exécution")
    retries: int = Field(0, ge=0, le=20, description="Nouvelles tentatives sur erreur applicative")
    backoff_seconds: float = Field(1.0, ge=0, le=3600)
    concurrency: int = Field(1, ge=1, le=64)
    stop_on_failure: bool = False
    verify: list[ActionStep] = Field(default_factory=list,
                                     description="Étapes qui prouvent qu'un élément est déjà fait")
    steps: list[ActionStep] = Field(min_length=1)
    when: str | bool | None = None


def _step_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "for_each" if "for_each" in value else "action"
    return "for_each" if hasattr(value, "for_each") else "action"


Step = Annotated[Annotated[ActionStep, Tag("action")] | Annotated[ForEach, Tag("for_each")],
                 Discriminator(_step_kind)]


class Robot(_Strict):
    """A robot file (robot.yaml)."""

    robot: str = Field(pattern=NAME_RE, description="Identifiant du robot (minuscules, tirets)")
    title: str | None = None
    description: str | None = None
    version: int = 1
    process: Process | None = None
    inputs: dict[str, InputSpec] = Field(default_factory=dict)
    secrets: dict[str, SecretSpec] = Field(default_factory=dict)
    queue: str | None = Field(None, description="File d'attente Celery, ex. browser")
    timeout_ms: int = Field(10_000, ge=100, le=600_000, description="Délai d'attente par défaut (ms)")
    steps: list[Step] = Field(min_length=1)


def model_keys() -> dict[str, list[str]]:
    """Valid keys of each model, by alias, for 'did you mean' suggestions."""
    out: dict[str, list[str]] = {}
    for model in (Robot, Process, InputSpec, SecretSpec, ActionStep, ForEach):
        out[model.__name__] = [f.alias or n for n, f in model.model_fields.items()]
    return out


def is_expression(value: Any) -> bool:
    """True when a value holds a Jinja expression or statement."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


SECRET_NAME_RE = re.compile(r"(pass(word|wd)?|mot[\s_-]?de[\s_-]?passe|mdp|secret|token|api[_-]?key)", re.I)
