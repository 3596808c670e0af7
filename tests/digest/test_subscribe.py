"""Subscribing: double opt-in with signed, expiring links, the 24-hour rule, per-IP limits."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from paperroute.digest import runs, subscriptions
from paperroute.digest.models import ConfirmationMail, Subscriber
from paperroute.digest.periods import daily
from paperroute.digest.smtp import messenger_factory
from tests.community.helpers import user
from tests.digest.conftest import DAY, config, day_papers
from tests.support import free_port, readable

pytestmark = pytest.mark.django_db


def confirm_path(sink, address: str, count: int = 1) -> str:
    text = sink.text(sink.wait_for(address, count))
    match = re.search(r"https://papers\.example\.org(/subscribe/confirm/\S+)", text)
    assert match, text
    return match.group(1)


def test_nothing_is_sent_until_the_emailed_link_is_confirmed(client, smtp, settings):
    config(settings, digest_concurrency=1)
    day_papers(3)
    response = client.post("/subscribe", {"email": "Ada@Example.ORG"})
    assert response.status_code == 200 and b"Check your inbox" in response.content
    mail = smtp.wait_for("Ada@example.org")
    assert mail.parsed()["Subject"] == "Confirm your paperroute digest subscription"
    ada = Subscriber.objects.get()
    assert ada.status == Subscriber.PENDING and ada.email_key == "ada@example.org"

    runs.send(daily(DAY), messenger_factory=messenger_factory())
    assert len(smtp.accepted) == 1  # the confirmation only: no digest for a pending address

    path = confirm_path(smtp, "Ada@example.org")  # as she wrote it, with the domain in lower case
    page = client.get(path)  # what a link scanner does
    assert page.status_code == 200 and b"Confirm subscription" in page.content
    assert Subscriber.objects.get().status == Subscriber.PENDING

    confirmed = client.post(path)
    assert confirmed.status_code == 302
    assert confirmed["Location"] == f"/subscription/{ada.token}?welcome=1"
    prefs = client.get(confirmed["Location"])
    assert b"You are subscribed" in prefs.content and b"Followed topics" in prefs.content
    assert Subscriber.objects.get().status == Subscriber.CONFIRMED
    assert client.post(path).status_code == 302  # a second click changes nothing


def test_one_confirmation_mail_per_address_per_24_hours(client, smtp):
    for _ in range(3):
        assert client.post("/subscribe", {"email": "bob@example.org"}).status_code == 200
    client.post("/subscribe", {"email": "BOB@example.org"})
    assert len(smtp.accepted) == 1
    first_link = confirm_path(smtp, "bob@example.org")

    Subscriber.objects.update(confirmation_sent_at=timezone.now() - timedelta(hours=25))
    client.post("/subscribe", {"email": "bob@example.org"})
    assert len(smtp.accepted) == 2
    assert ConfirmationMail.objects.count() == 2
    # Only the newest link confirms.
    stale = client.post(first_link)
    assert stale.status_code == 400 and b"a newer confirmation mail was sent" in stale.content
    assert client.post(confirm_path(smtp, "bob@example.org", 2)).status_code == 302


def test_the_form_is_rate_limited_per_ip_address(client, smtp, settings):
    config(settings, rate_subscribe="3/hour")
    for i in range(3):
        assert client.post("/subscribe", {"email": f"victim{i}@example.org"}).status_code == 200
    response = client.post("/subscribe", {"email": "victim9@example.org"})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert b"too many subscription requests" in response.content
    assert len(smtp.accepted) == 3
    # Another network is not affected.
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert other.post("/subscribe", {"email": "victim9@example.org"}).status_code == 200


def test_links_expire_and_forged_links_are_refused(client, smtp, settings):
    client.post("/subscribe", {"email": "cy@example.org"})
    path = confirm_path(smtp, "cy@example.org")
    forged = client.post(path[:-3] + ("abc" if not path.endswith("abc") else "xyz"))
    assert forged.status_code == 400 and b"not valid" in forged.content
    config(settings, digest_confirm_hours=0)
    expired = client.post(path)
    assert expired.status_code == 400 and b"has expired" in expired.content
    assert Subscriber.objects.get().status == Subscriber.PENDING


# An id that no test database reaches by counting: if it is in a link, it was put there.
DISTINCT_PK = 987_654


def test_the_confirmation_link_names_no_subscriber_id(client, smtp):
    """A signed token is not encrypted: anyone can decode its payload, which named the row's id
    and so told how many subscribers the site has."""
    Subscriber.objects.create(
        pk=DISTINCT_PK, email="fay@example.org", email_key="fay@example.org", token=subscriptions.new_token()
    )
    client.post("/subscribe", {"email": "fay@example.org"})
    path = confirm_path(smtp, "fay@example.org")
    token = path.rsplit("/", 1)[1]
    assert str(DISTINCT_PK) not in readable(token)
    payload, signed = token.split(":", 1)
    tampered = client.post(f"/subscribe/confirm/{payload[:-1]}{'B' if payload[-1] == 'A' else 'A'}:{signed}")
    assert tampered.status_code == 400 and b"This link cannot be used" in tampered.content
    assert b"this confirmation link is not valid" in tampered.content
    assert Subscriber.objects.get().status == Subscriber.PENDING
    confirmed = client.post(path)
    assert confirmed["Location"] == f"/subscription/{Subscriber.objects.get().token}?welcome=1"
    assert Subscriber.objects.get(pk=DISTINCT_PK).status == Subscriber.CONFIRMED


def test_a_confirmation_link_mailed_before_keys_works_as_long_as_it_did(client, smtp, settings):
    """Links mailed by earlier releases named the subscriber's id; those still in inboxes confirm
    until they expire, as they always did."""
    client.post("/subscribe", {"email": "gus@example.org"})
    smtp.wait_for("gus@example.org")
    gus = Subscriber.objects.get()
    old = signing.dumps({"s": gus.pk, "n": gus.confirm_nonce}, salt=subscriptions.SALT, compress=True)
    hours = settings.CONFIG.digest_confirm_hours
    config(settings, digest_confirm_hours=0)
    expired = client.post(f"/subscribe/confirm/{old}")
    assert expired.status_code == 400 and b"has expired" in expired.content
    config(settings, digest_confirm_hours=hours)
    forged = signing.dumps({"s": gus.pk, "n": gus.confirm_nonce}, salt="another site", compress=True)
    refused = client.post(f"/subscribe/confirm/{forged}")
    assert refused.status_code == 400 and b"not valid" in refused.content
    assert Subscriber.objects.get().status == Subscriber.PENDING
    confirmed = client.post(f"/subscribe/confirm/{old}")
    assert confirmed["Location"] == f"/subscription/{gus.token}?welcome=1"
    assert Subscriber.objects.get().status == Subscriber.CONFIRMED


def test_a_subscribed_address_gets_its_preferences_link_not_a_new_subscription(client, smtp):
    client.post("/subscribe", {"email": "dee@example.org"})
    client.post(confirm_path(smtp, "dee@example.org"))
    Subscriber.objects.update(confirmation_sent_at=timezone.now() - timedelta(hours=25))
    page = client.post("/subscribe", {"email": "dee@example.org"})
    assert b"Check your inbox" in page.content  # the same answer as for a stranger's address
    reminder = smtp.wait_for("dee@example.org", 2)
    assert reminder.parsed()["Subject"] == "Your paperroute digest preferences"
    assert f"/subscription/{Subscriber.objects.get().token}" in smtp.text(reminder)


def test_a_bad_address_is_explained(client, smtp):
    response = client.post("/subscribe", {"email": "not an address"})
    assert response.status_code == 400 and b"Enter an email address" in response.content
    assert smtp.accepted == [] and not Subscriber.objects.exists()


def test_an_address_longer_than_254_characters_is_explained(client, smtp):
    """Django's validator takes up to 320 characters; PostgreSQL refused to store more than 254,
    and the form answered 500."""
    address = "a" * 64 + "@" + ".".join(["b" * 63] * 3) + ".org"
    response = client.post("/subscribe", {"email": address})
    assert response.status_code == 400
    assert b"An email address can be at most 254 characters" in response.content
    assert smtp.accepted == [] and not Subscriber.objects.exists()


def test_when_mail_cannot_be_sent_the_days_allowance_is_kept(client, smtp, settings):
    settings.EMAIL_PORT = free_port()
    response = client.post("/subscribe", {"email": "eve@example.org"})
    assert response.status_code == 503 and b"try again" in response.content
    settings.EMAIL_PORT = smtp.port
    client.post("/subscribe", {"email": "eve@example.org"})
    assert len(smtp.to("eve@example.org")) == 1


def test_an_address_the_mail_server_refuses_is_explained_as_a_typo_not_a_delay(client, smtp):
    """A 5xx to RCPT TO ("550 5.1.1 user unknown") is the address, not the moment: the form said
    "try again in a few minutes", which could never work. A 4xx is still a delay."""
    smtp.script["eve@exmaple.org"] = ["550 5.1.1 user unknown"]
    refused = client.post("/subscribe", {"email": "eve@exmaple.org"})
    page = refused.content.decode()
    assert refused.status_code == 400 and "refused this address: 550 5.1.1 user unknown" in page
    assert "check it for typos" in page and 'value="eve@exmaple.org"' in page
    smtp.script["ada@example.org"] = ["451 4.7.1 try later"]
    later = client.post("/subscribe", {"email": "ada@example.org"})
    assert later.status_code == 503 and b"try again" in later.content
    # Neither used up the day's one mail: corrected, or later, the mail goes.
    assert client.post("/subscribe", {"email": "ada@example.org"}).status_code == 200
    assert len(smtp.to("ada@example.org")) == 1


def test_confirming_links_the_account_with_the_same_address(client, smtp):
    account = user("fay")  # fay@example.org
    client.post("/subscribe", {"email": "fay@example.org"})
    client.post(confirm_path(smtp, "fay@example.org"))
    assert Subscriber.objects.get().user == account
    client.force_login(account)
    page = client.get("/subscribe")
    assert b"Open your digest preferences" in page.content


def test_every_listing_page_has_the_subscribe_box_and_stays_cacheable(client, smtp):
    day_papers(2)
    first = client.get("/papers/date/2024-11-28")
    html = first.content.decode()
    assert re.search(r'<form class="cta subscribe-box" method="post" action="/subscribe"', html)
    assert 'id="subscribe-box-email" type="email" name="email"' in html
    assert "csrfmiddlewaretoken" not in html and not first.cookies
    assert first["X-Page-Cache"] == "miss" and client.get("/papers/date/2024-11-28")["X-Page-Cache"] == "hit"
    # The box posts without a CSRF token, and that works.
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/subscribe", {"email": "gil@example.org"}).status_code == 200


def test_a_signed_in_reader_is_told_where_their_digest_goes_not_asked_again(client):
    from tests.digest.conftest import subscriber

    day_papers(2)
    fay, gil = user("fay"), user("gil")  # fay@example.org subscribed, gil@example.org not
    fays = subscriber("fay@example.org", frequency="weekly", status=Subscriber.PAUSED)
    client.force_login(fay)
    html = client.get("/papers/date/2024-11-28").content.decode()
    assert "subscribe-box" not in html
    assert "Your weekly digest goes to fay@example.org (paused)." in html
    assert f'href="/subscription/{fays.token}">Digest preferences</a>' in html
    client.force_login(gil)
    html = client.get("/papers/date/2024-11-28").content.decode()
    assert 'autocomplete="email" required value="gil@example.org"' in html
    # An address that unsubscribed is asked again.
    Subscriber.objects.filter(pk=fays.pk).update(status=Subscriber.UNSUBSCRIBED)
    client.force_login(fay)
    assert "subscribe-box" in client.get("/papers/date/2024-11-28").content.decode()


def test_the_settings_page_leads_to_the_digest(client):
    from tests.digest.conftest import subscriber

    fay = user("fay")
    client.force_login(fay)
    assert 'href="/subscribe">Subscribe to the digest</a>' in client.get("/account/settings").content.decode()
    fays = subscriber("fay@example.org")
    page = client.get("/account/settings").content.decode()
    assert "Your daily digest of trending papers goes to fay@example.org." in page
    assert f'href="/subscription/{fays.token}">Digest preferences</a>' in page
