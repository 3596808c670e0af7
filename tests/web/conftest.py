import pytest
from django.core.cache import cache

from tests.community.helpers import user


@pytest.fixture(autouse=True)
def fresh_page_cache():
    """Each test starts with an empty page cache (stamps can repeat across rolled-back tests)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def reader_client(client, db):
    """A test client signed in as 'reader'."""
    account = user("reader")
    client.force_login(account)
    client.user = account
    return client


@pytest.fixture
def mailbox(settings):
    """A real SMTP server, with Django's mail pointed at it."""
    from tests.community.conftest import point_mail_at

    with point_mail_at(settings) as box:
        yield box
