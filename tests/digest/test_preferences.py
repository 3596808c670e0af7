"""Preferences, pausing, one-click unsubscribe (RFC 8058) and the bounce webhook."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from paperroute.digest.models import Bounce, Subscriber
from tests.digest.conftest import config, subscriber

pytestmark = pytest.mark.django_db


def test_preferences_are_saved_and_bad_ones_explained():
    ada = subscriber("ada@example.org")
    strict = Client(enforce_csrf_checks=True)
    page = strict.get(f"/subscription/{ada.token}")
    assert page.status_code == 200 and b"ada@example.org" in page.content
    token = page.cookies["csrftoken"].value
    saved = strict.post(
        f"/subscription/{ada.token}",
        {
            "csrfmiddlewaretoken": token,
            "frequency": "weekly",
            "max_papers": "5",
            "categories": ["cs.CL", "cs.LG"],
            "other_categories": "q-bio.nc, physics",
            "topics": "speculative decoding\n\n  diffusion   transformers \nSpeculative Decoding",
        },
    )
    assert saved.status_code == 302
    ada.refresh_from_db()
    assert (ada.frequency, ada.max_papers) == ("weekly", 5)
    assert ada.categories == ["cs.CL", "cs.LG", "q-bio.NC", "physics"]
    assert ada.topics == ["speculative decoding", "diffusion transformers"]

    bad = strict.post(
        f"/subscription/{ada.token}",
        {
            "csrfmiddlewaretoken": token,
            "frequency": "daily",
            "max_papers": "10",
            "other_categories": "cs.NOPE",
            "topics": "",
        },
    )
    assert bad.status_code == 400 and b"is not an arXiv category" in bad.content
    assert b"cs.NOPE" in bad.content  # what was typed is kept
    ada.refresh_from_db()
    assert ada.frequency == "weekly"  # nothing was half-saved

    forged = Client(enforce_csrf_checks=True).post(f"/subscription/{ada.token}", {"frequency": "daily"})
    assert forged.status_code == 403


def test_pause_and_resume(client):
    ada = subscriber("ada@example.org")
    client.post(f"/subscription/{ada.token}", {"action": "pause"})
    ada.refresh_from_db()
    assert ada.status == Subscriber.PAUSED
    client.post(f"/subscription/{ada.token}", {"action": "resume"})
    ada.refresh_from_db()
    assert ada.status == Subscriber.CONFIRMED


def test_one_click_post_unsubscribes_at_once_but_get_only_asks():
    ada = subscriber("ada@example.org")
    url = f"/subscription/{ada.token}/unsubscribe"
    scanner = Client(enforce_csrf_checks=True)
    asked = scanner.get(url)
    assert asked.status_code == 200 and b"Unsubscribe ada@example.org?" in asked.content
    ada.refresh_from_db()
    assert ada.status == Subscriber.CONFIRMED

    # What a mail client sends (RFC 8058): no cookies, no CSRF token, this body.
    done = Client(enforce_csrf_checks=True).post(
        url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert done.status_code == 200 and b"You are unsubscribed" in done.content
    ada.refresh_from_db()
    assert ada.status == Subscriber.UNSUBSCRIBED


def test_unknown_tokens_are_not_found(client):
    assert client.get("/subscription/nope").status_code == 404
    assert client.post("/subscription/nope/unsubscribe").status_code == 404


def post_hook(body, secret="s3cret"):
    return Client().post(
        "/hooks/bounce",
        body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )


def test_the_bounce_webhook_is_off_without_a_secret():
    assert post_hook({"email": "a@example.org"}).status_code == 404


def test_the_bounce_webhook_counts_hard_bounces_and_suppresses_on_complaints(settings):
    config(settings, bounce_webhook="s3cret", digest_suppress_after=2)
    hard = subscriber("hard@example.org")
    spam = subscriber("spam@example.org")
    soft = subscriber("soft@example.org")
    assert post_hook({"email": "hard@example.org"}, secret="wrong").status_code == 401
    response = post_hook(
        {
            "events": [
                {"email": "hard@example.org", "type": "bounce", "reason": "550 5.1.1 user unknown"},
                {"email": "spam@example.org", "type": "complaint"},
                {"email": "soft@example.org", "type": "bounce", "permanent": False},
                {"email": "stranger@example.org", "type": "bounce"},
            ]
        }
    )
    assert response.status_code == 200
    assert response.json() == {"suppressed": 1, "counted": 2, "unsubscribed": 0, "ignored": 2}
    for one in (hard, spam, soft):
        one.refresh_from_db()
    assert (hard.status, hard.permanent_failures) == (Subscriber.CONFIRMED, 1)
    assert spam.status == Subscriber.SUPPRESSED and soft.status == Subscriber.CONFIRMED
    post_hook({"email": "hard@example.org", "type": "bounce"})
    hard.refresh_from_db()
    assert hard.status == Subscriber.SUPPRESSED  # the threshold, as for 5xx replies
    assert Bounce.objects.filter(kind=Bounce.BOUNCE).count() == 2


def test_the_bounce_webhook_takes_mailed_unsubscribes_by_token(settings):
    config(settings, bounce_webhook="s3cret")
    ada = subscriber("ada@example.org")
    response = post_hook({"type": "unsubscribe", "token": f"unsubscribe {ada.token}"})
    assert response.json()["unsubscribed"] == 1
    ada.refresh_from_db()
    assert ada.status == Subscriber.UNSUBSCRIBED


def test_a_bad_webhook_body_is_refused_whole(settings):
    config(settings, bounce_webhook="s3cret")
    ada = subscriber("ada@example.org")
    assert post_hook("{not json").status_code == 400
    response = post_hook([{"email": "ada@example.org", "type": "complaint"}, {"type": "explode"}])
    assert response.status_code == 400 and "unknown type" in response.json()["error"]
    ada.refresh_from_db()
    assert ada.status == Subscriber.CONFIRMED  # the good event before it was not applied


def test_changes_to_a_subscription_are_rate_limited_per_address_and_unsubscribing_never(monkeypatch):
    from paperroute.web.views import subscribe as views

    monkeypatch.setattr(views, "PREFERENCE_CHANGES", "3/hour")
    ada = subscriber("ada@example.org")
    client = Client(REMOTE_ADDR="192.0.2.7")
    for action in ("pause", "resume", "pause"):
        assert client.post(f"/subscription/{ada.token}", {"action": action}).status_code == 302
    refused = client.post(f"/subscription/{ada.token}", {"action": "resume"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "too many changes of preferences" in refused.content.decode()
    ada.refresh_from_db()
    assert ada.status == Subscriber.PAUSED
    # Another address is not held up, and one-click unsubscribing always works.
    assert (
        Client(REMOTE_ADDR="192.0.2.8").post(f"/subscription/{ada.token}", {"action": "resume"}).status_code
        == 302
    )
    assert client.post(f"/subscription/{ada.token}/unsubscribe").status_code == 200
    ada.refresh_from_db()
    assert ada.status == Subscriber.UNSUBSCRIBED


def test_an_unsubscribed_reader_subscribes_again_from_their_link_the_same_day(smtp):
    """The page after unsubscribing offers to subscribe again. The form at /subscribe would
    send no mail within a day of the last confirmation (its abuse limit), so a reader who
    unsubscribed by mistake soon after confirming would wait for a mail that never came; the
    secret link already proves the address is theirs."""
    client = Client(enforce_csrf_checks=True)
    client.post("/subscribe", {"email": "ada@example.org"})
    link = re.search(r"/subscribe/confirm/\S+", smtp.text(smtp.wait_for("ada@example.org"))).group(0)
    client.get(link)
    confirmed = client.post(link, {"csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    ada = Subscriber.objects.get(email_key="ada@example.org")
    assert confirmed.status_code == 302 and ada.status == Subscriber.CONFIRMED

    page = client.post(f"/subscription/{ada.token}/unsubscribe").content.decode()
    ada.refresh_from_db()
    assert ada.status == Subscriber.UNSUBSCRIBED
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', page, re.S)
    assert form and form.group(1) == f"/subscription/{ada.token}"
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(2)))
    again = client.post(form.group(1), fields)
    assert again.status_code == 302 and again["Location"].endswith("?done=resubscribed")
    ada.refresh_from_db()
    assert ada.status == Subscriber.CONFIRMED
    assert "You are subscribed again" in client.get(again["Location"]).content.decode()
    # The preferences page of an unsubscribed reader offers the same button.
    Subscriber.objects.filter(pk=ada.pk).update(status=Subscriber.UNSUBSCRIBED)
    assert 'value="resubscribe"' in client.get(f"/subscription/{ada.token}").content.decode()


def test_subscribing_again_by_link_needs_a_confirmed_address_and_a_csrf_token(client):
    never = subscriber("never@example.org", status=Subscriber.UNSUBSCRIBED)  # never confirmed
    refused = client.post(f"/subscription/{never.token}", {"action": "resubscribe"})
    assert refused.status_code == 400 and b"never confirmed" in refused.content
    never.refresh_from_db()
    assert never.status == Subscriber.UNSUBSCRIBED
    gone = subscriber("gone@example.org", status=Subscriber.SUPPRESSED)
    client.post(f"/subscription/{gone.token}", {"action": "resubscribe"})
    gone.refresh_from_db()
    assert gone.status == Subscriber.SUPPRESSED  # only an operator lifts a suppression
    Subscriber.objects.filter(pk=never.pk).update(confirmed_at="2024-11-01T00:00:00Z")
    forged = Client(enforce_csrf_checks=True).post(f"/subscription/{never.token}", {"action": "resubscribe"})
    assert forged.status_code == 403


def test_the_bounce_webhook_reads_permanent_only_as_true_or_false(settings):
    """A soft bounce sent as "permanent": "false" (a string, as some relays' adapters write
    it) counted as a hard one, and three of them suppressed a reader whose mailbox was only
    full. A value that is not true or false rejects the body, as any unreadable event does."""
    config(settings, bounce_webhook="s3cret", digest_suppress_after=1)
    ada = subscriber("ada@example.org")
    for value in ("false", "no", 0, None):
        response = post_hook({"email": "ada@example.org", "type": "bounce", "permanent": value})
        assert response.status_code == 400 and '"permanent"' in response.json()["error"]
    ada.refresh_from_db()
    assert (ada.status, ada.permanent_failures) == (Subscriber.CONFIRMED, 0)
    assert post_hook({"email": "ada@example.org", "permanent": False}).json()["ignored"] == 1


def test_the_bounce_webhook_counts_only_the_addresses_it_suppressed(settings):
    config(settings, bounce_webhook="s3cret", digest_suppress_after=1)
    subscriber("ada@example.org")
    first = post_hook({"email": "ada@example.org", "type": "complaint"}).json()
    assert (first["suppressed"], first["counted"]) == (1, 1)
    again = post_hook(
        [{"email": "ada@example.org"}, {"email": "ada@example.org", "type": "complaint"}]
    ).json()
    assert (again["suppressed"], again["counted"]) == (0, 2)  # it already was
    subscriber("bob@example.org")
    both = post_hook([{"email": "bob@example.org"}, {"email": "bob@example.org", "type": "complaint"}]).json()
    assert (both["suppressed"], both["counted"]) == (1, 2)
