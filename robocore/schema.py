"""JSON Schema of robot files, including every installed action's parameters and result.

Each action's result schema sits in `$defs` as `Result_<namespace>_<verb>`; the step's branch
for that action points to it with the annotation keyword `x-result` (ignored by validators),
and the completion list of `use` (`markdownEnumDescriptions`, read by VS Code) names its fields.
"""

from __future__ import annotations

import copy
from typing import Any

from robocore.errors import PluginError
from robocore.i18n import gettext as _
from robocore.plugins import ActionDef, Registry, params_json_schema
from robocore.spec import Robot

_EXPRESSION = {"type": "string", "pattern": r"\{\{|\{%", "description": "Expression Jinja"}


def _with_expressions(params: dict[str, Any]) -> dict[str, Any]:
    """Every parameter may also be an expression string."""
    out = copy.deepcopy(params)
    for name, prop in out.get("properties", {}).items():
        out["properties"][name] = {"anyOf": [prop, _EXPRESSION], "title": prop.get("title", name)}
    out["additionalProperties"] = False
    return out


def result_def_name(action_name: str) -> str:
    """The `$defs` key of an action's result schema."""
    return "Result_" + action_name.replace(".", "_")


def _result_summary(action_def: ActionDef) -> str:
    """One Markdown line naming the result's top-level fields, for the editor's completion list."""
    try:
        result = action_def.result
    except PluginError:
        return ""
    if result.kind == "none":
        return _("Result: none")
    names = [f"`{f.name}`" for f in result.fields if f.depth == 0]
    return _("Result: {fields}", fields=", ".join(names)) if names else ""


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
    descriptions = []
    for action_def in registry:
        summary = _result_summary(action_def)
        descriptions.append("\n\n".join(part for part in (action_def.doc, summary) if part))
        try:
            params = params_json_schema(action_def)
        except PluginError:
            continue  # unreadable parameter types: named when a robot uses it; the others still get checked
        local_defs = params.pop("$defs", {})
        defs.update(local_defs)
        then: dict[str, Any] = {"properties": {"with": _with_expressions(params)}}
        if action_def.required:  # else a step with no `with:` at all would pass
            then["required"] = ["with"]
        _add_result(defs, then, action_def)
        branches.append({
            "if": {"properties": {"use": {"const": action_def.name}}, "required": ["use"]},
            "then": then,
        })
    step["properties"]["use"]["markdownEnumDescriptions"] = descriptions  # one per name, in the enum's order
    step["allOf"] = branches
    return schema


def _add_result(defs: dict[str, Any], then: dict[str, Any], action_def: ActionDef) -> None:
    """The action's result schema into `$defs`, referred to from its branch by `x-result`."""
    try:
        result = action_def.result
    except PluginError:
        return
    if result.kind == "undocumented":
        return
    name = result_def_name(action_def.name)
    defs[name] = result.schema
    then["x-result"] = {"$ref": f"#/$defs/{name}"}
