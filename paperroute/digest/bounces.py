"""Bounce and complaint reports from the mail provider (PAPERROUTE_BOUNCE_WEBHOOK).

The webhook takes a JSON object, or a list of them, or {"events": [...]}, each like
{"email": "ada@example.org", "type": "bounce", "permanent": true, "reason": "550 5.1.1 …"}.
`type` is "bounce" (counted like a 5xx reply when `permanent` is true, which is the default;
soft bounces are only logged), "complaint" (suppresses at once) or "unsubscribe" (a mail to the
List-Unsubscribe address; `token` may carry the token from its subject instead of `email`).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from django.conf import settings

from paperroute.community.accounts import normalize_email
from paperroute.community.errors import InvalidInput
from paperroute.digest import subscriptions
from paperroute.digest.errors import DigestError
from paperroute.digest.models import Bounce, Subscriber

MAX_EVENTS = 1000


class BadReport(DigestError):
    """A webhook body that is not a list of bounce events."""


@dataclass
class Outcome:
    suppressed: int = 0
    counted: int = 0
    unsubscribed: int = 0
    ignored: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def enabled() -> bool:
    return bool(settings.CONFIG.bounce_webhook)


def authorized(header: str) -> bool:
    """Whether an Authorization header carries the webhook secret (compared in constant time)."""
    secret = settings.CONFIG.bounce_webhook
    scheme, _, given = (header or "").partition(" ")
    return (
        bool(secret)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(given.strip().encode(), secret.encode())
    )


def events_of(payload) -> list[dict]:
    if isinstance(payload, dict) and isinstance(payload.get("events"), list):
        payload = payload["events"]
    if isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list) or not all(isinstance(e, dict) for e in payload):
        raise BadReport('expected a JSON object, a list of objects, or {"events": [...]}')
    if len(payload) > MAX_EVENTS:
        raise BadReport(f"send at most {MAX_EVENTS} events at once")
    return payload


def apply(payload) -> Outcome:
    """Record every event of a webhook body; a bad event rejects the body before any is applied."""
    checked = []
    for number, event in enumerate(events_of(payload), start=1):
        kind = str(event.get("type", "bounce")).lower()
        if kind not in ("bounce", "complaint", "unsubscribe"):
            raise BadReport(f"event {number}: unknown type {kind!r}; use bounce, complaint or unsubscribe")
        permanent = event.get("permanent", True)
        if not isinstance(permanent, bool):
            # "false" or 0 read as true would count a full mailbox as a dead one.
            raise BadReport(f'event {number}: "permanent" must be true or false, not {permanent!r}')
        checked.append(
            (
                kind,
                permanent,
                str(event.get("reason", "")).replace("\x00", "")[:2000],
                _subscriber(event, number),
            )
        )
    outcome = Outcome()
    for kind, permanent, reason, subscriber in checked:
        if subscriber is None or (kind == "bounce" and not permanent):
            outcome.ignored += 1  # unknown address, or a soft bounce the next digest retries
        elif kind == "unsubscribe":
            subscriptions.unsubscribe(subscriber)
            Bounce.objects.create(
                email_key=subscriber.email_key, subscriber=subscriber, kind=Bounce.UNSUBSCRIBE, detail=reason
            )
            outcome.unsubscribed += 1
        else:
            # As it is now: an event before this one in the body may have suppressed it.
            suppressed = Subscriber.objects.filter(pk=subscriber.pk, status=Subscriber.SUPPRESSED)
            was_suppressed = suppressed.exists()
            after = subscriptions.record_permanent_failure(
                subscriber.email_key,
                Bounce.COMPLAINT if kind == "complaint" else Bounce.BOUNCE,
                reason or kind,
            )
            outcome.counted += 1
            # Only the addresses this event suppressed: one that already was is counted, not again.
            now_suppressed = after is not None and after.status == Subscriber.SUPPRESSED
            outcome.suppressed += now_suppressed and not was_suppressed
    return outcome


def _subscriber(event: dict, number: int) -> Subscriber | None:
    token = str(event.get("token", "")).strip()
    if "\x00" in token:  # no token holds one, and PostgreSQL cannot even compare it
        return None
    if token:
        return Subscriber.objects.filter(token=token.removeprefix("unsubscribe ").strip()).first()
    try:
        email = normalize_email(str(event.get("email", "")))
    except InvalidInput:
        raise BadReport(f'event {number}: "email" is not an email address') from None
    return Subscriber.objects.filter(email_key=email.lower()).first()
