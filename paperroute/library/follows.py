"""What a reader follows (topics, categories, authors), and the secret of their private feed."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from paperroute.catalog.models import Author, Category, Paper
from paperroute.catalog.textclean import author_key, display_name
from paperroute.community import ratelimit
from paperroute.community.errors import InvalidInput
from paperroute.library.models import FeedKey, Follow

MAX_FOLLOWS = {Follow.TOPIC: 20, Follow.CATEGORY: 50, Follow.AUTHOR: 200}
MAX_TOPIC = 120
SHOWN = 60  # characters of what the reader typed that an error message repeats


@dataclass
class Following:
    topics: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    authors: list[Follow] = field(default_factory=list)  # .value is the key, .label the name

    @property
    def empty(self) -> bool:
        return not (self.topics or self.categories or self.authors)


def of(user) -> Following:
    """What one reader follows (nothing for a visitor who is not signed in)."""
    if not user.is_authenticated:
        return Following()
    return of_many([user.pk])[user.pk]


def of_many(user_ids: list[int]) -> dict[int, Following]:
    """What each of many readers follows, in one query."""
    result = {uid: Following() for uid in user_ids}
    for follow in Follow.objects.filter(user_id__in=user_ids):
        following = result[follow.user_id]
        if follow.kind == Follow.TOPIC:
            following.topics.append(follow.value)
        elif follow.kind == Follow.CATEGORY:
            following.categories.append(follow.value)
        else:
            following.authors.append(follow)
    return result


def _shown(value: str) -> str:
    return value if len(value) <= SHOWN else value[: SHOWN - 1] + "…"


def _clean(kind: str, value: str) -> tuple[str, str, Author | None]:
    """(stored value, label, author) for what the reader typed; InvalidInput if it is unknown."""
    value = " ".join((value or "").replace("\x00", "").split())
    if kind == Follow.TOPIC:
        if not value:
            raise InvalidInput("type the words of the topic to follow", "value")
        if len(value) > MAX_TOPIC:
            raise InvalidInput(f"keep a topic under {MAX_TOPIC} characters", "value")
        return value, value, None
    if kind == Follow.CATEGORY:
        code = value.strip()
        known = Category.objects.filter(code__iexact=code).values_list("code", flat=True).first()
        if known is None and Category.objects.filter(code__istartswith=f"{code}.").exists():
            known = code.lower()  # an archive such as "cs"
        if known is None:
            raise InvalidInput(
                f"no category “{_shown(code)}” is known here: type an arXiv category such as cs.CL, "
                "or a whole archive such as cs",
                "value",
            )
        return known, known, None
    if kind == Follow.AUTHOR:
        key = author_key(value)
        author = Author.objects.filter(key=key).first() if key else None
        if author is None:
            # Followed authors are matched by the key of a name in the catalogue (its papers).
            raise InvalidInput(
                f"no paper by “{_shown(value)}” is in the catalogue yet, and an author can be "
                "followed once one of their papers is. Check the spelling of their full name, "
                "or submit one of their papers from arXiv first",
                "value",
            )
        return key, display_name(author.name), author
    raise InvalidInput("follow a topic, a category or an author", "kind")


def follow(user, kind: str, value: str) -> tuple[Follow, bool]:
    """Follow it, and whether it is new (repeating changes nothing; a topic in other capitals
    is the same topic, as unfollow() and the search take it)."""
    ratelimit.check("library", str(user.pk), ratelimit.setting("RATE_LIBRARY"))
    stored, label, author = _clean(kind, value)
    existing = Follow.objects.filter(user=user, kind=kind, value__iexact=stored).first()
    if existing:
        return existing, False
    if Follow.objects.filter(user=user, kind=kind).count() >= MAX_FOLLOWS[kind]:
        raise InvalidInput(
            f"you can follow at most {MAX_FOLLOWS[kind]} {kind}s: unfollow one to follow another", "value"
        )
    try:
        with transaction.atomic():
            return Follow.objects.create(user=user, kind=kind, value=stored, label=label, author=author), True
    except IntegrityError:  # the same follow from a request at the same moment
        return Follow.objects.get(user=user, kind=kind, value=stored), False


def unfollow(user, kind: str, value: str) -> bool:
    ratelimit.check("library", str(user.pk), ratelimit.setting("RATE_LIBRARY"))
    if kind == Follow.AUTHOR:
        value = author_key(value)
    elif kind == Follow.TOPIC:
        value = " ".join((value or "").split())
    removed, _ = Follow.objects.filter(user=user, kind=kind, value__iexact=value).delete()
    return bool(removed)


def follows_author(user, name: str) -> bool:
    return (
        bool(user.is_authenticated)
        and Follow.objects.filter(user=user, kind=Follow.AUTHOR, value=author_key(name)).exists()
    )


def followed_authors_papers(user):
    """Papers by the authors the reader follows (any spelling of their names)."""
    keys = Follow.objects.filter(user=user, kind=Follow.AUTHOR).values_list("value", flat=True)
    return Paper.objects.filter(authors__key__in=list(keys)).distinct()


# -- the private feed ----------------------------------------------------------------------


def feed_secret(user) -> str:
    """The secret of the reader's private feed, made on first use."""
    found = FeedKey.objects.filter(user=user).values_list("secret", flat=True).first()
    if found:
        return found
    try:
        with transaction.atomic():
            return FeedKey.objects.create(user=user, secret=secrets.token_urlsafe(24)).secret
    except IntegrityError:
        return FeedKey.objects.get(user=user).secret


def rotate_feed_secret(user) -> str:
    """A new secret: the old address stops working at once."""
    ratelimit.check("library", str(user.pk), ratelimit.setting("RATE_LIBRARY"))
    secret = secrets.token_urlsafe(24)
    FeedKey.objects.update_or_create(user=user, defaults={"secret": secret})
    return secret


def user_for_feed(secret: str):
    """The reader whose private feed this secret opens, or None."""
    if not secret or len(secret) > 64:
        return None
    key = FeedKey.objects.filter(secret=secret).select_related("user").first()
    return key.user if key and key.user.is_active else None
