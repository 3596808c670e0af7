"""What every template sees: the site's address, the page's own address, today's date, and
whether mail only goes to the console."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone


def absolute(path: str) -> str:
    """An absolute URL on this site (PAPERROUTE_SITE_URL), for mails, feeds and previews."""
    return settings.CONFIG.site_url.rstrip("/") + path


def site(request) -> dict:
    from paperroute.mail import CONSOLE_BACKEND

    return {
        "site_url": settings.CONFIG.site_url.rstrip("/"),
        # Where the page's forms send the reader back to (`next`), and where its page links lead.
        # A page answered at a form's address names the page it shows instead (views.common.shown_at).
        "here": request.get_full_path(),
        "here_path": request.path,
        "today": timezone.localdate(),
        # No PAPERROUTE_SMTP_URL (the demo): a page that says "check your email" says where it went.
        "mail_to_console": settings.EMAIL_BACKEND == CONSOLE_BACKEND,
    }
