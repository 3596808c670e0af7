"""What the library's tests share: the test catalogue, and a reader."""

import pytest

from tests.community.helpers import user
from tests.library.test_imports import catalogue


@pytest.fixture
def papers(db):
    return catalogue()


@pytest.fixture
def reader(db):
    return user("reader")
