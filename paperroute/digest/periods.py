"""Digest periods: a listing day for daily digests, an ISO week (Monday to Sunday) for weekly ones."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from paperroute.digest.errors import DigestError

FREQUENCIES = ("daily", "weekly")


@dataclass(frozen=True)
class Period:
    frequency: str  # "daily" | "weekly"
    start: date
    end: date  # inclusive

    @property
    def label(self) -> str:
        if self.frequency == "daily":
            return f"{self.start:%A, %B} {self.start.day}, {self.start.year}"
        year, week, _ = self.start.isocalendar()
        return f"week {week} of {year} ({self.start:%b} {self.start.day} – {self.end:%b} {self.end.day})"

    @property
    def slug(self) -> str:
        if self.frequency == "daily":
            return self.start.isoformat()
        year, week, _ = self.start.isocalendar()
        return f"{year}-W{week:02d}"


def daily(day: date) -> Period:
    return Period("daily", day, day)


def weekly(day: date) -> Period:
    """The ISO week (Monday to Sunday) that contains `day`."""
    monday = day - timedelta(days=day.weekday())
    return Period("weekly", monday, monday + timedelta(days=6))


def parse(frequency: str, text: str) -> Period:
    """A period from YYYY-MM-DD (any day of the week for weekly) or YYYY-Www."""
    if frequency not in FREQUENCIES:
        raise DigestError(f"unknown period {frequency!r}: use daily or weekly")
    text = (text or "").strip()
    week = re.fullmatch(r"(\d{4})-W(\d{2})", text)
    try:
        if week:
            if frequency != "weekly":
                raise DigestError("a week (YYYY-Www) goes with --period weekly")
            day = date.fromisocalendar(int(week[1]), int(week[2]), 1)
        else:
            day = date.fromisoformat(text)
    except ValueError:
        raise DigestError(f"expected a date as YYYY-MM-DD or a week as YYYY-Www, got {text!r}") from None
    # The days papers can have (as ingest checks them); 9999-12-31 ran past the calendar's end.
    if not date(1980, 1, 1) <= day <= date(date.today().year + 1, 12, 31):
        raise DigestError(f"no papers can be listed on {text}: give a day from 1980 to the end of next year")
    return daily(day) if frequency == "daily" else weekly(day)


def latest(frequency: str, today: date, last_listed: date | None) -> Period | None:
    """The period a digest is due for: the newest complete listing day, or the last complete week.

    `last_listed` is the newest day with papers before today: a day's listing fills until the
    day is over (Hugging Face lists papers all day), and its papers gather votes meanwhile. A
    daily digest sent on the day itself missed the day's later picks for good. A weekly digest covers the
    week before the current one, so that it is sent once the week is over; on a catalogue that
    has had no papers since, the week of its newest papers.
    """
    if frequency == "daily":
        return daily(last_listed) if last_listed else None
    last_week = today - timedelta(days=7)
    return weekly(min(last_week, last_listed) if last_listed else last_week)
