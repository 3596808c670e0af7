from contextlib import contextmanager

import pytest

from tests.support import smtp_server


@contextmanager
def point_mail_at(settings):
    """Start a real SMTP server and send Django's mail to it."""
    with smtp_server() as box:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = box.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        yield box


@pytest.fixture
def mailbox(settings):
    """A real SMTP server, with Django's mail pointed at it."""
    with point_mail_at(settings) as box:
        yield box
