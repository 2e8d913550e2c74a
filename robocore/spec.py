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

    name: str = Field(description="Nom du processus métier")
    service: str = Field(description="Service ou direction")
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
    """A secret the robot needs; values come from providers, never from the file.

    Its `identifiers` are fields the target site itself shows on its pages (a user name): scrubbed
    from logs, errors, reports and the store like the others, typed without voiding the browser
    trace, and allowed in a kept trace; every other field is a password, never kept in a trace.
    """

    fields: list[str] = Field(min_length=1, description="Champs du secret, ex. [username, password]")
    identifiers: list[str] = Field(
        default_factory=list,
        description="Champs qui sont des identifiants affichés par le site (ex. [username]) : masqués partout "
                    "comme les autres, mais leur présence dans une trace ne l'annule pas (celle d'un mot de passe, "
                    "si)")
    label: str | None = None

    @model_validator(mode="after")
    def _identifiers_are_fields(self) -> SecretSpec:
        """Each identifier names one of the secret's fields."""
        for name in self.identifiers:
            if name not in self.fields:
                raise _refused(_("identifier '{identifier}' is not one of the fields of this secret ({fields})",
                                 identifier=name, fields=", ".join(self.fields)))
        return self


class ActionStep(_Strict):
    """A step that calls one action."""

    id: str | None = Field(None, pattern=STEP_ID_RE, description="Nom de la sortie: steps.<id>")
    name: str | None = None
    use: str = Field(description="Action à appeler, ex. browser.fill")
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    when: str | bool | None = Field(None, description="Condition: l'étape ne s'exécute que si vraie")
    continue_on_error: bool = Field(False, description=(
        "Keep going when this step fails. Its output `steps.<id>` is then `{ok: false, error: \"...\"}` "
        "(test it with `{{ steps.<id>.ok is false }}`); a step that succeeds keeps its action's result."))


MAX_CONCURRENCY = 64


class ForEach(_Strict):
    """A loop over durable work items: each is stored before it is processed.

    Pages: with `concurrency: 1` the items run in the page the steps before the loop left (same
    browser context), and the steps after the loop continue in it. With more lanes, each lane
    works in its own page, seeded with the run-level cookies and storage and opened at the
    run-level page's address: what the earlier steps *did* on the page (a click on "Start", a
    search) is not replayed there — put those steps under `lane_setup:`, run once per lane
    before its first item.

    In the item steps, `loop` holds `key`, `index` (1-based), `index0`, `first`, `last`,
    `length` (positions in the `for_each` list) and `lane` (1-based lane number).
    """

    id: str | None = Field(None, pattern=STEP_ID_RE)
    name: str | None = None
    for_each: str | list[Any] = Field(description="Liste des éléments (expression)")
    as_: str = Field("item", alias="as", pattern=STEP_ID_RE)
    key: str = Field(description="Clé durable de l'élément, unique dans l'exécution")
    retries: int = Field(0, ge=0, le=20, description="Nouvelles tentatives sur erreur applicative")
    backoff_seconds: float = Field(1.0, ge=0, le=3600)
    concurrency: int | str = Field(1, description=(
        "Items processed at once, 1 to 64, or an expression rendered when the run starts, e.g. "
        "\"{{ inputs.lanes }}\". With 1, the items run in the page the steps before the loop left; "
        "with more, each lane has its own page (see lane_setup)."), json_schema_extra={"anyOf": [
            {"type": "integer", "minimum": 1, "maximum": MAX_CONCURRENCY},
            {"type": "string", "pattern": r"\{\{"}]})
    stop_on_failure: bool = False
    stop_on_first_timeout: bool = Field(True, description=(
        "Stop the loop when an item fails on a timeout before any item of the loop succeeded: the page "
        "is not what the robot expects. The other items stay pending (`robo resume` takes them) and "
        "the run fails with a message saying so. false: every item waits its own timeout."))
    lane_setup: list[ActionStep] = Field(default_factory=list, description=(
        "Steps run once per lane, in the lane's own page, before its first item (open the portal, "
        "log in, click Start). A failing lane setup fails the item that lane was about to take, "
        "naming the lane; the other lanes go on."))
    verify: list[ActionStep] = Field(default_factory=list,
                                     description="Étapes qui prouvent qu'un élément est déjà fait")
    steps: list[ActionStep] = Field(min_length=1)
    when: str | bool | None = None

    @field_validator("concurrency", mode="before")
    @classmethod
    def _lanes(cls, v: Any) -> int | str:
        """A whole number from 1 to 64, or an expression rendered (and checked) when the run starts."""
        if is_expression(v):
            return str(v)
        try:
            return lane_count(v)
        except ValueError as exc:
            raise _refused(str(exc)) from None


def lane_count(value: Any) -> int:
    """A loop's concurrency from a literal or a rendered expression: a whole number from 1 to 64.

    Raises:
        ValueError: naming the value given and what is expected.
    """
    v = value
    if isinstance(v, str) and v.strip().isdigit():
        v = int(v)
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(_("a number from 1 to {maximum} or an expression such as \"{{{{ inputs.lanes }}}}\" "
                           "is expected, got \"{value}\"", maximum=MAX_CONCURRENCY, value=value))
    if not 1 <= v <= MAX_CONCURRENCY:
        raise ValueError(_("a number from 1 to {maximum} is expected, got {value}", maximum=MAX_CONCURRENCY,
                           value=v))
    return v


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
