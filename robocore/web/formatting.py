"""Numbers and dates as a French reader writes them (`1 119 h`, `12,5 %`, `01/12/2026`), or in English.

Babel formats from CLDR data: French groups thousands with a narrow no-break space
(U+202F) and puts one between a number and its unit (`1 119 h`); a percent sign gets a
no-break space (U+00A0, `12,5 %`), as CLDR has it. English is British English
(`1,119 hrs`, `12.5%`, `01/12/2026`): day before month, as in the French pages.

Rounding is half-up (`0,25` → `0,3`), as a reader rounds by hand, not Babel's default
half-even. Pages show at most one decimal; exports keep the exact values.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel import dates, numbers, units

LOCALES: dict[str, str] = {"fr": "fr_FR", "en": "en_GB"}
ONE_DECIMAL = "#,##0.#"

PARIS = ZoneInfo("Europe/Paris")  # the pages show stored moments as French offices read them


def locale_of(language: str) -> str:
    """The Babel locale of a page language (`fr` → `fr_FR`, `en` → `en_GB`)."""
    try:
        return LOCALES[language]
    except KeyError:
        raise ValueError(f"langue inconnue {language!r} (fr ou en) / unknown language {language!r} (fr or en)") \
            from None


def _rounded(value: float | Decimal, places: int) -> Decimal:
    """`value` rounded half-up to `places` decimals (Decimal, so that 0.25 stays 0.25 before rounding)."""
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_number(value: float | Decimal, language: str = "fr", places: int = 1) -> str:
    """A number with grouped thousands and at most `places` decimals (`12,5`, `1 119`)."""
    pattern = "#,##0" + ("." + "#" * places if places else "")
    return numbers.format_decimal(_rounded(value, places), format=pattern, locale=locale_of(language))


def format_hours(value: float | Decimal, language: str = "fr") -> str:
    """Hours with their unit, one decimal at most (`1 119 h`, `0,5 h`; English `1,119 hrs`)."""
    return units.format_unit(_rounded(value, 1), "duration-hour", length="short", format=ONE_DECIMAL,
                             locale=locale_of(language))


def format_percent(ratio: float | Decimal, language: str = "fr") -> str:
    """A ratio (0.125) as a percent with one decimal at most (`12,5 %`; English `12.5%`)."""
    return numbers.format_percent(_rounded(ratio, 3), locale=locale_of(language), decimal_quantization=False)


def format_date(value: date, language: str = "fr") -> str:
    """A day as `01/12/2026` (both languages: day first)."""
    return dates.format_date(value, "dd/MM/yyyy", locale=locale_of(language))


def format_datetime(value: datetime, language: str = "fr") -> str:
    """A moment as `01/12/2026 14:05` in the server's time of that value."""
    return f"{format_date(value, language)} {dates.format_time(value, 'HH:mm', locale=locale_of(language))}"


def format_stored_moment(value: datetime, language: str = "fr") -> str:
    """A stored moment (naive UTC, as the store keeps them) shown in Paris time: `01/12/2026 15:05`."""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return format_datetime(aware.astimezone(PARIS).replace(tzinfo=None), language)


def format_month(value: date, language: str = "fr") -> str:
    """A month as `décembre 2026` (English `December 2026`)."""
    return dates.format_skeleton("yMMMM", value, locale=locale_of(language))


FORMATS: dict[str, Callable[[Any, str], str]] = {
    "hours": format_hours, "percent": format_percent, "day": format_date, "moment": format_datetime,
    "stored_moment": format_stored_moment, "month": format_month, "number": format_number,
}
"""The page formats by Jinja filter name: each takes the value and the language."""
