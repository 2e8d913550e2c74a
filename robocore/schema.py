"""JSON Schema of robot files, including every installed action's parameters."""

from __future__ import annotations

import copy
from typing import Any

from robocore.errors import PluginError
from robocore.plugins import Registry, params_json_schema
from robocore.spec import Robot

_EXPRESSION = {"type": "string", "pattern": r"\{\{|\{%", "description": "Expression Jinja"}


def _with_expressions(params: dict[str, Any]) -> dict[str, Any]:
    """Every parameter may also be an expression string."""
    out = copy.deepcopy(params)
    for name, prop in out.get("properties", {}).items():
        out["properties"][name] = {"anyOf": [prop, _EXPRESSION], "title": prop.get("title", name)}
    out["additionalProperties"] = False
    return out


def robot_schema(registry: Registry) -> dict[str, Any]:
    """The schema an editor (VS Code YAML) uses to complete and check robot.yaml."""
    schema = Robot.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Robocore robot"
    defs = schema.setdefault("$defs", {})
    step = defs["ActionStep"]
    names = registry.names()
    step["properties"]["use"] = {"type": "string", "enum": names, "description": "Action à appeler"}
    branches = []
    for action_def in registry:
        try:
            params = params_json_schema(action_def)
        except PluginError:
            continue  # unreadable parameter types: named when a robot uses it; the others still get checked
        local_defs = params.pop("$defs", {})
        defs.update(local_defs)
        then: dict[str, Any] = {"properties": {"with": _with_expressions(params)}}
        if action_def.required:  # else a step with no `with:` at all would pass
            then["required"] = ["with"]
        branches.append({
            "if": {"properties": {"use": {"const": action_def.name}}, "required": ["use"]},
            "then": then,
        })
        if action_def.doc:
            step["properties"]["use"].setdefault("markdownEnumDescriptions", []).append(action_def.doc)
    step["allOf"] = branches
    return schema
