"""What every template sees: the site's address and today's date."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone


def absolute(path: str) -> str:
    """An absolute URL on this site (PAPERROUTE_SITE_URL), for mails, feeds and previews."""
    return settings.CONFIG.site_url.rstrip("/") + path


def site(request) -> dict:
    return {"site_url": settings.CONFIG.site_url.rstrip("/"), "today": timezone.localdate()}
