"""Inputs given to a run (CLI k=v, API, schedule) checked against the robot's declaration."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

from robocore.errors import RobotDefinitionError
from robocore.paths import PATH_MAX_BYTES
from robocore.settings import get_settings
from robocore.spec import InputSpec, Robot

_TRUE = {"1", "true", "vrai", "oui", "yes", "o", "y", "on"}
_FALSE = {"0", "false", "faux", "non", "no", "n", "off"}


class InputError(RobotDefinitionError):
    """An input is missing or has a wrong value."""


def _text(name: str, label: str, value: Any, is_file: bool) -> str:
    """The value as text; refused beyond ROBOCORE_INPUT_MAX_CHARS characters (a file's path: beyond what
    a file system takes), or a number not finite."""
    limit = PATH_MAX_BYTES if is_file else get_settings().input_max_chars
    try:
        text = str(value)
    except ValueError:  # an integer of more than 4,300 digits (YAML reads any size)
        raise InputError(f"entrée « {label} » ({name}) : nombre de plus de 4 300 chiffres "
                         "/ number with more than 4,300 digits") from None
    if len(text) > limit:
        setting = "" if is_file else " (ROBOCORE_INPUT_MAX_CHARS)"
        raise InputError(f"entrée « {label} » ({name}) : {len(text)} caractères, {limit} au plus{setting} "
                         f"/ value longer than {limit} characters")
    if isinstance(value, float) and not math.isfinite(value):  # JSON NaN/Infinity, YAML .nan/.inf
        raise InputError(f"entrée « {label} » ({name}) : nombre fini attendu, reçu {value!r} "
                         "/ finite number expected")
    return text.strip()


def _number(name: str, label: str, value: Any, text: str) -> int | float:
    """A finite number from text written the French or the English way (`1 234,5`, `1234.5`)."""
    try:
        number = float(text.replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", "."))
    except ValueError:
        raise InputError(f"entrée « {label} » ({name}) : nombre attendu, reçu {_shown(value)} "
                         "/ number expected") from None
    if not math.isfinite(number):  # nan, inf, 1e309
        raise InputError(f"entrée « {label} » ({name}) : nombre fini attendu, reçu {_shown(value)} "
                         "/ finite number expected")
    return int(number) if number.is_integer() else number


def _shown(value: Any) -> str:
    """A value as an error message quotes it (at most 80 characters)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "…"


def _coerce(name: str, spec: InputSpec, value: Any, base: Path) -> Any:
    label = spec.label or name
    text = _text(name, label, value, spec.type == "file")
    if spec.type == "number":
        return _number(name, label, value, text)
    if spec.type == "date":
        if isinstance(value, dt.date):
            return value
        for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        raise InputError(f"entrée « {label} » ({name}) : date attendue (AAAA-MM-JJ ou JJ/MM/AAAA), reçu {value!r}")
    if spec.type == "bool":
        if isinstance(value, bool):
            return value
        if text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE
        raise InputError(f"entrée « {label} » ({name}) : oui/non attendu, reçu {value!r} / boolean expected")
    if spec.type == "choice":
        if spec.choices and text not in spec.choices:
            raise InputError(f"entrée « {label} » ({name}) : {value!r} n'est pas parmi {spec.choices}")
        return text
    if spec.type == "file":
        path = Path(text).expanduser()
        path = path if path.is_absolute() else (base / path)
        if not path.is_file():
            raise InputError(f"entrée « {label} » ({name}) : fichier introuvable {path} / file not found")
        if spec.accept and path.suffix.lower() not in [a.lower() for a in spec.accept]:
            raise InputError(f"entrée « {label} » ({name}) : extension {path.suffix or '(aucune)'} refusée, "
                             f"attendu {', '.join(spec.accept)}")
        return str(path.resolve())
    if spec.type == "url" and not text.startswith(("http://", "https://")):
        raise InputError(f"entrée « {label} » ({name}) : URL http(s) attendue, reçu {value!r}")
    return text if isinstance(value, str) else value


def resolve_inputs(robot: Robot, given: dict[str, Any], base: Path) -> dict[str, Any]:
    """Typed inputs: given values, else defaults; unknown or missing ones are errors.

    Args:
        base: the folder relative file inputs are resolved against (the robot's folder).
    """
    unknown = set(given) - set(robot.inputs)
    if unknown:
        known = ", ".join(robot.inputs) or "aucune"
        raise InputError(f"entrée inconnue : {', '.join(sorted(unknown))} (entrées du robot : {known})")
    out: dict[str, Any] = {}
    for name, spec in robot.inputs.items():
        value = given.get(name, spec.default)
        if value is None or value == "":
            if spec.required:
                raise InputError(f"entrée obligatoire manquante « {spec.label or name} » ({name}) : "
                                 f"--input {name}=... / missing input")
            out[name] = None
            continue
        out[name] = _coerce(name, spec, value, base)
    return out


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    """`k=v` strings from the command line."""
    out: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise InputError(f"--input attend nom=valeur, reçu {pair!r} / expected name=value")
        key, value = pair.split("=", 1)
        out[key.strip()] = value
    return out
