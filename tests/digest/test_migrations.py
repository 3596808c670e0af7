"""Digest migrations, run on rows as an older paperroute stored them."""

import pytest

from paperroute.digest.models import Subscriber
from tests.community.helpers import user
from tests.community.test_migrations import _latest_schema_after, _migrate  # noqa: F401 (a fixture)


@pytest.mark.django_db(transaction=True)
def test_subscribers_from_before_confirm_keys_each_get_a_key_of_their_own():
    """Confirmation links name a random key, not the row's id; the subscribers already there are
    given one each by the migration (a column default would give them all the same)."""
    ada = user("ada")
    then = _migrate(("digest", "0003_frequency_label")).get_model("digest", "Subscriber").objects
    for name in ("ada", "bob", "cy"):
        then.create(
            email=f"{name}@example.org",
            email_key=f"{name}@example.org",
            token=f"token-{name}",
            user_id=ada.pk if name == "ada" else None,
        )
    _migrate(("digest", "0004_subscriber_confirm_key"))
    keys = list(Subscriber.objects.values_list("confirm_key", flat=True))
    assert len(set(keys)) == 3 and all(len(key) >= 24 for key in keys)
    newer = Subscriber.objects.create(email="dee@example.org", email_key="dee@example.org", token="token-dee")
    assert newer.confirm_key not in keys and len(newer.confirm_key) >= 24
