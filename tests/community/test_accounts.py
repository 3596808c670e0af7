"""Sign-in by emailed link: signed, expiring, single-use, rate-limited, sent over real SMTP."""

import time

import pytest
from django.core import signing

from paperroute.community import accounts
from paperroute.community.errors import InvalidInput, RateLimited, SignInLinkInvalid


def _token(link: str) -> str:
    return link.rsplit("/account/signin/", 1)[1].split("?")[0]


def _send(address, ip="10.0.0.1", now=None):
    return accounts.send_link(address, ip, lambda token: f"http://testserver/account/signin/{token}", now=now)


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
    # A second link for the same address, once the first is 10 minutes old, signs in the same
    # account.
    _send("ada@example.org", now=time.time() + 600)
    assert accounts.redeem(_token(mailbox.link("ada@example.org", 1))) == user


@pytest.mark.django_db
def test_expired_and_forged_links_are_refused(mailbox, settings):
    _send("bob@example.org")
    token = _token(mailbox.link("bob@example.org"))
    settings.CONFIG = settings.CONFIG.replace(signin_link_minutes=-1)
    with pytest.raises(SignInLinkInvalid, match="expired"):
        accounts.redeem(token)
    forged = signing.dumps({"n": "guess"}, salt="something-else")
    with pytest.raises(SignInLinkInvalid, match="not valid"):
        accounts.redeem(forged)
    with pytest.raises(SignInLinkInvalid, match="not valid"):
        accounts.redeem(token[:-2] + "xx")


@pytest.mark.django_db
def test_bad_addresses_are_refused(mailbox):
    with pytest.raises(InvalidInput, match="email address"):
        _send("not an address")
    assert mailbox.messages == []


@pytest.mark.django_db
def test_strangers_asking_for_someones_link_cannot_lock_them_out(mailbox):
    # Fifty requests for the victim's address from fifty addresses (the old limit was five).
    for i in range(50):
        assert _send("victim@example.org", ip=f"10.1.0.{i}") == "victim@example.org"
    # The victim asks from their own address and is answered like everyone else...
    assert _send("victim@example.org", ip="192.0.2.7") == "victim@example.org"
    # ...and their inbox holds one mail, whose link signs them in.
    assert len([m for m in mailbox.messages if "victim" in str(m["To"])]) == 1
    assert accounts.redeem(_token(mailbox.link("victim@example.org"))).email == "victim@example.org"


@pytest.mark.django_db
def test_under_a_steady_stream_of_requests_the_owner_always_has_a_working_link(mailbox, settings):
    """Three hours of a request every 30 seconds: at most 6 mails in any hour, and at every
    moment a link mailed at most 10 minutes earlier, which is still valid for 20 more."""
    start = 1_800_000_000.0  # on a window boundary, like any other moment
    mailed_at = []
    for step in range(0, 3 * 3600, 30):
        now = start + step
        before = len(mailbox.accepted)
        _send("victim@example.org", ip=f"10.2.{step // 256 % 256}.{step % 256}", now=now)
        # The SMTP server has the message before the client's send returns.
        if len(mailbox.accepted) > before:
            mailed_at.append(now)
        latest = max(t for t in mailed_at if t <= now)
        assert now - latest <= 600, f"no link younger than 10 minutes at {step} s"
        assert latest + settings.CONFIG.signin_link_minutes * 60 - now >= 20 * 60
    for hour in range(3):
        in_hour = [t for t in mailed_at if start + hour * 3600 <= t < start + (hour + 1) * 3600]
        assert len(in_hour) <= 6, in_hour
    assert len(mailed_at) == 18


@pytest.mark.django_db
def test_two_requests_a_moment_apart_get_one_mail_even_across_a_window_end(mailbox):
    """The limit counted in fixed ten-minute windows: a request a second before a window ended
    and one a second after it both mailed a link."""
    end = 1_800_000_000.0  # a window's end
    for now in (end - 1, end + 1, end + 598):
        _send("ada@example.org", now=now)
    assert len(mailbox.messages) == 1
    _send("ada@example.org", now=end + 599)  # ten minutes after the first
    assert len(mailbox.messages) == 2


@pytest.mark.django_db
def test_each_client_has_its_own_limit_on_sign_in_requests(mailbox, settings):
    settings.CONFIG = settings.CONFIG.replace(rate_signin="3/hour")
    for i in range(3):
        _send(f"someone{i}@example.org", ip="10.9.9.9")
    with pytest.raises(RateLimited, match="sign-in requests"):
        _send("someone9@example.org", ip="10.9.9.9")
    # Another client is not held up by the first one's requests.
    _send("someone9@example.org", ip="10.9.9.10")
    assert len(mailbox.messages) == 4


@pytest.mark.django_db
def test_a_link_the_relay_refused_can_be_asked_for_again_at_once(mailbox, settings, client):
    """The address's one mail per SIGNIN_MAIL_MINUTES was counted before sending: with the relay
    down, the reader got a 500, and the owner could get no link for 10 minutes once it was up."""
    from tests.support import free_port

    working = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # the relay is down for a moment
    response = client.post("/account/signin", {"email": "owner@example.org"})
    assert response.status_code == 503 and response["Retry-After"] == "300"
    assert "could not be sent just now" in response.content.decode()
    settings.EMAIL_PORT = working  # it is back; the owner asks again, from another address
    _send("owner@example.org", ip="10.0.0.2")
    assert "/account/signin/" in mailbox.link("owner@example.org")


@pytest.mark.django_db(transaction=True)
def test_requests_refused_while_the_relay_hung_do_not_lock_the_owner_out(mailbox, settings):
    """While one request waited on a relay that then failed, a second for the same address was
    counted too (and refused, as a mail was on its way): giving back one left the window used."""
    import socket
    import threading

    from tests.support import free_port

    hung = socket.create_server(("127.0.0.1", free_port()))
    accepted = threading.Event()

    def hang():
        connection, _ = hung.accept()
        accepted.set()
        time.sleep(1.5)  # no greeting; then the relay drops the connection
        connection.close()

    threading.Thread(target=hang, daemon=True).start()
    working = settings.EMAIL_PORT
    settings.EMAIL_PORT = hung.getsockname()[1]
    failed = []

    def first():
        try:
            _send("owner@example.org", ip="10.0.0.1")
        except Exception as exc:  # noqa: BLE001 - the failure is what the test waits for
            failed.append(exc)
        finally:
            from django.db import connection

            connection.close()

    waiting = threading.Thread(target=first)
    waiting.start()
    assert accepted.wait(10)
    _send("owner@example.org", ip="10.0.0.2")  # meanwhile: refused, nothing sent
    waiting.join(30)
    hung.close()
    assert failed and "could not be sent" in str(failed[0])
    settings.EMAIL_PORT = working
    _send("owner@example.org", ip="10.0.0.3")  # the relay is back: the owner gets a link now
    assert "/account/signin/" in mailbox.link("owner@example.org")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "look_alike",
    [
        "sid@maıl.example",  # a dotless i in the domain, which someone else can register
        "ſid@mail.example",  # a long s
        "SID@MAIL.EXAMPLE",  # the same address in capitals: the same account
    ],
)
def test_a_look_alike_address_does_not_sign_in_to_someone_elses_account(mailbox, look_alike):
    """PostgreSQL's UPPER() folds 'ı' to 'I' and 'ſ' to 'S', so a case-insensitive lookup
    (email__iexact) took 'sid@maıl.example', an address anyone can get mail at, for
    'sid@mail.example': the link mailed to the look-alike signed in to Sid's account. Only ASCII
    letters' case may differ, on every database."""
    sid = accounts.user_for("sid@mail.example")
    _send(look_alike)
    mailed_to = mailbox.accepted[-1].to
    user = accounts.redeem(_token(mailbox.link(mailed_to)))
    if look_alike.isascii():
        assert user == sid
    else:
        assert user != sid and user.email == accounts.normalize_email(look_alike)
        # Sid still signs in to his own account, not the newcomer's.
        assert accounts.user_for("Sid@Mail.Example") == sid


@pytest.mark.django_db
def test_an_address_the_mail_server_refuses_is_explained_as_a_typo(client, mailbox):
    """Sign-in by link to a mailbox that does not exist: "try again in a few minutes" could
    never work, and the form should keep the address to correct."""
    mailbox.script["grace@exmaple.org"] = ["550 5.1.1 user unknown"]
    refused = client.post("/account/signin", {"email": "grace@exmaple.org"})
    page = refused.content.decode()
    assert refused.status_code == 400 and "refused this address: 550 5.1.1 user unknown;" in page
    assert 'value="grace@exmaple.org"' in page and mailbox.accepted == []
