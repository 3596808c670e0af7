"""Date formats the sources use, each parsed strictly so that bad dates are reported."""

from __future__ import annotations

from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime


def iso_datetime(value: str) -> datetime:
    """An ISO 8601 timestamp such as 2026-06-11T17:59:49Z, as an aware datetime in UTC."""
    text = value.strip()
    if not text:
        raise ValueError("empty date")
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"bad date {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso_date(value: str) -> date:
    """A YYYY-MM-DD date (a timestamp's date part is accepted)."""
    text = value.strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"bad date {value!r}") from None


def rfc2822(value: str) -> datetime:
    """An e-mail style date such as "Thu, 28 Nov 2024 00:00:00 -0500"."""
    try:
        moment = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        raise ValueError(f"bad date {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment
