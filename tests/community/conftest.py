import pytest

from tests.community.smtp import smtp_server


@pytest.fixture
def mailbox(settings):
    """A real SMTP server, with Django's mail pointed at it."""
    with smtp_server() as box:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = box.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        yield box
