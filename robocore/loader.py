"""Robot files → validated specs, with errors at file:line:column."""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from robocore.errors import RobotDefinitionError
from robocore.expressions import check_syntax
from robocore.i18n import gettext as _
from robocore.plugins import Registry, check_param, load_registry
from robocore.problems import describe
from robocore.secrets import Secret
from robocore.spec import SECRET_NAME_RE, ActionStep, ForEach, Robot, is_expression, model_keys
from robocore.yamlsafe import Positions, load_yaml

_TAGS = {"action", "for_each"}


@dataclass(frozen=True)
class LoadedRobot:
    """A validated robot and where it came from."""

    spec: Robot
    path: Path
    content: str

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content.encode()).hexdigest()


class _Checker:
    """Collects every definition error of one file, each with its position."""

    def __init__(self, source: str, positions: Positions) -> None:
        self.source, self.positions = source, positions
        self.errors: list[RobotDefinitionError] = []

    def add(self, path: tuple[Any, ...], message: str, key: bool = False) -> None:
        line, col = self.positions.of(path, key=key)
        self.errors.append(RobotDefinitionError(message, path=self.source, line=line, column=col))

    def raise_if_any(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise RobotDefinitionError("\n".join(str(e) for e in self.errors))


def _suggest(word: str, choices: list[str]) -> str:
    """A "did you mean" hint in the active language when a choice is close to `word`, else an empty string."""
    close = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.5)
    return _(" — did you mean '{name}'?", name=close[0]) if close else ""


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Map a pydantic error location onto the data path (dropping union tags)."""
    path: list[Any] = []
    in_list = False
    for part in loc:
        if in_list and part in _TAGS:  # a step's union tag, even when the step has a key of that name
            in_list = False
            continue
        in_list = False
        if isinstance(data, dict) and part in data:
            path.append(part)
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            path.append(part)
            data = data[part]
            in_list = True
        elif part in _TAGS or part in ("function-after", "function-plain"):
            continue
        elif isinstance(data, dict) and part == "with_" and "with" in data:
            path.append("with")
            data = data["with"]
        else:
            path.append(part)
            break
    return tuple(path)


def _model_for(data: Any, path: tuple[Any, ...]) -> str:
    if not path:
        return "Robot"
    head = path[0]
    if head == "process":
        return "Process"
    if head == "inputs":
        return "InputSpec"
    if head == "secrets":
        return "SecretSpec"
    node = data
    for part in path:
        node = node[part] if isinstance(node, (dict, list)) else node
    if isinstance(node, dict) and "for_each" in node:
        return "ForEach"
    return "ActionStep"


def _pydantic_errors(exc: ValidationError, data: Any, checker: _Checker) -> None:
    keys = model_keys()
    seen: set[tuple[Any, ...]] = set()
    for err in exc.errors():
        path = _data_path(data, tuple(err["loc"]))
        if path in seen:
            continue
        seen.add(path)
        if err["type"] == "extra_forbidden":
            model = _model_for(data, path[:-1])
            hint = _suggest(path[-1], keys[model])
            if model == "SecretSpec" and path[-1] != "fields":
                checker.add(path, _("literal secret refused for '{name}': secrets come from the providers "
                                    "(environment variables, file)", name=path[1]), key=True)
                continue
            checker.add(path, _("unknown key '{key}'{hint}", key=path[-1], hint=hint), key=True)
        elif len(path) == 2 and path[0] == "secrets" and err["type"] == "model_type":
            checker.add(path, _("literal secret refused for '{name}': declare {{fields: [...]}}, the values "
                                "come from the providers", name=path[1]))
        elif err["type"] == "missing":
            checker.add(path[:-1], _("missing key '{key}'", key=path[-1]), key=True)
        else:
            checker.add(path, _("'{field}': {problem}", field=".".join(map(str, path)), problem=describe(err)))


def _literal_secret(value: Any) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True  # `password: 123456` is a literal secret too
    return isinstance(value, str) and bool(value) and not is_expression(value)


def _check_with(step: ActionStep, path: tuple[Any, ...], registry: Registry, checker: _Checker) -> None:
    if isinstance(step.when, str):
        _check_values(step.when, path + ("when",), checker)
    action_def = registry.get(step.use)
    if action_def is None:
        hint = _suggest(step.use, registry.names())
        broken = "".join(_("; plugin not loaded: {plugin} ({why})", plugin=p, why=why)
                         for p, why in registry.broken.items())
        checker.add(path + ("use",), _("unknown action '{action}'{hint}", action=step.use, hint=hint) + broken)
        return
    for name, value in step.with_.items():
        where = path + ("with", name)
        if name not in action_def.param_names:
            hint = _suggest(name, action_def.param_names)
            checker.add(where, _("unknown parameter '{name}' for '{action}'{hint}", name=name, action=step.use,
                                 hint=hint), key=True)
            continue
        annotation = action_def.params.model_fields[name].annotation
        if annotation is Secret and not is_expression(value):
            checker.add(where, _("literal secret refused for '{name}': use {{{{ secrets.<name>.<field> }}}}",
                                 name=name))
            continue
        if not _contains_expression(value):
            message = check_param(action_def, name, value)
            if message:
                checker.add(where, message)
    for missing in set(action_def.required) - set(step.with_):
        checker.add(path + ("use",), _("missing parameter '{name}' for '{action}'", name=missing, action=step.use))
    _check_values(step.with_, path + ("with",), checker)


def _contains_expression(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_contains_expression(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_expression(v) for v in value)
    return is_expression(value)


def _check_values(value: Any, path: tuple[Any, ...], checker: _Checker) -> None:
    """Expression syntax everywhere; literal values under password-like keys are refused."""
    if isinstance(value, dict):
        for k, v in value.items():
            if SECRET_NAME_RE.search(str(k)) and _literal_secret(v):
                checker.add(path + (k,), _("literal secret refused for '{name}': a password comes from "
                                           "{{{{ secrets.<name>.<field> }}}}", name=k))
            _check_values(v, path + (k,), checker)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_values(v, path + (i,), checker)
    elif isinstance(value, str):
        message = check_syntax(value)
        if message:
            checker.add(path, message)


def _check_steps(spec: Robot, registry: Registry, checker: _Checker) -> None:
    ids: dict[str, tuple[Any, ...]] = {}
    for i, step in enumerate(spec.steps):
        path: tuple[Any, ...] = ("steps", i)
        if step.id:
            if step.id in ids:
                checker.add(path + ("id",), _("duplicate step id '{id}'", id=step.id))
            ids[step.id] = path
        if isinstance(step, ForEach):
            for field in ("for_each", "key", "when", "concurrency"):
                _check_values(getattr(step, field), path + (field,), checker)
            for block in ("lane_setup", "verify", "steps"):
                for j, inner in enumerate(getattr(step, block)):
                    _check_with(inner, path + (block, j), registry, checker)
        else:
            _check_with(step, path, registry, checker)


def parse_robot(text: str, source: str, registry: Registry | None = None) -> Robot:
    """Validate robot text; raises RobotDefinitionError naming file:line:column."""
    data, positions = load_yaml(text, source)
    checker = _Checker(source, positions)
    if not isinstance(data, dict):
        checker.add((), _("a robot is a mapping (keys robot, steps...)"))
        checker.raise_if_any()
    try:
        spec = Robot.model_validate(data)
    except ValidationError as exc:
        _pydantic_errors(exc, data, checker)
        checker.raise_if_any()
        raise
    _check_steps(spec, registry or load_registry(), checker)
    _check_references(data.get("steps"), ("steps",), _known_names(spec), checker)
    checker.raise_if_any()
    return spec


# `secrets.compte`, `secrets['compte']`, `steps.demandes`, `steps["demandes"]` inside an expression
_REFERENCE = re.compile(r"\b(secrets|steps)\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*['\"]([^'\"]+)['\"]\s*\])")


def _known_names(spec: Robot) -> dict[str, list[str]]:
    """What expressions may name: the declared secrets and the step ids of the robot."""
    steps: list[ActionStep | ForEach] = []
    for step in spec.steps:
        steps += [step, *step.lane_setup, *step.steps, *step.verify] if isinstance(step, ForEach) else [step]
    return {"secrets": list(spec.secrets), "steps": [s.id for s in steps if s.id]}


def _check_references(value: Any, path: tuple[Any, ...], names: dict[str, list[str]],
                      checker: _Checker) -> None:
    """An expression naming an undeclared secret or an unknown step id is an error before the run."""
    if isinstance(value, dict):
        for k, v in value.items():
            _check_references(v, path + (k,), names, checker)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_references(v, path + (i,), names, checker)
    elif isinstance(value, str) and "{" in value:
        for kind, dotted, quoted in _REFERENCE.findall(value):
            name, known = dotted or quoted, names[kind]
            if name not in known:
                hint = _suggest(name, known)
                if kind == "secrets":
                    checker.add(path, _("undeclared secret '{name}'{hint}: declare it under `secrets:`",
                                        name=name, hint=hint))
                else:
                    checker.add(path, _("unknown step id '{name}'{hint}: no step has this `id`", name=name,
                                        hint=hint))


def load_robot(path: str | Path, registry: Registry | None = None) -> LoadedRobot:
    """Read and validate a robot file (a robot.yaml or a folder holding one)."""
    p = Path(path)
    if p.is_dir():
        p = p / "robot.yaml"
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise RobotDefinitionError(_("cannot read the file: {reason}", reason=exc.strerror), path=str(p)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        column = len(raw[line_start:exc.start].decode("utf-8", errors="replace")) + 1
        raise RobotDefinitionError(_("invalid encoding (UTF-8 expected) at byte {offset}", offset=exc.start),
                                   path=str(p), line=raw.count(b"\n", 0, exc.start) + 1,
                                   column=column) from None
    return LoadedRobot(spec=parse_robot(text, str(p), registry), path=p.resolve(), content=text)


def _robot_named(name: str, robots_dir: Path) -> Path | None:
    """The robot file whose `robot:` name is `name` (its folder may be named otherwise)."""
    pattern = re.compile(rf"^robot:\s*['\"]?{re.escape(name)}['\"]?\s*$", re.M)
    for path in sorted(robots_dir.glob("*/robot.yaml")) if robots_dir.is_dir() else []:
        try:
            if pattern.search(path.read_text(encoding="utf-8", errors="replace")[:4000]):
                return path
        except OSError:
            continue
    return None


def find_robot(name_or_path: str, robots_dir: Path) -> Path:
    """A robot by path, or by name in the robots folder."""
    p = Path(name_or_path)
    if p.exists():
        return p
    candidate = robots_dir / name_or_path
    if candidate.exists():
        return candidate
    by_name = _robot_named(name_or_path, robots_dir)
    if by_name is not None:
        return by_name
    known = sorted(d.name for d in robots_dir.glob("*") if (d / "robot.yaml").exists()) if robots_dir.exists() else []
    raise RobotDefinitionError(_("robot not found '{name}'{hint} (robots: {robots})", name=name_or_path,
                                 hint=_suggest(name_or_path, known), robots=", ".join(known) or _("none")))
