"""Public holidays (France: the 11 national days) from the maintained `holidays` package."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache


@lru_cache(maxsize=64)
def _year(country: str, year: int) -> dict[dt.date, str]:
    import holidays

    return dict(holidays.country_holidays(country.upper(), years=year, language="fr").items())


def holiday_name(day: dt.date, country: str) -> str | None:
    """The name of the public holiday on that day (e.g. 'Jour de l'an'), or None."""
    return _year(country, day.year).get(day)


def is_working_day(day: dt.date, country: str | None) -> bool:
    """Monday to Friday and, when a country is given, not one of its public holidays."""
    if day.weekday() >= 5:
        return False
    return country is None or holiday_name(day, country) is None


def working_day_index(day: dt.date, country: str | None) -> int | None:
    """1 for the first working day of its month, 2 for the second...; None if not a working day."""
    if not is_working_day(day, country):
        return None
    first = day.replace(day=1)
    return sum(1 for n in range((day - first).days + 1)
               if is_working_day(first + dt.timedelta(days=n), country))
