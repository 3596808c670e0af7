"""Digest fixtures: a recording SMTP server, settings pointed at it, papers and subscribers."""

from __future__ import annotations

from datetime import date

import pytest

from tests.digest.measured import MEASURED
from tests.support import smtp_server

DAY = date(2024, 11, 28)  # a Thursday: the listing day the digest tests send


class _Summary:
    def pytest_terminal_summary(self, terminalreporter):
        if MEASURED:
            terminalreporter.section("digest sending, measured")
            for line in MEASURED:
                terminalreporter.write_line(line)


def pytest_configure(config):
    # A conftest below the root does not get the terminal summary hook; a registered plugin does.
    if not config.pluginmanager.has_plugin("paperroute-digest-summary"):
        config.pluginmanager.register(_Summary(), "paperroute-digest-summary")


@pytest.fixture
def sink():
    with smtp_server() as server:
        yield server


def config(settings, **values):
    """Change PAPERROUTE_* values for one test (pytest-django restores `settings` afterwards)."""
    settings.CONFIG = settings.CONFIG.replace(**values)


@pytest.fixture
def smtp(settings, sink):
    """Django's mail settings, which the digest's messengers read, pointed at the sink."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    config(
        settings,
        from_email="Daily papers <digest@papers.example.org>",
        site_url="https://papers.example.org",
        digest_retry_schedule=(60, 300),
    )
    return sink


def subscriber(
    email: str,
    *,
    status: str = "confirmed",
    frequency: str = "daily",
    topics=(),
    categories=(),
    max_papers: int = 10,
):
    from paperroute.digest.models import Subscriber
    from paperroute.digest.subscriptions import new_token

    return Subscriber.objects.create(
        email=email,
        email_key=email.lower(),
        status=status,
        frequency=frequency,
        topics=list(topics),
        categories=list(categories),
        max_papers=max_papers,
        token=new_token(),
    )


def day_papers(count: int, day: date = DAY, *, prefix: str = "2411.2", votes: bool = True):
    """`count` papers listed on `day`, the first ones with the most Hugging Face upvotes."""
    from tests.community.helpers import add_paper

    return [
        add_paper(
            f"{prefix}{i:04d}",
            f"Paper number {i} about sparse attention",
            listed=day,
            hf_upvotes=(count - i) if votes else None,
            categories=("cs.LG",),
        )
        for i in range(count)
    ]
