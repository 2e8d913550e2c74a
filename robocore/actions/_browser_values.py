"""Converting robot values to what a form field takes (dates, numbers, check boxes, options)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from robocore.errors import BusinessError
from robocore.i18n import gettext as _
from robocore.secrets import Secret, scrub

NUMERIC = {"number", "range"}
TRUE = {"oui", "o", "yes", "y", "true", "vrai", "1", "x", "on", "coché"}
FALSE = {"non", "n", "no", "false", "faux", "0", "", "off", "-"}


# ---- value conversion -------------------------------------------------------------------
def _number(value: int | float | Decimal) -> str:
    """A number without exponent nor useless trailing zeros, with a decimal point."""
    if isinstance(value, int):
        return str(value)
    text = format(Decimal(repr(value)) if isinstance(value, float) else value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def to_text(value: Any, kind: str) -> str:
    """The text to type for `value` into a field of this kind (input type)."""
    if isinstance(value, Secret):
        return value.reveal()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, datetime):
        if kind in ("date", "datetime-local", "time", "month") or value.time() != time(0):
            return {"date": value.strftime("%Y-%m-%d"), "datetime-local": value.strftime("%Y-%m-%dT%H:%M"),
                    "time": value.strftime("%H:%M"), "month": value.strftime("%Y-%m")}.get(
                        kind, value.strftime("%d/%m/%Y %H:%M"))
        value = value.date()
    if isinstance(value, date):
        return {"date": value.isoformat(), "datetime-local": f"{value.isoformat()}T00:00",
                "month": value.strftime("%Y-%m")}.get(kind, value.strftime("%d/%m/%Y"))
    if isinstance(value, time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    if isinstance(value, (int, float, Decimal)):
        text = _number(value)
        return text if kind in NUMERIC else text.replace(".", ",")
    text = str(value)
    if kind == "date" and (m := re.fullmatch(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*", text)):
        return f"{m[3]}-{int(m[2]):02d}-{int(m[1]):02d}"
    if kind in NUMERIC and re.fullmatch(r"\s*[+-]?[\d\s\u00a0\u202f.]*,\d+\s*", text):
        return re.sub(r"[\s\u00a0\u202f.]", "", text).replace(",", ".")
    return text


def truthy(value: Any, field: str) -> bool:
    """A check box's state from a boolean or a French/English yes/no text."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return bool(value)
    text = str(value.reveal() if isinstance(value, Secret) else value).strip().lower()
    if text in TRUE or text in FALSE:
        return text in TRUE
    raise BusinessError(scrub(_("Checkbox “{field}”: value “{value}” is neither yes nor no", field=field, value=value)))


# ---- operations on a found field --------------------------------------------------------
def _match(options: list[list[str]], wanted: str) -> str | None:
    """The value of the option whose value or label is `wanted` (then ignoring spacing and case)."""
    def norm(text: str) -> str:
        return " ".join(unicodedata.normalize("NFC", text).split())

    for test in (lambda v, lbl: v == wanted, lambda v, lbl: norm(lbl) == norm(wanted),
                 lambda v, lbl: norm(lbl).casefold() == norm(wanted).casefold(),
                 lambda v, lbl: norm(v).casefold() == norm(wanted).casefold()):
        found = next((v for v, lbl in options if test(v, lbl)), None)
        if found is not None:
            return found
    return None
