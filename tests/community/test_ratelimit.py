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
