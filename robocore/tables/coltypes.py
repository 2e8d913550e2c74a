"""Explicit column types of excel.read_table (`columns: {compte: text, montant: number}`).

Each type turns a whole column, cell by cell; a cell that cannot be turned is reported by its
index, so that the reader can name it as Excel does (`Feuille1!C7`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, get_args

from robocore.errors import BusinessError
from robocore.i18n import gettext as _
from robocore.tables.cells import french_text
from robocore.tables.rows import fold
from robocore.tables.values import as_number

ColumnType = Literal["text", "number", "integer", "date", "datetime", "bool"]
COLUMN_TYPES: tuple[str, ...] = get_args(ColumnType)
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_DATE_TEXT = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_TRUE = {"vrai", "true", "oui", "yes", "o", "y", "x", "1"}
_FALSE = {"faux", "false", "non", "no", "n", "0"}
_NOT_CONVERTED = object()


def resolve_types(spec: Mapping[str, str], columns: Sequence[str], header: Sequence[Any]) -> dict[int, str]:
    """Column index → type, for the columns `spec` names (as written, or ignoring case, spaces, accents).

    Raises:
        BusinessError: a name matches no column (the columns are listed), or a type is unknown.
    """
    by_fold: dict[str, int] = {}
    for index, name in enumerate(columns):
        by_fold.setdefault(fold(name), index)
    for index, raw in enumerate(header):
        if isinstance(raw, str) and raw.strip():
            by_fold.setdefault(fold(raw), index)
    types: dict[int, str] = {}
    for name, kind in spec.items():
        if kind not in COLUMN_TYPES:
            raise BusinessError(_("Column {column}: unknown type {kind} (types: {types})", column=repr(name),
                                  kind=repr(kind), types=", ".join(COLUMN_TYPES)))
        found = columns.index(name) if name in columns else by_fold.get(fold(name))
        if found is None:
            listed = ", ".join(repr(c) for c in columns)
            raise BusinessError(_("Column {column} not found in the header (columns: {listed})",
                                  column=repr(name), listed=listed))
        types[found] = kind
    return types


def convert_column(values: list[Any], kind: str) -> tuple[list[Any], list[int]]:
    """The column's values turned to `kind`, and the indexes of the cells that could not be.

    Empty cells (None) stay None whatever the type.
    """
    convert = _CONVERTERS[kind]
    out: list[Any] = []
    failed: list[int] = []
    for index, value in enumerate(values):
        result = None if value is None else convert(value)
        if result is _NOT_CONVERTED:
            failed.append(index)
            result = value
        out.append(result)
    return out, failed


def expected(kind: str) -> str:
    """What a cell of this type must hold, for an error message."""
    labels = {"number": _("a number"), "integer": _("a whole number"), "date": _("a date"),
              "datetime": _("a date"), "bool": _("yes or no"), "text": _("a text")}
    return labels[kind]


def _text(value: Any) -> Any:
    return french_text(value)


def _number(value: Any) -> Any:
    if isinstance(value, bool):
        return _NOT_CONVERTED
    if isinstance(value, (int, float)):
        return value
    number = as_number(value) if isinstance(value, str) else None
    if number is None:
        return _NOT_CONVERTED
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _integer(value: Any) -> Any:
    number = _number(value)
    if number is _NOT_CONVERTED or (isinstance(number, float) and not number.is_integer()):
        return _NOT_CONVERTED
    return int(number)


def _datetime(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value < 2_958_466:  # Excel's serial days: 1900-01-01 to 9999-12-31
            return _EXCEL_EPOCH + dt.timedelta(days=value)
        return _NOT_CONVERTED
    if isinstance(value, str):
        return _datetime_text(value.strip())
    return _NOT_CONVERTED


def _datetime_text(text: str) -> Any:
    match = _DATE_TEXT.match(text)
    try:
        if match:
            day, month, year = int(match[1]), int(match[2]), int(match[3])
            hour, minute, second = (int(match[i] or 0) for i in (4, 5, 6))
            return dt.datetime(year, month, day, hour, minute, second)
        return dt.datetime.fromisoformat(text) if len(text) >= 10 and text[4] == "-" else _NOT_CONVERTED
    except ValueError:
        return _NOT_CONVERTED


def _date(value: Any) -> Any:
    moment = _datetime(value)
    return moment.date() if isinstance(moment, dt.datetime) else moment


def _bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().casefold()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    return _NOT_CONVERTED


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "text": _text, "number": _number, "integer": _integer, "date": _date, "datetime": _datetime, "bool": _bool}
