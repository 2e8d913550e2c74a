"""Rows keyed by header, looked up leniently, and the header/key normalisation they use."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, SupportsIndex, overload

LINE_KEY = "_ligne"
"""Key holding a row's 1-based line number in its source file (survives JSON)."""

_SPACES = re.compile(r"\s+")


def clean_header(value: Any) -> str:
    """A header as written: trimmed, inner whitespace collapsed, accents and case kept."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _SPACES.sub(" ", str(value)).strip()


def fold(name: str) -> str:
    """The lookup form of a name: no whitespace, no accents, case-folded."""
    decomposed = unicodedata.normalize("NFKD", _SPACES.sub("", str(name)))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def unique_headers(raw: Iterable[Any]) -> list[str]:
    """Clean headers; empty ones become `colonne_N`, repeated ones get `_2`, `_3`…"""
    result: list[str] = []
    seen: set[str] = set()
    for index, value in enumerate(raw, start=1):
        name = clean_header(value) or f"colonne_{index}"
        candidate, n = name, 1
        while fold(candidate) in seen:
            n += 1
            candidate = f"{name}_{n}"
        seen.add(fold(candidate))
        result.append(candidate)
    return result


class Row(dict[str, Any]):
    """A row keyed by its headers; `row['numero ']` finds 'Numéro' when no exact key matches.

    Exact keys win; otherwise the key is compared without case, whitespace or
    accents. The source line number is stored under `_ligne`.
    """

    __slots__ = ("_folded",)
    _folded: dict[str, str] | None

    def _lookup(self, key: Any) -> Any:
        folded = getattr(self, "_folded", None)
        if folded is None:
            folded = {}
            for k in self:
                folded.setdefault(fold(k), k)
            self._folded = folded
        return folded[fold(key)]

    def __missing__(self, key: Any) -> Any:
        if not isinstance(key, str):
            raise KeyError(key)
        try:
            return dict.__getitem__(self, self._lookup(key))
        except KeyError:
            raise KeyError(key) from None

    def get(self, key: Any, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        if dict.__contains__(self, key):
            return True
        try:
            self._lookup(key)
        except KeyError:
            return False
        return isinstance(key, str)

    def __setitem__(self, key: str, value: Any) -> None:
        self._folded = None
        dict.__setitem__(self, key, value)

    def __reduce__(self) -> Any:
        return (Row, (dict(self),))

    @property
    def line(self) -> int | None:
        """The 1-based line of this row in its source file, when known."""
        return dict.get(self, LINE_KEY)


class Rows(list[Any]):
    """A table's rows, kept as plain dicts and handed out as `Row`s.

    CPython's cyclic collector tracks every instance of a dict subclass, but not a
    plain dict holding only texts, numbers, dates and None. 200,000 `Row`s made each
    full collection walk them all, five or six times while two 100,000-row workbooks
    were reconciled. So a read stores plain dicts (the source line under `_ligne`),
    and a row becomes a `Row` when Python code first reaches it (index, slice,
    iteration, pop, sort) and stays one in its place: the same object at every
    access, changes kept. `stored` reads them as they are, without turning them.
    C code reading the list directly (len, ==, json, pydantic) sees the same keys
    and values either way.
    """

    __slots__ = ()

    def handed_out(self, item: Any) -> Any:
        """What Python code gets for a stored item: a `Row` for a plain dict."""
        return Row(item) if item.__class__ is dict else item

    def _at(self, index: SupportsIndex) -> Any:
        item = list.__getitem__(self, index)
        handed = self.handed_out(item)
        if handed is not item:
            list.__setitem__(self, index, handed)
        return handed

    def _hand_out_all(self) -> None:
        for index in range(len(self)):
            self._at(index)

    @overload
    def __getitem__(self, index: SupportsIndex) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> Rows: ...

    def __getitem__(self, index: SupportsIndex | slice) -> Any:
        if isinstance(index, slice):
            return self.__class__(map(self._at, range(*index.indices(len(self)))))
        return self._at(index)

    def __iter__(self) -> Iterator[Any]:
        index = 0
        while index < len(self):  # like a list's iterator: sees items appended meanwhile
            yield self._at(index)
            index += 1

    def __reversed__(self) -> Iterator[Any]:
        for index in range(len(self) - 1, -1, -1):
            if index < len(self):
                yield self._at(index)

    def pop(self, index: SupportsIndex = -1) -> Any:
        item = self._at(index)
        list.pop(self, index)
        return item

    def copy(self) -> Rows:
        return self[:]

    def sort(self, *, key: Callable[[Any], Any] | None = None, reverse: bool = False) -> None:
        self._hand_out_all()
        list.sort(self, key=key, reverse=reverse)

    def __add__(self, other: Iterable[Any]) -> Rows:
        return self.__class__([*self, *other])

    def __radd__(self, other: Iterable[Any]) -> Rows:
        return self.__class__([*other, *self])

    def __mul__(self, times: SupportsIndex) -> Rows:
        return self.__class__(list(self) * times)

    __rmul__ = __mul__

    def __reduce__(self) -> Any:
        return (self.__class__, (list.copy(self),))


def stored(rows: Iterable[Any]) -> list[Any]:
    """The items of a list as stored (a `Rows` list's plain dicts are not turned into `Row`s)."""
    return list.copy(rows) if isinstance(rows, list) else list(rows)


def resolve_column(name: str, columns: Iterable[str]) -> str | None:
    """The column matching `name` exactly, else ignoring case, whitespace and accents."""
    cols = list(columns)
    if name in cols:
        return name
    target = fold(name)
    return next((c for c in cols if fold(c) == target), None)


def columns_of(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every key of the rows in first-seen order, without private keys such as `_ligne`."""
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            if not str(key).startswith("_"):
                seen.setdefault(key, None)
    return list(seen)
