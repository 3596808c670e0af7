"""Rate limits are counted in the database, per action and per user or address."""

import pytest

from paperroute.community import ratelimit
from paperroute.community.errors import RateLimited


@pytest.mark.django_db
def test_the_limit_stops_the_next_action_and_says_when_to_retry():
    for _ in range(3):
        ratelimit.check("comment", "7", "3/hour", now=7200 + 600)
    with pytest.raises(RateLimited) as caught:
        ratelimit.check("comment", "7", "3/hour", now=7200 + 600)
    assert caught.value.retry_after == 3000
    assert "at most 3 per hour" in str(caught.value)
    # Someone else, another action, and the next window are all unaffected.
    ratelimit.check("comment", "8", "3/hour", now=7200 + 600)
    ratelimit.check("vote", "7", "3/hour", now=7200 + 600)
    ratelimit.check("comment", "7", "3/hour", now=10800 + 1)


@pytest.mark.django_db
def test_a_zero_rate_switches_the_action_off():
    with pytest.raises(RateLimited, match="switched off"):
        ratelimit.check("submit", "1", "0/day")


@pytest.mark.django_db
def test_a_rate_changed_to_an_hour_does_not_count_the_days_actions():
    # An hour's window and a day's both start at midnight (the test that first met this ran
    # between 00:00 and 01:00 UTC).
    midnight = 86400 * 20_000
    for _ in range(3):
        ratelimit.check("submit", "1", "10/day", now=midnight + 600)
    ratelimit.check("submit", "1", "1/hour", now=midnight + 1200)  # the hour's first
    with pytest.raises(RateLimited, match="at most 1 per hour"):
        ratelimit.check("submit", "1", "1/hour", now=midnight + 1300)


@pytest.mark.django_db
def test_giving_back_a_spacing_claim_leaves_a_later_one_standing():
    """A sign-in mail that failed slowly gave back the address's claim after another request
    had claimed and mailed: a third request then mailed a second link a second later."""
    start = 1_800_000_000
    first = ratelimit.space("signin-mail", "ada@example.org", 60, now=start)
    assert first and not ratelimit.space("signin-mail", "ada@example.org", 60, now=start + 30)
    later = ratelimit.space("signin-mail", "ada@example.org", 60, now=start + 61)  # the first still waits
    assert later
    ratelimit.unspace("signin-mail", "ada@example.org", 60, first)  # the first one failed
    assert not ratelimit.space("signin-mail", "ada@example.org", 60, now=start + 62)
    ratelimit.unspace("signin-mail", "ada@example.org", 60, later)
    assert ratelimit.space("signin-mail", "ada@example.org", 60, now=start + 63)


@pytest.mark.django_db
def test_a_long_mail_address_gets_its_sign_in_link(client, mailbox):
    """An address may be 254 characters long (RFC 5321); the limits' table holds 200 of one, and
    PostgreSQL refused a longer one: the sign-in form answered 500."""
    address = "a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".org"
    assert len(address) > 200
    response = client.post("/account/signin", {"email": address})
    assert response.status_code == 200
    assert mailbox.link(address).startswith("http")
    # Its mails are spaced out as any address's are.
    client.post("/account/signin", {"email": address})
    assert len(mailbox.to(address)) == 1
