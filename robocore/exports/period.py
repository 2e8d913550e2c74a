"""The period of an export: its bounds checked once, its label, its months and its file name.

Texts (errors, label, file name) come from the catalogues (robocore.i18n), in the active language;
a refused period's error carries both languages for the API (`PeriodError.fr`, `.en`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from robocore.i18n import Message, current
from robocore.i18n import gettext as _
from robocore.i18n import lazy_gettext as _l

MAX_DAYS = 3653  # ten years, leap days included: an export covers at most 120 months
FIRST_DAY = date(1900, 1, 1)  # Excel's first date: an earlier one cannot be a date cell


class PeriodError(ValueError):
    """A period an export refuses; `code` is the API's error code, `message` its text from the catalogues.

    `fr` and `en` are that message in French and in English (the API answers both); `str(exc)` is
    it in the active language.
    """

    def __init__(self, code: str, message: Message) -> None:
        self.code, self.message = code, message
        self.fr, self.en = message.render("fr"), message.render("en")
        super().__init__(code, message)

    def __str__(self) -> str:
        return self.message.render()


def _fr(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _ascii_name(name: str) -> str:
    """A file name a header holds as it is, whatever a translation wrote: accents dropped, other characters `-`."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9._-]", "-", plain)


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
            raise PeriodError("bad_period", _l("end is before start"))
        if not export:
            return cls(start, end)
        if start is not None and start < FIRST_DAY:
            raise PeriodError("bad_period", _l("period start before 1900-01-01: {day}", day=start))
        if end is not None and end < FIRST_DAY:
            raise PeriodError("bad_period", _l("period end before 1900-01-01: {day}", day=end))
        if start and end and (end - start).days > MAX_DAYS:
            # Translators: {start} and {end} are dates: `{start:%d/%m/%Y}` writes one as 31/12/2026
            raise PeriodError("period_too_long", _l("period longer than ten years: {start} to {end}",
                                                    start=start, end=end))
        return cls(start, end)

    @property
    def last_day(self) -> date | None:
        """The last day included (the day before `end`), None when open or empty."""
        if self.end is None or self.end <= (self.start or date.min):
            return None
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        """As the exports write it, in the active language: « du 01/01/2026 au 31/12/2026 », "since the start"…"""
        return self.described()

    def described(self) -> str:
        """The period in the active language (the terminal's, a request's): DD/MM/YYYY in French, ISO in English."""

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
        """`heures-economisees-2026-01-01_2026-12-31.xlsx` (`hours-saved-…` in English): first and last day;
        « debut » ("start"), today when open. ASCII only: it goes in a Content-Disposition header as it is."""
        last = (self.last_day or (self.end if self.end is not None else today)).isoformat()
        if self.start:
            # Translators: a download's file name: ASCII letters, digits, "-", "_" and "." only (no accent, no space)
            name = _("hours-saved-{first}_{last}.{suffix}", first=self.start.isoformat(), last=last, suffix=suffix)
        else:
            # Translators: a download's file name, its period open at the start: ASCII only (no accent, no space)
            name = _("hours-saved-start_{last}.{suffix}", last=last, suffix=suffix)
        return _ascii_name(name)

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
