"""The site stamp: one number that changes whenever something shown on a page changes."""

from __future__ import annotations

from django.db import connection
from django.db.models import F

from paperroute.catalog.models import Paper
from paperroute.community.models import SiteStamp

NAME = "pages"


def bump() -> None:
    """Record that a vote, comment, submission or ingest changed what pages show."""
    if not SiteStamp.objects.filter(name=NAME).update(value=F("value") + 1):
        # The first bump of a site. Two at once both counted 1 (get_or_create), and a page cached
        # between them stayed: insert the row if it is missing, then count, whoever inserted it.
        SiteStamp.objects.bulk_create([SiteStamp(name=NAME, value=0)], ignore_conflicts=True)
        SiteStamp.objects.filter(name=NAME).update(value=F("value") + 1)


def current() -> str:
    """The community counter and the catalogue's last change, read in one cheap query."""
    # Both halves are index lookups, so the check costs the same with 10 or 10 million papers.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT value FROM {SiteStamp._meta.db_table} WHERE name = %s), "
            f"(SELECT MAX(changed_at) FROM {Paper._meta.db_table})",
            [NAME],
        )
        value, changed = cursor.fetchone()
    return f"{value or 0}:{changed}"
