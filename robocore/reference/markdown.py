"""The reference as Markdown (GitHub flavoured): one section per action, tables for parameters and result."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from robocore.actiondoc import ResultField
from robocore.reference.labels import labels
from robocore.reference.model import ActionDoc


def _cell(text: str) -> str:
    """Text safe in a table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _code(text: str) -> str:
    return f"`{_cell(text)}`" if text else ""


def _field_name(f: ResultField, t: dict[str, Any]) -> str:
    return t["open"] if f.name == "*" else _code(f.name)


def _field_text(f: ResultField, t: dict[str, Any]) -> str:
    text = f.description
    if f.same_as:
        text = f"{text} ({t['same_as'](f'`{f.same_as}`')})"
    return _cell(text)


def _params(doc: ActionDoc, t: dict[str, Any]) -> list[str]:
    lines = [f"**{t['parameters']}**", ""]
    if not doc.params:
        return [*lines, t["no_parameters"], ""]
    lines += [f"| {t['name']} | {t['type']} | {t['default']} | {t['description']} |", "|---|---|---|---|"]
    for p in doc.params:
        default = f"*{t['required']}*" if p.required else _code(p.default)
        lines.append(f"| {_code(p.name)} | {_code(p.type)} | {default} | {_cell(p.description)} |")
    return [*lines, ""]


def _result(doc: ActionDoc, t: dict[str, Any]) -> list[str]:
    result = doc.result
    if result is None:
        return []
    if result.kind == "none":
        return [f"**{t['result']}**", "", t["no_result"], ""]
    if result.kind == "undocumented":
        return [f"**{t['result']}**", "", t["undocumented"](_code(result.type_name)), ""]
    lines = [f"**{t['result']}** ({_code(result.type_name)})", "",
             f"| {t['field']} | {t['type']} | {t['description']} |", "|---|---|---|"]
    lines += [f"| {_field_name(f, t)} | {_code(f.type)} | {_field_text(f, t)} |" for f in result.fields]
    return [*lines, ""]


def _examples(doc: ActionDoc, t: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for example in doc.examples:
        lines += [f"**{t['examples']}**", "", "```yaml", example, "```", ""]
    return lines


def action_markdown(doc: ActionDoc, level: int = 3, t: dict[str, Any] | None = None) -> str:
    """One action's section: title, description, provider, parameters, result, examples."""
    t = t or labels()
    lines = [f"{'#' * level} `{doc.name}`", ""]
    if doc.description:
        lines += [doc.description, ""]
    lines += [f"*{t['provided_by'](doc.provider)}*", ""]
    lines += _params(doc, t) + _result(doc, t) + _examples(doc, t)
    if doc.problems:
        lines += [f"**{t['problems']}**", "", *[f"- {_cell(p)}" for p in doc.problems], ""]
    return "\n".join(lines)


def markdown(docs: list[ActionDoc]) -> str:
    """The whole reference: a table of contents by namespace, then every action."""
    t = labels()
    lines = [f"# {t['title']}", "", t["intro"], "", f"<!-- {t['generated']} -->", "", f"## {t['contents']}", ""]
    groups = [(ns, list(items)) for ns, items in groupby(docs, key=lambda d: d.namespace)]
    for ns, items in groups:
        links = ", ".join(f"[`{d.name}`](#{d.anchor})" for d in items)
        lines.append(f"- **{ns}** — {links}")
    lines.append("")
    for ns, items in groups:
        lines += [f"## {ns}", ""]
        for doc in items:
            lines.append(action_markdown(doc, 3, t))
    return "\n".join(lines).rstrip("\n") + "\n"
