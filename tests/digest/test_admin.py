"""The admin shows subscribers with their status, the runs, and every send with its status."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from paperroute.digest import runs
from paperroute.digest.models import Subscriber
from paperroute.digest.periods import daily
from paperroute.digest.smtp import messenger_factory
from tests.digest.conftest import DAY, config, day_papers, subscriber

pytestmark = pytest.mark.django_db


def test_the_admin_lists_subscribers_runs_and_sends(client, smtp, settings):
    config(settings, digest_concurrency=1)
    day_papers(2)
    subscriber("ada@example.org")
    gone = subscriber("gone@example.org", status=Subscriber.SUPPRESSED)
    smtp.script["bob@example.org"] = ["451 4.7.1 later"]
    subscriber("bob@example.org")
    runs.send(daily(DAY), messenger_factory=messenger_factory())
    admin = get_user_model().objects.create(
        username="mod", email="mod@example.org", is_staff=True, is_superuser=True
    )
    client.force_login(admin)

    people = client.get("/admin/digest/subscriber/").content.decode()
    assert "ada@example.org" in people and "suppressed (bounced)" in people
    sends = client.get("/admin/digest/outbox/").content.decode()
    assert "ada@example.org" in sends and "bob@example.org" in sends and "451 4.7.1 later" in sends
    assert (
        client.get("/admin/digest/outbox/?status__exact=pending").content.decode().count("bob@example.org")
        >= 1
    )
    run_page = client.get("/admin/digest/digestrun/").content.decode()
    assert "2024-11-28" in run_page or "Nov. 28, 2024" in run_page

    lifted = client.post(
        "/admin/digest/subscriber/", {"action": "lift_suppression", "_selected_action": [gone.pk]}
    )
    assert lifted.status_code == 302
    gone.refresh_from_db()
    assert gone.status == Subscriber.PENDING  # it never confirmed, so it goes back to pending


@pytest.mark.parametrize("before", [Subscriber.CONFIRMED, Subscriber.PAUSED])
def test_lifting_a_suppression_gives_back_what_the_reader_had_chosen(client, before):
    """A paused subscription that got a complaint came back confirmed, and an unsubscribe made
    while suppressed (the one-click link still says "You are unsubscribed") came back too."""
    from django.utils import timezone

    from paperroute.digest import subscriptions
    from paperroute.digest.models import Bounce

    ada = subscriber("ada@example.org", status=before)
    Subscriber.objects.filter(pk=ada.pk).update(confirmed_at=timezone.now())
    subscriptions.record_permanent_failure("ada@example.org", Bounce.COMPLAINT, "marked as spam")
    ada.refresh_from_db()
    assert ada.status == Subscriber.SUPPRESSED
    subscriptions.lift_suppression(ada)
    ada.refresh_from_db()
    assert ada.status == before

    subscriptions.record_permanent_failure("ada@example.org", Bounce.COMPLAINT, "marked as spam again")
    page = client.post(
        f"/subscription/{ada.token}/unsubscribe",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert page.status_code == 200 and b"unsubscribed" in page.content
    subscriptions.lift_suppression(Subscriber.objects.get(pk=ada.pk))
    assert Subscriber.objects.get(pk=ada.pk).status == Subscriber.UNSUBSCRIBED


def test_a_confirmed_reader_suppressed_before_upgrading_comes_back_paused():
    """A row suppressed before its earlier status was kept (digest 0002 left it blank) came back
    confirmed, though the reader may have paused their digest: mail they had stopped started
    again. Paused, they resume with one click from their page."""
    from django.utils import timezone

    from paperroute.digest import subscriptions

    ada = subscriber("ada@example.org", status=Subscriber.SUPPRESSED)
    Subscriber.objects.filter(pk=ada.pk).update(confirmed_at=timezone.now(), suppressed_from="")
    subscriptions.lift_suppression(Subscriber.objects.get(pk=ada.pk))
    assert Subscriber.objects.get(pk=ada.pk).status == Subscriber.PAUSED
