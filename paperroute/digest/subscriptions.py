"""Subscribing with double opt-in, preferences, pausing, unsubscribing and suppression."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from paperroute.catalog.taxonomy import NAMES as CATEGORY_NAMES
from paperroute.community import ratelimit
from paperroute.community.accounts import account_for, at_address, normalize_email, same_address
from paperroute.community.errors import InvalidInput, RateLimited
from paperroute.digest.errors import DigestError, InvalidSubscription, LinkInvalid, TooManyRequests
from paperroute.digest.models import Bounce, ConfirmationMail, Subscriber
from paperroute.digest.smtp import PermanentFailure

SALT = "paperroute.digest.confirm"
# At most one confirmation mail per address per day, so that the form cannot flood an inbox.
CONFIRMATION_INTERVAL = timedelta(hours=24)
MAX_TOPICS = 10
MAX_TOPIC_LENGTH = 120
PAPER_CHOICES = (5, 10, 15, 20, 30)
ARCHIVES = {code.split(".")[0] for code in CATEGORY_NAMES}


def _address(text: str) -> tuple[str, str]:
    try:
        email = normalize_email(text)
    except InvalidInput as exc:
        raise InvalidSubscription(str(exc), "email") from None
    return email, email.lower()


def subscribe(email_text: str, ip: str, *, mail: Callable[[Subscriber, str, str], None], user=None) -> str:
    """Start a subscription, or remind a subscriber of their preferences; returns the address.

    `mail(subscriber, kind, confirm_token)` sends the confirmation ("confirm") or reminder
    ("manage") mail. The outcome looks the same to the caller whatever the address's state,
    so the form does not tell strangers who is subscribed.
    """
    email, key = _address(email_text)
    try:
        ratelimit.check("subscribe-ip", ip or "unknown", settings.CONFIG.rate_subscribe)
    except RateLimited as exc:
        minutes = max(1, round(exc.retry_after / 60))
        raise TooManyRequests(
            f"too many subscription requests from your network; try again in "
            f"{minutes} minute{'s' if minutes != 1 else ''}",
            exc.retry_after,
        ) from None
    subscriber = _get_or_create(email, key, ip)
    if subscriber.status == Subscriber.SUPPRESSED:
        return email  # mail to it bounced for good; an operator lifts that in the admin
    kind = "manage" if subscriber.status in (Subscriber.CONFIRMED, Subscriber.PAUSED) else "confirm"
    now = timezone.now()
    nonce = secrets.token_urlsafe(12) if kind == "confirm" else subscriber.confirm_nonce
    previous = subscriber.confirmation_sent_at
    # The conditional update is the 24-hour rule: of two racing requests only one gets a row.
    claimed = (
        Subscriber.objects.filter(pk=subscriber.pk)
        .filter(Q(confirmation_sent_at=None) | Q(confirmation_sent_at__lte=now - CONFIRMATION_INTERVAL))
        .update(confirmation_sent_at=now, confirm_nonce=nonce)
    )
    if not claimed:
        return email
    subscriber.confirm_nonce, subscriber.confirmation_sent_at = nonce, now
    if user is not None and user.is_authenticated and subscriber.user_id is None:
        _link_account(subscriber, user)
    token = confirmation_token(subscriber, nonce)
    try:
        mail(subscriber, kind, token)
    except Exception as exc:
        # Nothing went out, so the day's one mail is not used up.
        Subscriber.objects.filter(pk=subscriber.pk).update(confirmation_sent_at=previous)
        if isinstance(exc, PermanentFailure):  # "try again in a few minutes" would never work
            raise InvalidSubscription(
                f"the mail server refused this address: {exc}; check it for typos", "email"
            ) from exc
        raise DigestError(
            "the confirmation mail could not be sent just now; please try again in a few minutes"
        ) from exc
    ConfirmationMail.objects.create(subscriber=subscriber, kind=kind, ip=ip or None, sent_at=now)
    return email


def _get_or_create(email: str, key: str, ip: str) -> Subscriber:
    subscriber = Subscriber.objects.filter(email_key=key).first()
    if subscriber:
        return subscriber
    try:
        with transaction.atomic():
            return Subscriber.objects.create(
                email=email, email_key=key, token=new_token(), signup_ip=ip or None, status=Subscriber.PENDING
            )
    except IntegrityError:  # the same address submitted twice at once
        return Subscriber.objects.get(email_key=key)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def confirmation_token(subscriber: Subscriber, nonce: str) -> str:
    """The signed, expiring secret of a confirmation link. Signed is not encrypted (anyone can
    read the payload), so it names the subscriber by their random key, not the row's id."""
    return signing.dumps({"k": subscriber.confirm_key, "n": nonce}, salt=SALT, compress=True)


def confirm(token: str) -> Subscriber:
    """Confirm the subscription a confirmation link names; confirming twice is harmless."""
    hours = settings.CONFIG.digest_confirm_hours
    try:
        data = signing.loads(token, salt=SALT, max_age=hours * 3600)
        named, nonce = _named_by(data), str(data["n"])
    except signing.SignatureExpired:
        raise LinkInvalid(
            f"this confirmation link has expired (links work for {hours} hours); "
            "subscribe again to get a new one"
        ) from None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise LinkInvalid("this confirmation link is not valid; subscribe again to get a new one") from None
    subscriber = Subscriber.objects.filter(**named).first()
    if subscriber is None:
        raise LinkInvalid("this subscription no longer exists; subscribe again")
    if subscriber.status in (Subscriber.CONFIRMED, Subscriber.PAUSED):
        return subscriber
    if subscriber.status == Subscriber.SUPPRESSED:
        raise LinkInvalid(
            "mail to this address bounced, so it gets no digests; ask the site's "
            "operator to lift the suppression"
        )
    if nonce != subscriber.confirm_nonce:
        raise LinkInvalid("a newer confirmation mail was sent; use the link in that one")
    now = timezone.now()
    Subscriber.objects.filter(pk=subscriber.pk).update(
        status=Subscriber.CONFIRMED, confirmed_at=now, status_changed_at=now, permanent_failures=0
    )
    subscriber.refresh_from_db()
    if subscriber.user_id is None:
        owner = account_for(subscriber.email)
        if owner is not None:
            _link_account(subscriber, owner)
    return subscriber


def _named_by(data: dict) -> dict:
    """The lookup for the subscriber a confirmation link's payload names.

    Links mailed before confirm_key named the row's id ("s"). They are still accepted, because
    some may still be in inboxes; like every confirmation link they expire after
    PAPERROUTE_DIGEST_CONFIRM_HOURS, so this form can go once that long has passed after every
    host upgraded. Only the key form is issued."""
    if "k" in data:
        return {"confirm_key": str(data["k"])}
    return {"pk": int(data["s"])}


def _link_account(subscriber: Subscriber, user) -> None:
    """Link an account whose email is the subscriber's (sign-in links proved it is theirs)."""
    if not same_address(user.email or "", subscriber.email):
        return
    if Subscriber.objects.filter(user=user).exclude(pk=subscriber.pk).exists():
        return
    Subscriber.objects.filter(pk=subscriber.pk).update(user=user)
    subscriber.user = user


def for_account(user) -> Subscriber | None:
    """The subscription linked to an account, or the one under the account's address."""
    if not user.is_authenticated:
        return None
    linked = Subscriber.objects.filter(user=user).first()
    if linked or not user.email:
        return linked
    found = Subscriber.objects.filter(
        email_key=user.email.lower(), status__in=(Subscriber.CONFIRMED, Subscriber.PAUSED)
    )
    mine = at_address(found, user.email)
    return mine[0] if mine else None


def sending_to(user) -> Subscriber | None:
    """The account's subscription while its digest goes out (or is paused), else None."""
    found = for_account(user)
    return found if found is not None and found.status in (Subscriber.CONFIRMED, Subscriber.PAUSED) else None


def by_token(token: str) -> Subscriber:
    subscriber = Subscriber.objects.filter(token=token).first() if token else None
    if subscriber is None:
        raise LinkInvalid("this subscription link is not valid; it may be from an old address")
    return subscriber


def parse_categories(values: list[str]) -> list[str]:
    """arXiv categories (cs.CL) or archives (cs), checked against arXiv's taxonomy."""
    chosen: list[str] = []
    for raw in values:
        for part in raw.replace(";", ",").replace(" ", ",").split(","):
            part = part.strip()
            if not part:
                continue
            code = next((c for c in CATEGORY_NAMES if c.lower() == part.lower()), None)
            code = code or next((a for a in ARCHIVES if a.lower() == part.lower()), None)
            if code is None:
                raise InvalidSubscription(
                    f"{part!r} is not an arXiv category; use codes such as "
                    "cs.CL or whole archives such as cs",
                    "categories",
                )
            if code not in chosen:
                chosen.append(code)
    return chosen


def parse_topics(text: str) -> list[str]:
    """One followed topic per line, such as "speculative decoding"."""
    topics: list[str] = []
    for line in (text or "").splitlines():
        topic = " ".join(line.split())
        if not topic or topic.lower() in (t.lower() for t in topics):
            continue
        if len(topic) > MAX_TOPIC_LENGTH:
            raise InvalidSubscription(f"keep each topic under {MAX_TOPIC_LENGTH} characters", "topics")
        topics.append(topic)
    if len(topics) > MAX_TOPICS:
        raise InvalidSubscription(f"follow at most {MAX_TOPICS} topics", "topics")
    return topics


def update_preferences(
    subscriber: Subscriber, *, frequency: str, max_papers: str | int, categories: list[str], topics: str
) -> Subscriber:
    """Save the preferences form; InvalidSubscription names the field at fault."""
    if frequency not in (Subscriber.DAILY, Subscriber.WEEKLY):
        raise InvalidSubscription("choose daily or weekly", "frequency")
    try:
        count = int(max_papers)
    except (TypeError, ValueError):
        count = 0
    if count not in PAPER_CHOICES:
        raise InvalidSubscription("choose how many papers from the list", "max_papers")
    subscriber.frequency = frequency
    subscriber.max_papers = count
    subscriber.categories = parse_categories(categories)
    subscriber.topics = parse_topics(topics)
    subscriber.save(update_fields=["frequency", "max_papers", "categories", "topics"])
    return subscriber


def set_status(subscriber: Subscriber, status: str) -> Subscriber:
    """Pause, resume or unsubscribe; only an active subscription can be paused or resumed."""
    allowed = {
        Subscriber.PAUSED: (Subscriber.CONFIRMED,),
        Subscriber.CONFIRMED: (Subscriber.PAUSED,),
        # Whatever it was: a suppressed address that unsubscribes stays unsubscribed when the
        # suppression is lifted.
        Subscriber.UNSUBSCRIBED: (
            Subscriber.PENDING,
            Subscriber.CONFIRMED,
            Subscriber.PAUSED,
            Subscriber.UNSUBSCRIBED,
            Subscriber.SUPPRESSED,
        ),
    }[status]
    now = timezone.now()
    Subscriber.objects.filter(pk=subscriber.pk, status__in=allowed).update(
        status=status, status_changed_at=now
    )
    subscriber.refresh_from_db()
    return subscriber


def unsubscribe(subscriber: Subscriber) -> Subscriber:
    return set_status(subscriber, Subscriber.UNSUBSCRIBED)


def resubscribe(subscriber: Subscriber) -> Subscriber:
    """Turn the digest back on for a subscriber who unsubscribed, from their secret link.

    The link came in a mail to the address, as a confirmation link does, so no new
    confirmation mail is needed (the form's one-a-day limit would hold it back for a day after
    the last one). Only an address that was confirmed once; a suppressed one stays suppressed.
    """
    if subscriber.confirmed_at is None:
        raise LinkInvalid(
            "this subscription was never confirmed; subscribe again from the form to get a confirmation mail"
        )
    now = timezone.now()
    Subscriber.objects.filter(pk=subscriber.pk, status=Subscriber.UNSUBSCRIBED).update(
        status=Subscriber.CONFIRMED, status_changed_at=now, permanent_failures=0
    )
    subscriber.refresh_from_db()
    return subscriber


def of_account(user, *, live: bool = False):
    """The digest subscriptions of an account: the one made while signed in, and any to its
    address; with `live`, only those not unsubscribed."""
    match = Q(user=user)
    if user.email:
        # The key is Python's lower(), which folds more than ASCII (the Kelvin sign K to k):
        # of those, only the subscriptions to this very address.
        keyed = Subscriber.objects.filter(email_key=user.email.lower()).only("pk", "email")
        match |= Q(pk__in=[s.pk for s in at_address(keyed, user.email)])
    found = Subscriber.objects.filter(match).order_by("id")
    return found.exclude(status=Subscriber.UNSUBSCRIBED) if live else found


def end_for_account(user) -> int:
    """Unsubscribe the digests of an account that is being deleted (of_account). The address
    stays, unsubscribed, so that nothing is sent to it. Returns how many were not already."""
    found = list(of_account(user, live=True))
    for subscriber in found:
        unsubscribe(subscriber)
    return len(found)


def record_permanent_failure(email_key: str, kind: str, detail: str) -> Subscriber | None:
    """Count a 5xx reply or hard bounce; the threshold suppresses the address."""
    subscriber = Subscriber.objects.filter(email_key=email_key.lower()).first()
    Bounce.objects.create(email_key=email_key.lower(), subscriber=subscriber, kind=kind, detail=detail[:2000])
    if subscriber is None:
        return None
    threshold = max(1, settings.CONFIG.digest_suppress_after)
    now = timezone.now()
    with transaction.atomic():
        Subscriber.objects.filter(pk=subscriber.pk).update(
            permanent_failures=F("permanent_failures") + 1, last_failure=detail[:2000]
        )
        # Complaints suppress at once: the person said the mail is unwanted.
        Subscriber.objects.filter(pk=subscriber.pk).filter(
            Q(permanent_failures__gte=threshold) | Q(pk=subscriber.pk if kind == Bounce.COMPLAINT else -1)
        ).exclude(status__in=(Subscriber.UNSUBSCRIBED, Subscriber.SUPPRESSED)).update(
            status=Subscriber.SUPPRESSED, suppressed_from=F("status"), status_changed_at=now
        )
    subscriber.refresh_from_db()
    return subscriber


def record_delivery(subscriber_id: int) -> None:
    """A delivery ends a run of permanent failures."""
    Subscriber.objects.filter(pk=subscriber_id, permanent_failures__gt=0).update(permanent_failures=0)


def lift_suppression(subscriber: Subscriber) -> None:
    """Let mail go to a suppressed address again (an operator's decision, from the admin), with
    the status it had before: a paused subscription stays paused."""
    before = subscriber.suppressed_from
    if before not in (Subscriber.PENDING, Subscriber.CONFIRMED, Subscriber.PAUSED):
        # Suppressed before the status was kept (digest 0002): it may have been paused, and a
        # paused reader must not start getting mail again. Paused, they resume from their page.
        before = Subscriber.PAUSED if subscriber.confirmed_at else Subscriber.PENDING
    Subscriber.objects.filter(pk=subscriber.pk, status=Subscriber.SUPPRESSED).update(
        status=before, suppressed_from="", permanent_failures=0, status_changed_at=timezone.now()
    )
