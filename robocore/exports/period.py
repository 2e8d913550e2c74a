"""The period of an export: its bounds checked once, its French label, its months and its file name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

MAX_DAYS = 3653  # ten years, leap days included: an export covers at most 120 months
FIRST_DAY = date(1900, 1, 1)  # Excel's first date: an earlier one cannot be a date cell


class PeriodError(ValueError):
    """A period an export refuses; `code` is the API's error code, `fr` and `en` its messages."""

    def __init__(self, code: str, fr: str, en: str) -> None:
        self.code, self.fr, self.en = code, fr, en
        super().__init__(f"{fr} / {en}")


def _fr(day: date) -> str:
    return day.strftime("%d/%m/%Y")


@dataclass(frozen=True)
class Period:
    """From `start` (included) to `end` (excluded), UTC days; a missing bound is open."""

    start: date | None = None
    end: date | None = None

    @classmethod
    def checked(cls, start: date | None, end: date | None, *, export: bool = True) -> Period:
        """The period, or PeriodError naming the bound at fault.

        Args:
            export: also refuse what a file cannot hold: a date before 1900 (Excel's first) or
                more than ten years (an export's months are bounded); a report on screen needs neither.
        """
        if start and end and end < start:
            raise PeriodError("bad_period", "la fin de la période précède son début", "end is before start")
        if not export:
            return cls(start, end)
        for name, day in (("début", start), ("fin", end)):
            if day is not None and day < FIRST_DAY:
                raise PeriodError("bad_period", f"{name} de période avant le 01/01/1900 : {day.isoformat()}",
                                  f"period {'start' if name == 'début' else 'end'} before 1900-01-01: {day}")
        if start and end and (end - start).days > MAX_DAYS:
            raise PeriodError("period_too_long", f"période de plus de dix ans : du {_fr(start)} au {_fr(end)}",
                              f"period longer than ten years: {start} to {end}")
        return cls(start, end)

    @property
    def last_day(self) -> date | None:
        """The last day included (the day before `end`), None when open or empty."""
        if self.end is None or self.end <= (self.start or date.min):
            return None
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        """In French, as the exports write it: « du 01/01/2026 au 31/12/2026 », « depuis le début »…"""
        from robocore.i18n import use_language

        with use_language("fr"):
            return self.described()

    def described(self) -> str:
        """The period in the active language (the terminal's); `label` is the exports' French one."""
        from robocore.i18n import current
        from robocore.i18n import gettext as _

        def day(value: date) -> str:
            return value.isoformat() if current() == "en" else _fr(value)

        start, last = self.start, self.last_day
        if self.end is not None and last is None:
            return _("empty period (before {day})", day=day(self.end))
        if start and last:
            return _("from {first} to {last}", first=day(start), last=day(last))
        if start:
            return _("since {day}", day=day(start))
        return _("until {day}", day=day(last)) if last else _("since the start")

    def filename(self, suffix: str, today: date) -> str:
        """`heures-economisees-2026-01-01_2026-12-31.xlsx`: first and last day; « debut », today when open."""
        first = self.start.isoformat() if self.start else "debut"
        last = self.last_day or (self.end if self.end is not None else today)
        return f"heures-economisees-{first}_{last.isoformat()}.{suffix}"

    def months(self, seen: list[str]) -> list[date]:
        """First days of the months shown: every month of a bounded period (at most 120); from the first
        to the last month with figures when a bound is open (so « depuis le début » stays as long as the data).

        Args:
            seen: months with figures, 'YYYY-MM'.
        """
        known = sorted(date(int(m[:4]), int(m[5:7]), 1) for m in seen)
        last = self.last_day
        if self.start and last:
            low, high = self.start.replace(day=1), last.replace(day=1)
        elif known:
            low, high = known[0], known[-1]
        else:
            return []
        months, month = [], low
        while month <= high:
            months.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        return months
