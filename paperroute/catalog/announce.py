"""arXiv's announcement schedule: which daily listing a submission lands in."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ARXIV_TZ = ZoneInfo("America/New_York")
# arXiv closes each day's submissions at 14:00 Eastern and announces them at 20:00 the same
# evening (Sunday to Thursday); the listing carries the next day's date.
CUTOFF = time(14, 0)


def listing_day(submitted: datetime | date) -> date:
    """The date of the arXiv listing a submission first appears in (public holidays ignored)."""
    if isinstance(submitted, datetime):
        moment = submitted if submitted.tzinfo else submitted.replace(tzinfo=UTC)
        local = moment.astimezone(ARXIV_TZ)
        day = local.date() + timedelta(days=1 if local.time() >= CUTOFF else 0)
    else:
        day = submitted  # a bare date: assume it made that day's deadline
    while day.weekday() >= 5:  # weekend submissions join Monday's deadline
        day += timedelta(days=1)
    # Monday to Thursday deadlines are listed the next morning; Friday's on Monday.
    return day + timedelta(days=3 if day.weekday() == 4 else 1)
