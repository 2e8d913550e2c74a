"""What the reference shows of an action, read from the registry once."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, get_type_hints

from robocore.actiondoc import ResultDoc, type_name
from robocore.errors import PluginError
from robocore.plugins import ActionDef, Registry


@dataclass(frozen=True)
class ParamDoc:
    """One parameter: its type as written, its default (shown as YAML would hold it) and description."""

    name: str
    type: str
    required: bool
    default: str
    description: str


@dataclass(frozen=True)
class ActionDoc:
    """One action as the reference shows it."""

    name: str
    provider: str
    summary: str
    description: str
    params: list[ParamDoc]
    result: ResultDoc | None
    examples: list[str]
    problems: list[str] = field(default_factory=list)  # what could not be read (unreadable types...)

    @property
    def namespace(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def anchor(self) -> str:
        """The id of its section: the name without its dot (as GitHub makes heading anchors)."""
        return self.name.replace(".", "").lower()


def _default(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _params(action_def: ActionDef, problems: list[str]) -> list[ParamDoc]:
    try:
        hints = get_type_hints(action_def.func, include_extras=True)
    except Exception as exc:  # an unreadable annotation: the parameters are still listed, untyped
        problems.append(str(exc))
        hints = {}
    sig = inspect.signature(action_def.func)
    docs = action_def.arg_docs
    out = []
    for param in list(sig.parameters.values())[1:]:  # the first one is the run Context
        required = param.default is inspect.Parameter.empty
        shown = type_name(hints[param.name]) if param.name in hints else "Any"
        out.append(ParamDoc(param.name, shown, required, "" if required else _default(param.default),
                            docs.get(param.name, "")))
    return out


def document(action_def: ActionDef) -> ActionDoc:
    """An action's documentation; what cannot be read is listed in `problems`, never raised."""
    problems: list[str] = []
    result: ResultDoc | None
    try:
        result = action_def.result
    except PluginError as exc:
        result = None
        problems.append(str(exc))
    description = action_def.description
    return ActionDoc(action_def.name, action_def.provider, action_def.doc, description,
                     _params(action_def, problems), result, action_def.examples, problems)


def collect(registry: Registry) -> list[ActionDoc]:
    """Every action of the registry, by name."""
    return [document(a) for a in registry]
