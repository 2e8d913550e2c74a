"""What an action documents about itself: its result's fields, its parameters' `Args:`, its examples.

An action's result is the TypedDict its return annotation names, each field written
`Annotated[type, "description"]` (a `typing_extensions.Doc` or a pydantic `Field(description=...)`
in the metadata works too); a nested TypedDict, or a list or dict of them, is documented field by
field (`counts.matched`, `matched[].key`). `-> None` means the action gives no result.

The docstring follows the Google convention: a first line, paragraphs, then sections
`Args:` (one `name: description` per parameter) and `Example:` (a YAML step, shown as is).
"""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, NotRequired, Required, Union, get_args, get_origin, get_type_hints

from typing_extensions import is_typeddict

from robocore.errors import PluginError

ResultKind = Literal["none", "typed", "undocumented"]
_SECTION = re.compile(r"^(Args|Arguments|Parameters|Returns|Raises|Yields|Example|Examples|Note|Notes):\s*$")
_ARG = re.compile(r"^(\*{0,2}\w+)(?:\s*\([^)]*\))?\s*:\s*(.*)$")


@dataclass(frozen=True)
class ResultField:
    """One field of a result; a nested one is named by its path (`counts.matched`, `matched[].key`)."""

    name: str
    type: str
    description: str
    required: bool = True
    depth: int = 0
    same_as: str = ""  # a TypedDict already detailed under that field: its fields are not repeated


@dataclass(frozen=True)
class ResultDoc:
    """An action's documented result: none, a TypedDict's fields, or an undocumented annotation."""

    kind: ResultKind
    type_name: str
    fields: tuple[ResultField, ...] = ()
    schema: dict[str, Any] = field(default_factory=dict)

    def undescribed(self) -> list[str]:
        """The fields without a description (an undocumented result counts as one)."""
        if self.kind == "undocumented":
            return [f"<{self.type_name}>"]
        return [f.name for f in self.fields if not f.description.strip()]


# ---- the result ---------------------------------------------------------------------------------
def result_doc(func: Callable[..., Any]) -> ResultDoc:
    """Read the result an action's return annotation documents.

    Raises:
        NameError, TypeError: its type hints cannot be resolved (the caller names the action).
    """
    hint = get_type_hints(func, include_extras=True).get("return", inspect.Signature.empty)
    annotation = _strip(hint)
    if annotation is None or annotation is type(None):
        return ResultDoc("none", "None", (), {"type": "null"})
    if is_typeddict(annotation):
        fields = tuple(_fields(annotation, "", 0, {}))
        return ResultDoc("typed", annotation.__name__, fields, _typed_schema(annotation))
    shown = "?" if annotation is inspect.Signature.empty else type_name(annotation)
    text = description(hint)
    if text:  # an open mapping described as a whole (flow.set: the names the robot gives)
        return ResultDoc("typed", shown, (ResultField("*", "Any", text),),
                         {**json_schema(annotation), "description": text})
    return ResultDoc("undocumented", shown, (), {})


def _strip(annotation: Any) -> Any:
    """The type under Annotated, Required or NotRequired."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Required, NotRequired):
            annotation = get_args(annotation)[0]
        else:
            return annotation


def description(annotation: Any) -> str:
    """The description an `Annotated[...]` carries: a string, a `Doc` or a pydantic `FieldInfo`."""
    while get_origin(annotation) in (Required, NotRequired):
        annotation = get_args(annotation)[0]
    if get_origin(annotation) is not Annotated:
        return ""
    for meta in annotation.__metadata__:
        if isinstance(meta, str):
            return meta
        for attr in ("documentation", "description"):  # typing_extensions.Doc, pydantic FieldInfo
            text = getattr(meta, attr, None)
            if isinstance(text, str):
                return text
    return ""


def _fields(typed: Any, prefix: str, depth: int, seen: dict[Any, str]) -> Iterator[ResultField]:
    """The fields of a TypedDict, nested ones after their parent; one already detailed is referred to."""
    hints = get_type_hints(typed, include_extras=True)
    required = getattr(typed, "__required_keys__", frozenset(hints))
    for name, hint in hints.items():
        inner = _strip(hint)
        is_required = name in required and get_origin(hint) is not NotRequired
        nested, suffix = _nested(inner)
        path = f"{prefix}{name}"
        same_as = seen.get(nested, "") if nested is not None else ""
        yield ResultField(path, type_name(inner), description(hint), is_required, depth, same_as)
        if nested is not None and not same_as and depth < 4:
            seen[nested] = path
            yield from _fields(nested, f"{path}{suffix}.", depth + 1, seen)


def _nested(annotation: Any) -> tuple[Any, str]:
    """A TypedDict documented inside a field: itself, in a list (`[]`) or as dict values (`.*`)."""
    if is_typeddict(annotation):
        return annotation, ""
    origin, args = get_origin(annotation), [_strip(a) for a in get_args(annotation)]
    if origin in (list, tuple, set, frozenset) and args and is_typeddict(args[0]):
        return args[0], "[]"
    if origin is dict and len(args) == 2 and is_typeddict(args[1]):
        return args[1], ".*"
    if origin in (Union, types.UnionType):
        for arg in args:
            found = _nested(arg)
            if found[0] is not None:
                return found
    return None, ""


def type_name(annotation: Any) -> str:
    """A type as a reader writes it: `int`, `str | None`, `list[dict[str, Any]]`, `Counts`."""
    annotation = _strip(annotation)
    if annotation is type(None) or annotation is None:
        return "None"
    if annotation is Any:
        return "Any"
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, types.UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin is Literal:
        return " | ".join(repr(a) for a in args)
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(type_name(a) for a in args)}]" if args else name
    return getattr(annotation, "__name__", str(annotation).replace("typing.", ""))


# ---- JSON Schema of a result --------------------------------------------------------------------
def _typed_schema(typed: Any) -> dict[str, Any]:
    hints = get_type_hints(typed, include_extras=True)
    required = getattr(typed, "__required_keys__", frozenset(hints))
    props = {}
    for name, hint in hints.items():
        prop = json_schema(_strip(hint))
        text = description(hint)
        if text:
            prop = {**prop, "description": text}
        props[name] = prop
    schema: dict[str, Any] = {"type": "object", "title": typed.__name__, "properties": props}
    if typed.__doc__ and not typed.__doc__.startswith(typed.__name__ + "("):  # not the generated one
        schema["description"] = inspect.cleandoc(typed.__doc__)
    names = [n for n in hints if n in required and get_origin(hints[n]) is not NotRequired]
    if names:
        schema["required"] = names
    return schema


def json_schema(annotation: Any) -> dict[str, Any]:
    """The JSON Schema of a result field's type; nested TypedDicts keep their descriptions."""
    annotation = _strip(annotation)
    if is_typeddict(annotation):
        return _typed_schema(annotation)
    origin, args = get_origin(annotation), [_strip(a) for a in get_args(annotation)]
    if origin in (list, tuple, set, frozenset) and args and any(map(_documented, args)):
        return {"type": "array", "items": json_schema(args[0])}
    if origin is dict and len(args) == 2 and _documented(args[1]):
        return {"type": "object", "additionalProperties": json_schema(args[1])}
    if origin in (Union, types.UnionType) and any(map(_documented, args)):
        return {"anyOf": [json_schema(a) for a in args]}
    return _leaf_schema(annotation)


def _documented(annotation: Any) -> bool:
    return _nested(annotation)[0] is not None


def _leaf_schema(annotation: Any) -> dict[str, Any]:
    from pydantic import ConfigDict, TypeAdapter

    from robocore.plugins import LenientSchema

    try:
        schema = TypeAdapter(annotation, config=ConfigDict(arbitrary_types_allowed=True)).json_schema(
            schema_generator=LenientSchema)
    except Exception:  # a type pydantic cannot describe: left open
        return {}
    schema.pop("$defs", None)  # a leaf refers to no model of its own in practice: never dangling refs
    return {k: v for k, v in schema.items() if k != "$ref"}


# ---- checking a value against it (tests, plugin authors) ----------------------------------------
def mismatches(annotation: Any, value: Any, where: str = "result") -> list[str]:
    """How a returned value differs from the TypedDict documenting it: missing or extra keys, wrong types."""
    annotation = _strip(annotation)
    if annotation is None or annotation is type(None):
        return [] if value is None else [f"{where}: None expected, got {type(value).__name__}"]
    if is_typeddict(annotation):
        if not isinstance(value, dict):
            return [f"{where}: a mapping expected, got {type(value).__name__}"]
        hints = get_type_hints(annotation, include_extras=True)
        required = getattr(annotation, "__required_keys__", frozenset(hints))
        problems = [f"{where}.{k}: missing" for k in hints
                    if k in required and get_origin(hints[k]) is not NotRequired and k not in value]
        problems += [f"{where}.{k}: not documented" for k in value if k not in hints]
        for k, hint in hints.items():
            if k in value:
                problems += mismatches(hint, value[k], f"{where}.{k}")
        return problems
    nested, suffix = _nested(annotation)
    if nested is not None and suffix == "[]" and isinstance(value, list):
        return [p for i, v in enumerate(value[:50]) for p in mismatches(nested, v, f"{where}[{i}]")]
    if nested is not None and suffix == ".*" and isinstance(value, dict):
        return [p for k, v in value.items() for p in mismatches(nested, v, f"{where}.{k}")]
    return _leaf_mismatch(annotation, value, where)


def _leaf_mismatch(annotation: Any, value: Any, where: str) -> list[str]:
    from pydantic import ConfigDict, TypeAdapter, ValidationError

    try:
        TypeAdapter(annotation, config=ConfigDict(arbitrary_types_allowed=True)).validate_python(value, strict=True)
    except ValidationError as exc:
        return [f"{where}: {type_name(annotation)} expected, got {value!r:.60} ({exc.errors()[0]['msg']})"]
    except Exception:  # a type pydantic cannot check: not checked
        return []
    return []


# ---- the docstring ------------------------------------------------------------------------------
def _blocks(doc: str | None) -> list[tuple[str, str]]:
    """A Google-style docstring cut in blocks: ("", text before any section), ("Args", ...), ("Example", ...).

    A section runs from its `Name:` line (at the docstring's own indentation) to the next one;
    its lines are dedented. "Examples" is filed under "Example", "Arguments" under "Args".
    """
    text = inspect.cleandoc(doc or "")
    blocks: list[tuple[str, list[str]]] = [("", [])]
    for line in text.splitlines():
        match = _SECTION.match(line)
        if match and not line[:1].isspace():
            name = match.group(1)
            blocks.append(({"Examples": "Example", "Arguments": "Args", "Parameters": "Args",
                            "Notes": "Note"}.get(name, name), []))
            continue
        if blocks[-1][0] and line.strip() and not line[:1].isspace():  # back at the margin: text again
            blocks.append(("", []))
        blocks[-1][1].append(line)
    return [(name, _dedent(lines)) for name, lines in blocks]


def sections(doc: str | None) -> dict[str, str]:
    """The docstring's sections by name ("" for the description); a repeated one joined."""
    out: dict[str, str] = {}
    for name, text in _blocks(doc):
        out[name] = f"{out[name]}\n\n{text}".strip("\n") if name in out else text
    return out


def _dedent(lines: list[str]) -> str:
    import textwrap

    return textwrap.dedent("\n".join(lines)).strip("\n")


def arg_descriptions(doc: str | None) -> dict[str, str]:
    """Each parameter's description from the `Args:` section (continuation lines joined)."""
    found: dict[str, str] = {}
    name = None
    for line in sections(doc).get("Args", "").splitlines():
        match = _ARG.match(line)
        if match and not line[:1].isspace():
            name = match.group(1).lstrip("*")
            found[name] = match.group(2).strip()
        elif name and line.strip():
            found[name] = f"{found[name]} {line.strip()}".strip()
    return found


def examples(doc: str | None) -> list[str]:
    """Each `Example:` section's YAML, as written (one section per example)."""
    return [text for name, text in _blocks(doc) if name == "Example" and text.strip()]


def summary(doc: str | None) -> str:
    """The description before the sections (first line and paragraphs)."""
    return sections(doc).get("", "").strip()


def unreadable(action: str, provider: str, exc: Exception) -> PluginError:
    """The error naming an action whose result type cannot be read."""
    from robocore import extensions
    from robocore.i18n import gettext as _

    return PluginError(_("action '{action}' ({provider}): unreadable result type: {error}",
                         action=action, provider=provider, error=extensions.one_line(exc)))
