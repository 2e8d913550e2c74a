"""Cell values made safe: a text from the data never becomes a formula, a number stays a number.

A spreadsheet evaluates a cell that begins with `=`, `+`, `-` or `@` (and, through some
importers, a tab, CR or LF before one): OWASP's "CSV injection". In a workbook such a text is
written as a string cell (never a formula) with Excel's quote prefix, so that editing the cell
does not evaluate it either; in a CSV file it gets a leading `'`, as OWASP recommends. Numbers
are written by us, as numbers: never escaped.
"""

from __future__ import annotations

import re
from decimal import Decimal

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
# characters XML 1.0 cannot hold (openpyxl refuses them): shown as U+FFFD rather than failing the export
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def is_risky(text: str) -> bool:
    """Whether a spreadsheet could read this text as a formula."""
    return text.startswith(TRIGGERS)


def csv_text(text: str) -> str:
    """A text cell for CSV: a leading `'` when it could be read as a formula."""
    return f"'{text}" if is_risky(text) else text


def xml_text(text: str) -> str:
    """A text a workbook can hold: characters XML forbids replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def decimal_fr(value: float | int) -> str:
    """A number with a French decimal comma, every digit of its shortest exact form, no exponent.

    `decimal_fr(4.5) == "4,5"`, `decimal_fr(1e-05) == "0,00001"`: read back with the comma as
    point, it is the same float.
    """
    if isinstance(value, int):
        return str(value)
    text = format(Decimal(repr(value)), "f")
    return text.replace(".", ",")
