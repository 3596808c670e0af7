"""Accounts without passwords: a signed, expiring, single-use link sent by email."""

from __future__ import annotations

import logging
import re
import secrets
import string
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from paperroute import mail
from paperroute.community import ratelimit, stamp
from paperroute.community.errors import InvalidInput, MailNotSent, NotAllowed, SignInLinkInvalid
from paperroute.community.models import Comment, SignInLink

log = logging.getLogger(__name__)

SALT = "paperroute.community.signin"
MAX_EMAIL = 254


def normalize_email(text: str) -> str:
    """The address as stored, or InvalidInput saying why it cannot be used."""
    email = (text or "").strip()
    if len(email) > MAX_EMAIL:
        # Django's validator takes up to 320; the address columns hold 254 (RFC 5321's limit on
        # a path), and PostgreSQL refused a longer one with a 500.
        raise InvalidInput(f"an email address can be at most {MAX_EMAIL} characters", "email")
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput("enter an email address such as ada@example.org", "email") from None
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def send_link(email_text: str, ip: str, link_for: Callable[[str], str], *, now: float | None = None) -> str:
    """Email a sign-in link to the address, unless it got one lately; returns the address.

    Anyone may ask for anyone's link, so asking must never cost the owner their way in. An
    address gets at most one mail per SIGNIN_MAIL_MINUTES (at most 10, less than a link's
    lifetime): whoever asks within that time is answered the same, and the link already in the
    owner's inbox still works. So however many requests strangers make, the owner always has
    a working link at most 10 minutes away, and the inbox gets at most 6 mails an hour. Only the
    client's own requests are limited (RATE_SIGNIN), which a stranger's cannot use up.
    """
    email = normalize_email(email_text)
    ratelimit.check("signin-ip", ip or "unknown", ratelimit.setting("RATE_SIGNIN"), now=now)
    every = settings.CONFIG.signin_mail_minutes * 60
    claim = ratelimit.space("signin-mail", email.lower(), every, now=now)
    if not claim:
        return email
    nonce = secrets.token_urlsafe(24)
    link = SignInLink.objects.create(nonce=nonce, email=email)
    token = signing.dumps({"n": nonce}, salt=SALT, compress=True)
    minutes = settings.CONFIG.signin_link_minutes
    context = {"link": link_for(token), "minutes": minutes, "email": email}
    try:
        mail.send(
            email,
            "Your paperroute sign-in link",
            render_to_string("email/signin.txt", context),
            render_to_string("email/signin.html", context),
        )
    except Exception as exc:
        # Nothing went out: the address's one mail is not used up, or its owner would be locked
        # out until the time is up. (Requests made while this one waited for the relay were
        # refused and sent nothing.)
        link.delete()
        ratelimit.unspace("signin-mail", email.lower(), every, claim)
        refused = mail.refused_address(exc)
        if refused:  # a mistyped address: "try again in a few minutes" would never work
            raise InvalidInput(
                f"the mail server refused this address: {refused}; check it for typos", "email"
            ) from exc
        log.exception("the sign-in mail to %s could not be sent", email)
        raise MailNotSent(
            "the sign-in email could not be sent just now; please try again in a few minutes"
        ) from exc
    return email


def check_link(token: str) -> str:
    """The address a link signs in, without using it up; SignInLinkInvalid if it cannot be used."""
    return _lookup(token).email


def redeem(token: str):
    """Use up a sign-in link and return its user, created on first sign-in."""
    link = _lookup(token)
    # The conditional update is what makes a link single-use, even when two tabs race.
    used = SignInLink.objects.filter(pk=link.pk, used_at=None).update(used_at=timezone.now())
    if not used:
        raise SignInLinkInvalid("this sign-in link has already been used; ask for a new one")
    return user_for(link.email)


# Only ASCII letters' case is ignored in an address: PostgreSQL's UPPER() also folds 'ı' to 'I'
# and 'ſ' to 'S' (and Python's lower() 'K', the Kelvin sign, to 'k'), which would make
# "sid@maıl.example", a domain anyone may register, the same address as "sid@mail.example".
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def same_address(one: str, other: str) -> bool:
    """Whether two addresses are the same one, ignoring the case of ASCII letters only."""
    return one.translate(_ASCII_LOWER) == other.translate(_ASCII_LOWER)


def at_address(rows: Iterable[Any], email: str) -> list[Any]:
    """Of rows narrowed down by address (email__iexact, or a key made with Python's lower()),
    those whose `email` is this very address: both narrowings also match look-alikes."""
    return [row for row in rows if same_address(row.email, email)]


def account_for(email: str):
    """The account whose address is this one, ignoring ASCII letters' case only; or None."""
    found = at_address(get_user_model().objects.filter(email__iexact=email).order_by("pk"), email)
    return found[0] if found else None


def user_for(email: str):
    """The account for an address, created with a public handle on first use."""
    users = get_user_model()
    user = account_for(email)
    if user:
        return user
    base = re.sub(r"[^A-Za-z0-9_.-]", "", email.split("@")[0])[:24] or "reader"
    for attempt in range(20):
        handle = base if attempt == 0 else f"{base}{secrets.randbelow(10_000)}"
        try:
            with transaction.atomic():
                user = users.objects.create(username=handle, email=email)
                user.set_unusable_password()
                user.save(update_fields=["password"])
                return user
        except IntegrityError:
            existing = account_for(email)
            if existing:
                return existing
    raise InvalidInput("could not pick a user name for this address; try again", "email")


RENAMES = "20/day"


RENAME_LOCK = 0x72656E616D65  # PostgreSQL advisory lock: one rename at a time


def rename(user, handle: str) -> None:
    """Change the public name shown beside votes, comments and submissions.

    A few tries a day: a name given up is free for anyone at once, so renaming in a loop would
    let one reader pass names around or hold many in turn."""
    handle = (handle or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9_.-]{2,30}", handle):
        raise InvalidInput("use 2 to 30 letters, digits, dots, dashes or underscores", "username")
    users = get_user_model()
    taken = InvalidInput(f"the name {handle!r} is taken", "username")
    with transaction.atomic():
        # Renames take turns, so that the check below holds until the name is saved: two readers
        # taking "ada" and "Ada" at once both got them, and two taking "grace" got a 500.
        # (SQLite's IMMEDIATE transactions already take turns.)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RENAME_LOCK])
        if users.objects.filter(username__iexact=handle).exclude(pk=user.pk).exists():
            raise taken
        if handle == user.username:
            return
        # Only changes count: a mistyped or taken name is not a rename.
        ratelimit.check("rename", str(user.pk), RENAMES)
        before, user.username = user.username, handle
        try:
            with transaction.atomic():
                user.save(update_fields=["username"])
        except IntegrityError:  # an account made meanwhile (a sign-up does not take turns)
            user.username = before
            raise taken from None
        # Pages cached for anonymous readers show the name beside the reader's comments; the
        # old one may be someone else's the moment it is given up.
        stamp.bump()


def _lookup(token: str) -> SignInLink:
    max_age = settings.CONFIG.signin_link_minutes * 60
    try:
        nonce = signing.loads(token, salt=SALT, max_age=max_age)["n"]
    except signing.SignatureExpired:
        raise SignInLinkInvalid(
            f"this sign-in link has expired (links work for {max_age // 60} minutes); ask for a new one"
        ) from None
    except (signing.BadSignature, KeyError, TypeError):
        raise SignInLinkInvalid("this sign-in link is not valid; ask for a new one") from None
    link = SignInLink.objects.filter(nonce=nonce).first()
    if link is None:
        raise SignInLinkInvalid("this sign-in link is not valid; ask for a new one")
    if link.used_at:
        raise SignInLinkInvalid("this sign-in link has already been used; ask for a new one")
    return link


def make_superuser(email_text: str):
    """Give the account for an address (created if new) full moderator and admin rights."""
    user = user_for(normalize_email(email_text))
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    return user


DELETIONS = "10/hour"


def check_deletion(user, confirm: str) -> None:
    """Whether a reader may delete their account now, having typed its name (`confirm`):
    InvalidInput, NotAllowed or RateLimited if not.

    An administrator's account is deleted by another administrator, in the admin: here, the only
    one of a site could lock its host out of the admin with one click."""
    ratelimit.check("account-delete", str(user.pk), DELETIONS)
    if user.is_superuser:
        raise NotAllowed("an administrator's account is deleted by another administrator, in the admin")
    if (confirm or "").strip() != user.username:
        raise InvalidInput(f"that is not your name: type {user.username} exactly", "confirm")


def replies_by_others(user) -> int:
    """How many replies by other readers are under this reader's top-level comments: they stay,
    under placeholders, when the account is deleted."""
    return Comment.objects.filter(parent__author=user).exclude(author=user).count()


def delete(user) -> None:
    """Delete an account and what is its owner's: votes, comments (a top-level one that others
    replied to stays as a placeholder, as when they delete it), reactions, tokens, preferences,
    author claims, submissions' records (the papers stay in the catalogue) and the library, by
    their foreign keys; and the sign-in links sent to the address. The counts of the papers they
    voted on or commented on follow (deletion.py)."""
    pk = user.pk
    with transaction.atomic():
        # Only the address's own links: email__iexact alone took a look-alike's too on PostgreSQL
        # (see same_address), and deleting an unused one locked its owner out of signing in.
        links = SignInLink.objects.filter(email__iexact=user.email).only("pk", "email")
        SignInLink.objects.filter(pk__in=[link.pk for link in at_address(links, user.email)]).delete()
        user.delete()
        # Cached pages showed their name, and their public collections.
        stamp.bump()
    log.info("account %s deleted by its owner", pk)
