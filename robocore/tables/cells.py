"""Cell values made safe and French: a text from the data never becomes a formula, a number stays a number.

A spreadsheet evaluates a cell that begins with `=`, `+`, `-` or `@` (and, through some
importers, a tab, CR or LF before one): OWASP's "CSV injection". In a workbook such a text is
written as a string cell (never a formula) with Excel's quote prefix, so that editing the cell
does not evaluate it either; in a CSV file it gets a leading `'`, as OWASP recommends. Numbers
are written by us, as numbers: never escaped.

One place for the dashboard's exports (`robocore.exports`) and the robots' tables
(`excel.write_table`, `excel.read_table`'s `text` columns); light to import (no database, no
workbook library).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def is_risky(text: str) -> bool:
    """Whether a spreadsheet could read this text as a formula."""
    return text.startswith(TRIGGERS)


def csv_text(text: str) -> str:
    """A text cell for CSV: a leading `'` when it could be read as a formula."""
    return f"'{text}" if is_risky(text) else text


def decimal_fr(value: float | int | Decimal) -> str:
    """A number with a French decimal comma, every digit of its shortest exact form, no exponent.

    `decimal_fr(4.5) == "4,5"`, `decimal_fr(1e-05) == "0,00001"`: read back with the comma as
    point, it is the same float.
    """
    if isinstance(value, int):
        return str(value)
    exact = value if isinstance(value, Decimal) else Decimal(repr(value))
    return format(exact, "f").replace(".", ",")


def french_text(value: Any) -> str | None:
    """A cell value as a French Excel shows it in a General cell; None for an empty cell.

    Integral numbers without decimals (`627000`), others with a decimal comma (`1234,56`), dates
    `dd/mm/yyyy`, date-times `dd/mm/yyyy hh:mm` (`:ss` when there are seconds), booleans
    `VRAI`/`FAUX`; a text is returned as it is.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if isinstance(value, (int, float, Decimal)):
        return decimal_fr(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M:%S" if value.second or value.microsecond else "%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    return str(value)
