"""Bounded, position-keeping YAML reading: no Python tags, no alias bombs, no deep nesting."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from robocore.errors import RobotDefinitionError
from robocore.i18n import gettext as _

MAX_DEPTH = 50
MAX_NODES = 50_000
MAX_BYTES = 5_000_000
_SAFE_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq", "tag:yaml.org,2002:timestamp",
}
Path_ = tuple[Any, ...]

try:  # libyaml is much faster when present
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


@dataclass
class Positions:
    """Line and column (1-based) of every value and mapping key, by its path."""

    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def of(self, path: Path_, key: bool = False) -> tuple[int, int]:
        """Position of a path, or of its nearest ancestor that has one."""
        table = self.keys if key else self.values
        for end in range(len(path), -1, -1):
            sub = tuple(path[:end])
            if sub in table:
                return table[sub]
            if sub in self.values:
                return self.values[sub]
        return (1, 1)


def _mark(node_or_mark: Any) -> tuple[int, int]:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    return (mark.line + 1, mark.column + 1)


def _precheck(text: str, source: str) -> None:
    """Refuse absurd nesting and alias expansion before composing (see _walk_events).

    libyaml stops deep flow nesting itself, with its own wording, while it scans ahead of the
    events we count; on any libyaml error the walk is done again by PyYAML's pure-Python parser,
    which scans lazily, so a nesting error is ours whatever the library version.
    """
    try:
        try:
            _walk_events(text, source, _Loader)
        except yaml.MarkedYAMLError:
            if _Loader is yaml.SafeLoader:
                raise
            _walk_events(text, source, yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, source) from None


def _walk_events(text: str, source: str, loader: type) -> None:
    """Walk parser events (iteratively) to refuse absurd nesting and alias expansion before composing.

    The size of every anchored node is counted once, so an alias adds the size of what it
    expands to and a "billion laughs" file is refused at the alias that makes it too big.
    """
    open_nodes: list[list[Any]] = []  # [anchor, expanded size] of each open collection
    sizes: dict[str, int] = {}
    total = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                open_nodes.append([event.anchor, 1])
                if len(open_nodes) > MAX_DEPTH:
                    raise _event_error(event, source, _("nesting too deep (> {limit} levels)", limit=MAX_DEPTH))
                grown = 1
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                anchor, size = open_nodes.pop()
                if anchor:
                    sizes[anchor] = size
                if open_nodes:
                    open_nodes[-1][1] += size
                continue
            elif isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
                grown = sizes.get(event.anchor, 1) if isinstance(event, yaml.AliasEvent) and event.anchor else 1
                if isinstance(event, yaml.ScalarEvent) and event.anchor:
                    sizes[event.anchor] = 1
                if open_nodes:
                    open_nodes[-1][1] += grown
            else:
                continue
            total += grown
            if total > MAX_NODES:
                raise _event_error(event, source, _("document too large once its aliases are expanded "
                                                    "(> {limit} nodes)", limit=MAX_NODES))
    except yaml.reader.ReaderError as exc:  # a control character: not a MarkedYAMLError
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        code = f"{char:04X}"
        raise RobotDefinitionError(_("control character not allowed U+{code}", code=code),
                                   path=source, line=line, column=col) from None


def _event_error(event: Any, source: str, message: str) -> RobotDefinitionError:
    line, col = _mark(event)
    return RobotDefinitionError(message, path=source, line=line, column=col)


def _yaml_error(exc: yaml.MarkedYAMLError, source: str) -> RobotDefinitionError:
    mark = exc.problem_mark or exc.context_mark
    line, col = _mark(mark) if mark else (1, 1)
    problem = exc.problem or exc.context or "syntax error"
    return RobotDefinitionError(_("invalid YAML: {problem}", problem=problem), path=source, line=line, column=col)


class _Builder:
    """Turns a composed node tree into Python data, counting every node visited."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.positions = Positions()
        self.count = 0
        self.constructor = yaml.SafeLoader("")  # only its scalar constructors are used

    def fail(self, node: Any, message: str) -> RobotDefinitionError:
        line, col = _mark(node)
        return RobotDefinitionError(message, path=self.source, line=line, column=col)

    def build(self, node: Any, path: Path_, depth: int = 0) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(node, _("document too large once its aliases are expanded (> {limit} nodes)",
                                    limit=MAX_NODES))
        if depth > MAX_DEPTH:
            raise self.fail(node, _("nesting too deep"))
        if node.tag not in _SAFE_TAGS:
            raise self.fail(node, _("YAML tag not allowed '{tag}'", tag=node.tag))
        self.positions.values[path] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, path + (i,), depth + 1) for i, child in enumerate(node.value)]
        try:
            return self.constructor.construct_object(node, deep=True)
        except (ValueError, OverflowError, yaml.YAMLError) as exc:  # e.g. a 5,000-digit integer
            raise self.fail(node, _("unreadable value: {error}", error=str(exc).splitlines()[0])) from None

    def _mapping(self, node: yaml.MappingNode, path: Path_, depth: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise self.fail(key_node, _("merge keys '<<' are not allowed"))
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, _("a key must be a plain text"))
            key = self.build(key_node, path + ("<key>",), depth + 1)
            if key in out:
                first = self.positions.keys[path + (key,)]
                raise self.fail(key_node, _("duplicate key '{key}' (already on line {line})", key=key, line=first[0]))
            self.positions.keys[path + (key,)] = _mark(key_node)
            out[key] = self.build(value_node, path + (key,), depth + 1)
        return out


def load_yaml(text: str, source: str) -> tuple[Any, Positions]:
    """Parse YAML text safely; returns the data and the positions of its parts."""
    if len(text) > MAX_BYTES:
        raise RobotDefinitionError(_("file too large (> {limit} bytes)", limit=MAX_BYTES), path=source,
                                   line=1, column=1)
    _precheck(text, source)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, source) from None
    except yaml.YAMLError as exc:
        raise RobotDefinitionError(_("invalid YAML: {problem}", problem=exc), path=source, line=1, column=1) from None
    if node is None:
        raise RobotDefinitionError(_("empty file"), path=source, line=1, column=1)
    builder = _Builder(source)
    data = builder.build(node, ())
    return data, builder.positions
