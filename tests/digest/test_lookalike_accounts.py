"""An account's digest subscription is the one to its very address, not a look-alike's.

Python's lower() folds the Kelvin sign K (U+212A) to "k", so an account at "Kid@mail.example"
written with it would have read, and on deletion unsubscribed, kid@mail.example's digest."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from paperroute.digest import subscriptions
from paperroute.digest.models import Subscriber
from tests.digest.conftest import subscriber

pytestmark = pytest.mark.django_db

KELVIN = "\u212aid@mail.example"


def _account(email: str, name: str):
    return get_user_model().objects.create_user(username=name, email=email)


def test_a_look_alike_account_neither_sees_nor_ends_anothers_digest():
    victim = subscriber("kid@mail.example")
    look_alike = _account(KELVIN, "kelvin")
    assert subscriptions.for_account(look_alike) is None
    assert subscriptions.sending_to(look_alike) is None
    assert list(subscriptions.of_account(look_alike)) == []
    assert subscriptions.end_for_account(look_alike) == 0
    victim.refresh_from_db()
    assert victim.status == Subscriber.CONFIRMED


def test_the_same_address_in_other_ascii_case_is_still_the_accounts():
    own = subscriber("kid@mail.example")
    owner = _account("Kid@Mail.Example", "kid")
    assert subscriptions.for_account(owner) == own
    assert list(subscriptions.of_account(owner)) == [own]
    assert subscriptions.end_for_account(owner) == 1
    own.refresh_from_db()
    assert own.status == Subscriber.UNSUBSCRIBED
