"""Inputs given to a run (CLI k=v, API, schedule) checked against the robot's declaration."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

from robocore.errors import RobotDefinitionError
from robocore.i18n import Message, Text, lazy_pgettext, render
from robocore.i18n import lazy_gettext as _l
from robocore.paths import PATH_MAX_BYTES
from robocore.settings import get_settings
from robocore.spec import InputSpec, Robot

_TRUE = {"1", "true", "vrai", "oui", "yes", "o", "y", "on"}
_FALSE = {"0", "false", "faux", "non", "no", "n", "off"}


class InputError(RobotDefinitionError):
    """An input is missing or has a wrong value; `text` is the lazy message (the API answers it in any language).

    `field` names the input (None: the message is about several, as unknown inputs); `problems` holds every
    input refused by the same check, this one first (the API lists them all).
    """

    def __init__(self, text: Text, field: str | None = None) -> None:
        super().__init__(render(text))
        self.text, self.field = text, field
        self.problems: tuple[InputError, ...] = (self,)

    def __str__(self) -> str:
        return render(self.text)


def _input(label: str, name: str, problem: Message) -> Message:
    """`input “Label” (name): problem`, in the reader's language."""
    return _l("input “{label}” ({name}): {problem}", label=label, name=name, problem=problem)


def _text(name: str, label: str, value: Any, is_file: bool) -> str:
    """The value as text; refused beyond ROBOCORE_INPUT_MAX_CHARS characters (a file's path: beyond what
    a file system takes), or a number not finite."""
    limit = PATH_MAX_BYTES if is_file else get_settings().input_max_chars
    try:
        text = str(value)
    except ValueError:  # an integer of more than 4,300 digits (YAML reads any size)
        raise InputError(_input(label, name, _l("number with more than 4,300 digits"))) from None
    if len(text) > limit:
        setting = "" if is_file else " (ROBOCORE_INPUT_MAX_CHARS)"
        raise InputError(_input(label, name, _l("{length} characters, {limit} at most{setting}", length=len(text),
                                                limit=limit, setting=setting)))
    if isinstance(value, float) and not math.isfinite(value):  # JSON NaN/Infinity, YAML .nan/.inf
        raise InputError(_input(label, name, _l("finite number expected, got {value}", value=repr(value))))
    return text.strip()


def _number(name: str, label: str, value: Any, text: str) -> int | float:
    """A finite number from text written the French or the English way (`1 234,5`, `1234.5`)."""
    try:
        number = float(text.replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", "."))
    except ValueError:
        raise InputError(_input(label, name, _l("number expected, got {value}", value=_shown(value)))) from None
    if not math.isfinite(number):  # nan, inf, 1e309
        raise InputError(_input(label, name, _l("finite number expected, got {value}", value=_shown(value))))
    return int(number) if number.is_integer() else number


def _bounded(name: str, spec: InputSpec, value: Any) -> Any:
    """The value itself, or InputError when it lies outside the input's `minimum`/`maximum`."""
    label = spec.label or name
    if spec.minimum is not None and value < spec.minimum:
        raise InputError(_input(label, name, _l("{value} is below the minimum {minimum}", value=_bound(value),
                                                minimum=_bound(spec.minimum))), name)
    if spec.maximum is not None and value > spec.maximum:
        raise InputError(_input(label, name, _l("{value} is above the maximum {maximum}", value=_bound(value),
                                                maximum=_bound(spec.maximum))), name)
    return value


def _bound(value: Any) -> str:
    """A number or a date as the messages show it (`2024-03-01`, `12.5`)."""
    return value.isoformat() if isinstance(value, dt.date) else f"{value:g}" if isinstance(value, float) else str(value)


def _shown(value: Any) -> str:
    """A value as an error message quotes it (at most 80 characters)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "…"


def _coerce(name: str, spec: InputSpec, value: Any, base: Path) -> Any:
    label = spec.label or name
    text = _text(name, label, value, spec.type == "file")
    if spec.type == "number":
        return _bounded(name, spec, _number(name, label, value, text))
    if spec.type == "date":
        if isinstance(value, dt.date):
            return _bounded(name, spec, value.date() if isinstance(value, dt.datetime) else value)
        for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                parsed = dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
            return _bounded(name, spec, parsed)
        raise InputError(_input(label, name, _l("date expected (YYYY-MM-DD or DD/MM/YYYY), got {value}",
                                                value=repr(value))))
    if spec.type == "bool":
        if isinstance(value, bool):
            return value
        if text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE
        raise InputError(_input(label, name, _l("yes/no expected, got {value}", value=repr(value))))
    if spec.type == "choice":
        if spec.choices and text not in spec.choices:
            raise InputError(_input(label, name, _l("{value} is not among {choices}", value=repr(value),
                                                    choices=spec.choices)))
        return text
    if spec.type == "file":
        path = Path(text).expanduser()
        path = path if path.is_absolute() else (base / path)
        if not path.is_file():
            raise InputError(_input(label, name, _l("file not found {path}", path=path)))
        if spec.accept and path.suffix.lower() not in [a.lower() for a in spec.accept]:
            raise InputError(_input(label, name, _l("extension {extension} refused, expected {accepted}",
                                                    extension=path.suffix or _l("(none)"),
                                                    accepted=", ".join(spec.accept))))
        return str(path.resolve())
    if spec.type == "url" and not text.startswith(("http://", "https://")):
        raise InputError(_input(label, name, _l("http(s) URL expected, got {value}", value=repr(value))))
    return text if isinstance(value, str) else value


def resolve_inputs(robot: Robot, given: dict[str, Any], base: Path) -> dict[str, Any]:
    """Typed inputs: given values, else defaults; unknown or missing ones are errors.

    Args:
        base: the folder relative file inputs are resolved against (the robot's folder).
    """
    unknown = set(given) - set(robot.inputs)
    if unknown:
        known = ", ".join(robot.inputs) or lazy_pgettext("inputs", "none")
        raise InputError(_l("unknown input: {names} (the robot's inputs: {known})", names=", ".join(sorted(unknown)),
                            known=known))
    out: dict[str, Any] = {}
    refused: list[InputError] = []
    for name, spec in robot.inputs.items():
        try:
            out[name] = _resolved(name, spec, given.get(name, spec.default), base)
        except InputError as exc:
            exc.field = name
            refused.append(exc)
    if refused:
        refused[0].problems = tuple(refused)
        raise refused[0]
    return out


def _resolved(name: str, spec: InputSpec, value: Any, base: Path) -> Any:
    """One input's typed value (None when left empty and optional; "" for a text input whose declared
    default is "": its author said an empty text will do)."""
    if value == "" and spec.type == "text" and spec.default == "":
        return ""
    if value is None or value == "":
        if spec.required:
            raise InputError(_l("missing input “{label}” ({name}): --input {name}=...", label=spec.label or name,
                                name=name), name)
        return None
    return _coerce(name, spec, value, base)


def from_command_line(robot: Robot, given: dict[str, Any], cwd: Path | None = None) -> dict[str, Any]:
    """Inputs typed on the command line, their relative file paths made absolute from `cwd` (default: the
    current folder), where the user typed the command, as every command line reads paths.

    A default written in the robot file stays relative to the robot's folder (`resolve_inputs`). The file
    named is then admitted by the path policy as the run's file input (that file alone, `RunSettings.input_files`).
    """
    here = cwd or Path.cwd()
    out = dict(given)
    for name, value in given.items():
        spec = robot.inputs.get(name)
        if spec is not None and spec.type == "file" and isinstance(value, str) and value.strip():
            path = Path(value).expanduser()
            out[name] = str(path if path.is_absolute() else here / path)
    return out


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    """`k=v` strings from the command line."""
    out: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise InputError(_l("--input expects name=value, got {pair}", pair=repr(pair)))
        key, value = pair.split("=", 1)
        out[key.strip()] = value
    return out
