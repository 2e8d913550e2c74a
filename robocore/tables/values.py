"""Cell values: typing what calamine returns, French amounts written as text, keys."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

_SPACES = re.compile(r"\s+")
# 1 234,56 | 1.234,56 | 1234,56 | -12,5 | 12 € | 1 234,56 EUR (NBSP and narrow NBSP count as spaces)
_FRENCH_NUMBER = re.compile(
    r"^(?P<sign>[-+\u2212]?)\s*(?P<int>\d{1,3}(?:[ .\u00a0\u202f']\d{3})+|\d+)"
    r"(?:,(?P<dec>\d+))?\s*(?:€|EUR|eur)?$")
# What `french_numbers` converts: an amount as a French person writes it, never a bare code.
# It needs a decimal comma, or thousands grouped by one kind of separator (space, NBSP, narrow
# NBSP or dot), or a unit (€, EUR, %): "0612", "007", "627000" and "-12" do not qualify.
_FRENCH_AMOUNT = re.compile(
    r"^(?P<sign>[-+\u2212]?)[ \u00a0\u202f]*"
    r"(?P<int>\d{1,3}(?:(?P<sep>[ \u00a0\u202f]|\.)\d{3})(?:(?P=sep)\d{3})*|\d+)"
    r"(?:,(?P<dec>\d+))?[ \u00a0\u202f]*(?P<unit>€|EUR|eur|%)?$")
_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_MAX_EXACT = 2**53


def typed_cell(value: Any) -> Any:
    """Calamine's value made tidy: '' → None, integral floats → int, text trimmed."""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < _MAX_EXACT:
            return int(value)
        return value
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def typed_column(cells: Iterable[Any]) -> list[Any]:
    """`typed_cell` over a whole column, in one comprehension (the hot loop of a read)."""
    return [((v.strip() or None) if v else None) if v.__class__ is str
            else (int(v) if v.__class__ is float and v.is_integer() and -_MAX_EXACT < v < _MAX_EXACT else v)
            for v in cells]


def unstripped_column(cells: Iterable[Any]) -> list[Any]:
    """`typed_column` keeping texts as written (tabs, line breaks and spaces kept; '' → None)."""
    return [(v or None) if v.__class__ is str
            else (int(v) if v.__class__ is float and v.is_integer() and -_MAX_EXACT < v < _MAX_EXACT else v)
            for v in cells]


def parse_french_number(text: str) -> float | None:
    """`1 234,56 €` → 1234.56, `42` → 42.0; None when the text is not a French-written number.

    Lenient (digit-only text counts): for values already known to be numbers (a `number`
    column, a reconciliation's amounts). `french_numbers` uses the strict `french_amount`.
    """
    match = _FRENCH_NUMBER.match(text.strip())
    if not match:
        return None
    digits = re.sub(r"[ .\u00a0\u202f']", "", match["int"])
    number = float(f"{digits}.{match['dec'] or '0'}")
    return -number if match["sign"] in ("-", "\u2212") else number


def french_amount(text: str) -> float | None:
    """The number a text written as a French amount holds, else None (what `french_numbers` converts).

    An amount has a decimal comma (`1234,56`, `-0,5`), or thousands grouped by spaces, no-break
    spaces (U+00A0, U+202F) or dots, the same separator throughout (`1 234`, `1.234.567`), or a
    unit (`12 €`, `12 EUR`, `12,5 %`); an optional sign (`-`, `+`, `−`) comes first. Digit-only
    text (`0612`, `007`, `627000`, `-12`) is a code, not an amount: None. A percentage is a
    fraction, as Excel reads it: `12,5 %` → 0.125. Leading and trailing whitespace is ignored.
    """
    match = _FRENCH_AMOUNT.match(text.strip())
    if not match or not (match["dec"] is not None or match["sep"] or match["unit"]):
        return None
    digits = match["int"].replace(match["sep"], "") if match["sep"] else match["int"]
    number = float(f"{digits}.{match['dec'] or '0'}")
    if match["unit"] == "%":
        number = float(f"{digits}.{match['dec'] or '0'}e-2")
    return -number if match["sign"] in ("-", "\u2212") else number


def french_or_text(value: Any) -> Any:
    """A text cell holding a French amount (`french_amount`) becomes a float; anything else is unchanged."""
    if isinstance(value, str):
        number = french_amount(value)
        if number is not None:
            return number
    return value


def as_number(value: Any) -> float | None:
    """A numeric view of a cell (numbers, French or plain numeric text), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        number = parse_french_number(value)
        if number is None:
            try:
                number = float(value.strip())
            except ValueError:
                return None
        return number
    return None


def as_date(value: Any) -> dt.date | None:
    """A date view of a cell (date, datetime, or `dd/mm/yyyy` / ISO text), else None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        match = _FRENCH_DATE.match(text)
        try:
            if match:
                return dt.date(int(match[3]), int(match[2]), int(match[1]))
            return dt.date.fromisoformat(text[:10]) if len(text) >= 10 else None
        except ValueError:
            return None
    return None


def normalise_key(value: Any, pattern: re.Pattern[str] | None = None) -> str:
    """A join key: text, trimmed, spaces collapsed, upper-cased; `pattern`'s first group if it matches."""
    if value is None:
        return ""
    if value.__class__ is float and value.is_integer():
        value = int(value)
    text = " ".join(str(value).split()).upper()
    if pattern is not None and text:
        match = pattern.search(text)
        if match:
            text = (match.group(1) if match.groups() else match.group(0)).strip()
    return text


def same_text(left: Any, right: Any) -> bool:
    """Text equality ignoring case and whitespace runs."""
    def norm(v: Any) -> str:
        return _SPACES.sub(" ", str(v)).strip().casefold()
    return norm(left) == norm(right)
