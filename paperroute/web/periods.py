"""Days, ISO weeks and months as they appear in URLs: 2024-11-28, 2024-W48, 2024-11."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta


class BadPeriod(ValueError):
    """A date, week or month in a URL that does not exist."""


@dataclass(frozen=True)
class Period:
    kind: str  # "day" | "week" | "month"
    start: date
    end: date  # inclusive

    @property
    def slug(self) -> str:
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def label(self) -> str:
        if self.kind == "day":
            return f"{self.start:%A, %B} {self.start.day}, {self.start.year}"
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            first, last = f"{self.start:%b} {self.start.day}", f"{self.end:%b} {self.end.day}"
            if self.start.year != self.end.year:  # Week 1, 2025 · Dec 30, 2024 – Jan 5, 2025
                first, last = f"{first}, {self.start.year}", f"{last}, {self.end.year}"
            return f"Week {week}, {year} · {first} – {last}"
        return f"{self.start:%B %Y}"

    def previous(self) -> Period | None:
        try:
            return self._step(-1)
        except (OverflowError, ValueError):  # before year 1
            return None

    def next(self) -> Period | None:
        try:
            return self._step(1)
        except (OverflowError, ValueError):  # after year 9999
            return None

    def _step(self, direction: int) -> Period:
        if direction > 0:
            return self._next()
        if self.kind == "day":
            return day(self.start - timedelta(days=1))
        if self.kind == "week":
            return week_of(self.start - timedelta(days=7))
        return month_of(self.start - timedelta(days=1))

    def _next(self) -> Period:
        if self.kind == "day":
            return day(self.start + timedelta(days=1))
        if self.kind == "week":
            return week_of(self.start + timedelta(days=7))
        return month_of(self.end + timedelta(days=1))


def day(value: date) -> Period:
    return Period("day", value, value)


def week_of(value: date) -> Period:
    monday = value - timedelta(days=value.weekday())
    return Period("week", monday, monday + timedelta(days=min(6, (date.max - monday).days)))


def month_of(value: date) -> Period:
    last = calendar.monthrange(value.year, value.month)[1]
    return Period("month", value.replace(day=1), value.replace(day=last))


def parse_day(text: str) -> Period:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text or ""):
        raise BadPeriod(f"{text!r} is not a date; use YYYY-MM-DD, such as 2024-11-28")
    try:
        return day(date.fromisoformat(text))
    except ValueError:
        raise BadPeriod(f"{text} is not a day of the calendar") from None


def parse_week(text: str) -> Period:
    match = re.fullmatch(r"(\d{4})-W(\d{2})", text or "")
    if not match:
        raise BadPeriod(f"{text!r} is not an ISO week; use YYYY-Www, such as 2024-W48")
    try:
        return week_of(date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1))
    except ValueError:
        raise BadPeriod(f"{match.group(1)} has no week {int(match.group(2))}") from None


def parse_month(text: str) -> Period:
    match = re.fullmatch(r"(\d{4})-(\d{2})", text or "")
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        raise BadPeriod(f"{text!r} is not a month; use YYYY-MM, such as 2024-11")
    return month_of(date(int(match.group(1)), int(match.group(2)), 1))
