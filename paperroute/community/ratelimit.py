"""Per-user and per-address rate limits, counted in the database so every process sees them."""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from paperroute.community.errors import RateLimited
from paperroute.community.models import RateWindow
from paperroute.conf import parse_rate

# What each limited action is called in messages.
ACTIONS = {
    "signin-ip": "sign-in requests",
    "vote": "votes",
    "comment": "comments",
    "submit": "submissions",
    "prefs": "changes of preferences",
    "library": "changes to your library",
    "import": "imports",
    "reactions": "reactions",
    "mcp": "MCP tool calls",
    "rename": "changes of name",
    "tokens": "new API tokens",
    "revokes": "revoked API tokens",
}


# What the table holds of an ident. A mail address may have 254 characters: a longer ident is
# kept by its digest, which PostgreSQL would otherwise refuse (SQLite keeps anything).
IDENT_LENGTH = RateWindow._meta.get_field("ident").max_length or 200


def _stored(ident: str) -> str:
    """The ident as the table keeps it."""
    if len(ident) <= IDENT_LENGTH:
        return ident
    return "sha256:" + hashlib.sha256(ident.encode()).hexdigest()


def check(scope: str, ident: str, rate: str, *, now: float | None = None) -> None:
    """Count one action; raise RateLimited when the window's allowance is used up."""
    limit, period = parse_rate(rate)
    now = time.time() if now is None else now
    start = int(now // period) * period
    retry_after = max(1, int(start + period - now))
    if limit == 0:
        raise RateLimited(f"{ACTIONS.get(scope, scope)} are switched off here", retry_after)
    if _count(scope, ident, period, start) > limit:
        raise RateLimited(
            f"too many {ACTIONS.get(scope, scope)}: at most {limit} per {_period_name(period)}; "
            f"try again in {_duration(retry_after)}",
            retry_after,
        )


def refund(scope: str, ident: str, rate: str, *, now: float | None = None) -> None:
    """Take back one action counted by check() in the current window."""
    _, period = parse_rate(rate)
    now, ident = (time.time() if now is None else now), _stored(ident)
    RateWindow.objects.filter(
        scope=scope, ident=ident, period=period, window_start=int(now // period) * period, count__gt=0
    ).update(count=F("count") - 1)


# A spacing claim keeps the time of the last action in `count`, in seconds after this moment
# (2020-09-13), which a 32-bit column holds until the 2080s.
SPACING_BASE = 1_600_000_000


def space(scope: str, ident: str, seconds: int, *, now: float | None = None) -> int:
    """Claim the one action `ident` may take every `seconds`: the claim (for unspace), or 0 when
    the last one was less than `seconds` ago.

    Unlike allow(), which counts in fixed windows (two actions two seconds apart could fall on
    either side of a window's end), this keeps when the last action was: the next is allowed
    `seconds` after it, whenever that is. Two requests at once: one claims, the other is refused.
    """
    now = time.time() if now is None else now
    at = max(1, int(now) - SPACING_BASE)
    ident = _stored(ident)
    claim = RateWindow.objects.filter(scope=scope, ident=ident, period=seconds, window_start=0)
    if claim.filter(count__lte=at - seconds).update(count=at):
        return at
    try:
        with transaction.atomic():
            RateWindow.objects.create(scope=scope, ident=ident, period=seconds, window_start=0, count=at)
    except IntegrityError:  # claimed lately, or by a request at the same moment
        return 0
    return at


def unspace(scope: str, ident: str, seconds: int, claim: int) -> None:
    """Give back a claim space() made: the action did not happen after all. Only that claim: a
    later request's, made while this one failed slowly, stands."""
    ident = _stored(ident)
    RateWindow.objects.filter(scope=scope, ident=ident, period=seconds, window_start=0, count=claim).delete()


def allow(scope: str, ident: str, limit: int, period: int, *, now: float | None = None) -> bool:
    """Count one action in windows of `period` seconds; whether it is within the allowance."""
    now = time.time() if now is None else now
    return _count(scope, ident, period, int(now // period) * period) <= limit


def _count(scope: str, ident: str, period: int, start: int) -> int:
    """Add one to the window of `period` seconds that starts at `start`; its new count.

    Windows are told apart by their length too: an hour's and a day's both start at midnight,
    and a rate changed from 10/day to 1/hour must not count the day's actions in the hour.
    """
    ident = _stored(ident)
    window = RateWindow.objects.filter(scope=scope, ident=ident, period=period, window_start=start)
    with transaction.atomic():
        updated = window.update(count=F("count") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    RateWindow.objects.create(
                        scope=scope, ident=ident, period=period, window_start=start, count=1
                    )
            except IntegrityError:  # another request created the window first
                window.update(count=F("count") + 1)
        count = window.get().count
    if count == 1:
        # Old windows are useless; dropping them on each new one keeps the table small.
        RateWindow.objects.filter(scope=scope, ident=ident, window_start__lt=start).delete()
    return count


def setting(name: str) -> str:
    """The configured rate for an action (PAPERROUTE_RATE_*)."""
    rate = getattr(settings.CONFIG, name.lower())
    assert isinstance(rate, str), name
    return rate


def _period_name(seconds: int) -> str:
    return {1: "second", 60: "minute", 3600: "hour", 86400: "day"}[seconds]


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    if seconds < 7200:
        return f"{seconds // 60} minutes"
    return f"{seconds // 3600} hours"
