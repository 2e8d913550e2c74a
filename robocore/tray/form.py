"""The launch form generated from a robot's `inputs`: fields, defaults, remembered values, checks.

The server's `GET /api/v1/robots/{robot}` gives each input's `type`, `label`, `help`, `required`,
`default`, `choices` and `accept` (robocore.server.catalog.input_fields); `minimum`/`maximum` and
`secret` are read when a server sends them. Checks here mirror robocore.inputs so that an agent
learns of a mistake before the launch, in her language, with the field's label.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from robocore.i18n import gettext as _

Kind = Literal["text", "number", "date", "choice", "file", "url", "bool", "secret"]
KINDS: tuple[Kind, ...] = ("text", "number", "date", "choice", "file", "url", "bool", "secret")
TEXT_MAX = 10_000  # the server's ROBOCORE_INPUT_MAX_CHARS default


@dataclass(frozen=True)
class FormField:
    """One input of the robot as a form field."""

    name: str
    kind: Kind
    label: str
    help: str | None = None
    required: bool = True
    default: Any = None
    choices: tuple[str, ...] = ()
    accept: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None

    @property
    def must_fill(self) -> bool:
        """Required with no default: the agent must give a value (a default is used by the server)."""
        return self.required and self.default in (None, "")

    def file_filter(self) -> str:
        """The file dialog's filter: `Classeur (*.xlsx *.ods)`; every file when `accept` is empty."""
        if not self.accept:
            return _("All files (*)")
        return f"{self.label} ({' '.join('*' + ext for ext in self.accept)})"


@dataclass(frozen=True)
class LaunchForm:
    robot: str
    title: str
    fields: tuple[FormField, ...]
    version: int | None = None
    inputs_version: str | None = None  # the detail's fingerprint of the inputs, sent back with the launch

    def field(self, name: str) -> FormField:
        return next(f for f in self.fields if f.name == name)

    def initial(self, remembered: dict[str, Any] | None = None) -> dict[str, Any]:
        """Each field's first value: the one remembered when still valid, else the default."""
        remembered = remembered or {}
        out: dict[str, Any] = {}
        for f in self.fields:
            value = f.default
            kept = remembered.get(f.name)
            if f.kind not in ("secret", "file") and kept is not None and _still_valid(f, kept):
                value = kept
            out[f.name] = _typed_default(f, value)
        return out


@dataclass
class Checked:
    """The result of checking a form: values to send, files to upload, and errors by field."""

    inputs: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _bound(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def form_from_detail(detail: dict[str, Any]) -> LaunchForm:
    """The form of a robot from the server's robot detail (unknown input types are shown as text)."""
    fields = []
    for name, spec in (detail.get("inputs") or {}).items():
        kind = spec.get("type", "text")
        if spec.get("secret"):
            kind = "secret"
        fields.append(FormField(
            name=name, kind=kind if kind in KINDS else "text", label=str(spec.get("label") or name),
            help=spec.get("help") or None, required=bool(spec.get("required", True)), default=spec.get("default"),
            choices=tuple(str(c) for c in spec.get("choices") or ()), accept=tuple(spec.get("accept") or ()),
            minimum=_bound(spec.get("minimum", spec.get("min"))), maximum=_bound(spec.get("maximum", spec.get("max")))))
    version, fingerprint = detail.get("version"), detail.get("inputs_version")
    return LaunchForm(str(detail["robot"]), str(detail.get("title") or detail["robot"]), tuple(fields),
                      int(version) if isinstance(version, int) else None,
                      str(fingerprint) if isinstance(fingerprint, str) and fingerprint else None)


def _typed_default(f: FormField, value: Any) -> Any:
    if value is None:
        return None
    if f.kind == "date":
        return _date(value)
    if f.kind == "bool":
        return _bool(value)
    if f.kind == "number":
        return _number(value)
    return value


def _still_valid(f: FormField, value: Any) -> bool:
    if f.kind == "choice":
        return str(value) in f.choices
    if f.kind == "number":
        number = _number(value)
        return number is not None and _within(f, number)
    if f.kind == "date":
        return _date(value) is not None
    return True


def _within(f: FormField, number: float) -> bool:
    return (f.minimum is None or number >= f.minimum) and (f.maximum is None or number <= f.maximum)


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            return None
    if not math.isfinite(number):
        return None
    return int(number) if number.is_integer() else number


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(str(value).strip(), fmt).date()
        except ValueError:
            continue
    return None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "vrai", "oui", "yes", "on"}:
        return True
    if text in {"0", "false", "faux", "non", "no", "off"}:
        return False
    return None


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check(form: LaunchForm, values: dict[str, Any]) -> Checked:
    """Check the agent's values: required fields and types, with messages naming the field's label."""
    out = Checked()
    for f in form.fields:
        value = values.get(f.name)
        if _empty(value):
            if f.must_fill:
                out.errors[f.name] = _("'{label}': this field is required", label=f.label)
            continue
        error = _check_one(f, value, out)
        if error:
            out.errors[f.name] = error
    return out


def _check_one(f: FormField, value: Any, out: Checked) -> str | None:
    """Type one value into `out` (inputs or files); the error message when it does not fit."""
    if f.kind == "number":
        number = _number(value)
        if number is None:
            return _("'{label}': a number is expected, not '{value}'", label=f.label, value=value)
        if not _within(f, number):
            return _bounds_error(f, number)
        out.inputs[f.name] = number
    elif f.kind == "date":
        day = _date(value)
        if day is None:
            return _("'{label}': a date is expected (DD/MM/YYYY), not '{value}'", label=f.label, value=value)
        out.inputs[f.name] = day.isoformat()
    elif f.kind == "bool":
        flag = _bool(value)
        if flag is None:
            return _("'{label}': yes or no is expected, not '{value}'", label=f.label, value=value)
        out.inputs[f.name] = flag
    elif f.kind == "choice":
        if f.choices and str(value) not in f.choices:
            return _("'{label}': '{value}' is not one of the choices", label=f.label, value=value)
        out.inputs[f.name] = str(value)
    elif f.kind == "file":
        return _check_file(f, Path(str(value)).expanduser(), out)
    else:
        text = str(value).strip()
        if len(text) > TEXT_MAX:
            return _("'{label}': {n} characters, at most {limit}", label=f.label, n=len(text), limit=TEXT_MAX)
        if f.kind == "url" and not text.startswith(("http://", "https://")):
            return _("'{label}': an address starting with http:// or https:// is expected, not '{value}'",
                     label=f.label, value=text)
        out.inputs[f.name] = text
    return None


def _bounds_error(f: FormField, number: float) -> str:
    if f.minimum is not None and f.maximum is not None:
        return _("'{label}': {value} is not between {minimum} and {maximum}", label=f.label, value=number,
                 minimum=_shown(f.minimum), maximum=_shown(f.maximum))
    if f.minimum is not None:
        return _("'{label}': {value} is below the minimum {minimum}", label=f.label, value=number,
                 minimum=_shown(f.minimum))
    return _("'{label}': {value} is above the maximum {maximum}", label=f.label, value=number,
             maximum=_shown(f.maximum))


def _shown(number: float | None) -> str:
    return "" if number is None else (str(int(number)) if float(number).is_integer() else str(number))


def _check_file(f: FormField, path: Path, out: Checked) -> str | None:
    if not path.is_file():
        return _("'{label}': file not found '{path}'", label=f.label, path=str(path))
    if f.accept and path.suffix.lower() not in {ext.lower() for ext in f.accept}:
        return _("'{label}': a {accepted} file is expected, not '{name}'", label=f.label,
                 accepted=", ".join(f.accept), name=path.name)
    out.files[f.name] = path.resolve()
    return None


def remembered(form: LaunchForm, checked: Checked) -> dict[str, Any]:
    """What to remember of a launch for next time: every value but secrets; a file's folder only."""
    keep: dict[str, Any] = {}
    for f in form.fields:
        if f.kind == "secret":
            continue
        if f.kind == "file" and f.name in checked.files:
            keep[f"{f.name}@folder"] = str(checked.files[f.name].parent)
        elif f.name in checked.inputs:
            keep[f.name] = checked.inputs[f.name]
    return keep


def idea_form() -> LaunchForm:
    """"Proposer une automatisation": what task, how often, how many minutes by hand each time."""
    often = (_("every day"), _("every week"), _("every month"), _("a few times a year"))
    return LaunchForm("idea", _("Suggest an automation"), (
        FormField("task", "text", _("What task?"), help=_("In a few words: what you do by hand, with which tool.")),
        FormField("frequency", "choice", _("How often?"), choices=often, default=often[1]),
        FormField("minutes", "number", _("Minutes by hand each time"), default=30, minimum=1, maximum=10_000)))
