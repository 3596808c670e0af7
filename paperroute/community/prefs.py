"""A signed-in reader's remembered listing choices."""

from __future__ import annotations

import re

from paperroute.community import ratelimit
from paperroute.community.errors import InvalidInput
from paperroute.community.models import ListingPrefs

CATEGORY = re.compile(r"^[A-Za-z][A-Za-z0-9.\-]{0,63}$")
MAX_CATEGORIES = 20


def clean_categories(codes: list[str]) -> list[str]:
    """The well-formed category or archive codes among `codes`, each once, in order."""
    return list(dict.fromkeys(c.strip() for c in codes if CATEGORY.match(c.strip())))[:MAX_CATEGORIES]


def categories_of(user) -> list[str] | None:
    """The categories a reader chose to see, or None when they have not chosen."""
    if not user.is_authenticated:
        return None
    prefs = ListingPrefs.objects.filter(user=user).first()
    return list(prefs.categories) if prefs and prefs.categories else None


def remember_categories(user, codes: list[str]) -> list[str]:
    """Remember the categories a reader wants listings to open with; [] forgets them."""
    ratelimit.check("prefs", str(user.pk), "60/hour")
    wanted = clean_categories(codes)
    if len(wanted) != len([c for c in codes if c.strip()]):
        raise InvalidInput("use category codes such as cs.CL, or archives such as cs", "categories")
    ListingPrefs.objects.update_or_create(user=user, defaults={"categories": wanted})
    return wanted
