"""French (and English) formats of the pages: `1 119 h`, `12,5 %`, `01/12/2026`, `décembre 2026`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from robocore.web import formatting as f

NNBSP, NBSP = "\u202f", "\u00a0"  # narrow no-break space (thousands, units), no-break space (percent)


def test_french_hours_group_thousands_with_a_narrow_no_break_space() -> None:
    """1119 hours read `1 119 h` with U+202F between groups and before the unit, as French typography wants."""
    assert f.format_hours(1119) == f"1{NNBSP}119{NNBSP}h"
    assert f.format_hours(Decimal("1119.46")) == f"1{NNBSP}119,5{NNBSP}h"
    assert f.format_hours(0.5) == f"0,5{NNBSP}h"


def test_french_decimals_percent_dates_and_months() -> None:
    """A decimal comma, a percent with a no-break space, day/month/year, the month's French name."""
    assert f.format_number(12.5) == "12,5"
    assert f.format_number(1234567.891, places=2) == f"1{NNBSP}234{NNBSP}567,89"
    assert f.format_percent(0.125) == f"12,5{NBSP}%"
    assert f.format_percent(1) == f"100{NBSP}%"
    assert f.format_date(date(2026, 12, 1)) == "01/12/2026"
    assert f.format_datetime(datetime(2026, 12, 1, 14, 5)) == "01/12/2026 14:05"
    assert f.format_month(date(2026, 12, 1)) == "décembre 2026"


def test_english_forms() -> None:
    """English pages: comma thousands, decimal point, `12.5%`, day first dates, English month names."""
    assert f.format_hours(1119, "en") == "1,119 hrs"
    assert f.format_number(12.5, "en") == "12.5"
    assert f.format_percent(0.125, "en") == "12.5%"
    assert f.format_date(date(2026, 12, 1), "en") == "01/12/2026"
    assert f.format_month(date(2026, 12, 1), "en") == "December 2026"


def test_rounding_is_half_up_as_a_reader_rounds() -> None:
    """0,25 h shows `0,3 h` and 0,125 shows `12,5 %`, not Babel's half-even (`0,2`); floats are rounded from
    their shortest decimal form (0.1 + 0.2 is `0,3`)."""
    assert f.format_hours(0.25) == f"0,3{NNBSP}h"
    assert f.format_number(2.45) == "2,5"
    assert f.format_number(0.1 + 0.2) == "0,3"
    assert f.format_percent(0.0125) == f"1,3{NBSP}%"


def test_an_unknown_language_is_refused_naming_it() -> None:
    """Only fr and en: another code fails with the value in the message."""
    with pytest.raises(ValueError, match="'de'"):
        f.format_hours(1, "de")
