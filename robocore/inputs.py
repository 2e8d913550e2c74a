"""Inputs given to a run (CLI k=v, API, schedule) checked against the robot's declaration."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from robocore.errors import RobotDefinitionError
from robocore.spec import InputSpec, Robot

_TRUE = {"1", "true", "vrai", "oui", "yes", "o", "y", "on"}
_FALSE = {"0", "false", "faux", "non", "no", "n", "off"}


class InputError(RobotDefinitionError):
    """An input is missing or has a wrong value."""


def _coerce(name: str, spec: InputSpec, value: Any, base: Path) -> Any:
    label = spec.label or name
    text = str(value).strip()
    if spec.type == "number":
        try:
            number = float(text.replace("\u202f", "").replace(" ", "").replace(",", "."))
        except ValueError:
            raise InputError(f"entrée « {label} » ({name}) : nombre attendu, reçu {value!r} "
                             "/ number expected") from None
        return int(number) if number.is_integer() else number
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
