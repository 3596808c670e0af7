"""What every template sees: the site's address and today's date."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone


def absolute(path: str) -> str:
    """An absolute URL on this site (PAPERROUTE_SITE_URL), for mails, feeds and previews."""
    return str(settings.CONFIG["SITE_URL"]).rstrip("/") + path


def site(request) -> dict:
    return {"site_url": str(settings.CONFIG["SITE_URL"]).rstrip("/"), "today": timezone.localdate()}
