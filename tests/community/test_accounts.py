"""Sign-in by emailed link: signed, expiring, single-use, rate-limited, sent over real SMTP."""

import pytest
from django.core import signing

from paperroute.community import accounts
from paperroute.community.errors import InvalidInput, RateLimited, SignInLinkInvalid


def _token(link: str) -> str:
    return link.rsplit("/account/signin/", 1)[1].split("?")[0]


def _send(address, ip="10.0.0.1"):
    return accounts.send_link(address, ip, lambda token: f"http://testserver/account/signin/{token}")


@pytest.mark.django_db
def test_the_link_arrives_by_smtp_and_signs_in_once(mailbox):
    _send("Ada@Example.ORG")
    message = mailbox.wait_for("Ada@example.org")
    assert message["Subject"] == "Your paperroute sign-in link"
    assert message.get_body(preferencelist=("html",)) is not None
    token = _token(mailbox.link("Ada@example.org"))
    assert accounts.check_link(token) == "Ada@example.org"
    user = accounts.redeem(token)
    assert user.email == "Ada@example.org" and user.username == "Ada"
    assert not user.has_usable_password()
    with pytest.raises(SignInLinkInvalid, match="already been used"):
        accounts.redeem(token)
    # A second link for the same address signs in the same account.
    _send("ada@example.org")
    assert accounts.redeem(_token(mailbox.link("ada@example.org", 1))) == user


@pytest.mark.django_db
def test_expired_and_forged_links_are_refused(mailbox, settings):
    _send("bob@example.org")
    token = _token(mailbox.link("bob@example.org"))
    settings.CONFIG = {**settings.CONFIG, "SIGNIN_LINK_MINUTES": -1}
    with pytest.raises(SignInLinkInvalid, match="expired"):
        accounts.redeem(token)
    forged = signing.dumps({"n": "guess"}, salt="something-else")
    with pytest.raises(SignInLinkInvalid, match="not valid"):
        accounts.redeem(forged)
    with pytest.raises(SignInLinkInvalid, match="not valid"):
        accounts.redeem(token[:-2] + "xx")


@pytest.mark.django_db
def test_bad_addresses_and_floods_are_refused(mailbox, settings):
    with pytest.raises(InvalidInput, match="email address"):
        _send("not an address")
    settings.CONFIG = {**settings.CONFIG, "RATE_SIGNIN": "2/hour"}
    _send("victim@example.org")
    _send("victim@example.org")
    with pytest.raises(RateLimited, match="sign-in emails"):
        _send("victim@example.org")
    # One address cannot mail many inboxes either: 4 x 2 per hour per IP.
    for i in range(8):
        _send(f"other{i}@example.org", ip="10.9.9.9")
    with pytest.raises(RateLimited):
        _send("other9@example.org", ip="10.9.9.9")
    assert len([m for m in mailbox.messages if "victim" in str(m["To"])]) == 2
