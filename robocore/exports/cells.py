"""Cell values made safe: a text from the data never becomes a formula, a number stays a number.

A spreadsheet evaluates a cell that begins with `=`, `+`, `-` or `@` (and, through some
importers, a tab, CR or LF before one): OWASP's "CSV injection". In a workbook such a text is
written as a string cell (never a formula) with Excel's quote prefix, so that editing the cell
does not evaluate it either; in a CSV file it gets a leading `'`, as OWASP recommends. Numbers
are written by us, as numbers: never escaped.

The neutraliser and the French decimals live in `robocore.tables.cells`, shared with the
robots' `excel.write_table`; they are re-exported here.
"""

from __future__ import annotations

import re

from robocore.tables.cells import TRIGGERS, csv_text, decimal_fr, is_risky

__all__ = ["TRIGGERS", "csv_text", "decimal_fr", "is_risky", "xml_text"]

# characters XML 1.0 cannot hold (openpyxl refuses them): shown as U+FFFD rather than failing the export
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    """A text a workbook can hold: characters XML forbids replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)
