"""Delivery failures: 4xx and refused connections are retried with backoff, 5xx suppresses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from paperroute.digest import runs
from paperroute.digest.models import Bounce, DigestRun, Outbox, SentPaper, Subscriber
from paperroute.digest.periods import daily
from paperroute.digest.smtp import messenger_factory
from tests.digest.conftest import DAY, config, day_papers, subscriber
from tests.support import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def one_connection(settings):
    # In-process tests run inside the test's transaction, which other threads cannot see.
    config(settings, digest_concurrency=1, digest_retry_schedule=(60, 300), digest_suppress_after=2)


def send(day=DAY):
    return runs.send(daily(day), messenger_factory=messenger_factory())


def make_due():
    Outbox.objects.filter(status=Outbox.PENDING).update(next_attempt_at=timezone.now())


def test_a_4xx_reply_is_retried_with_backoff_then_delivered_once(smtp):
    day_papers(3)
    subscriber("ada@example.org")
    subscriber("bob@example.org")
    smtp.script["ada@example.org"] = ["451 4.7.1 greylisted, try again later", "452 4.2.2 mailbox full"]
    before = timezone.now()

    first = send()
    ada = Outbox.objects.get(email="ada@example.org")
    assert not first.complete and first.counts == {"sent": 1, "pending": 1}
    assert ada.attempts == 1 and "451" in ada.last_error
    assert timedelta(seconds=59) < ada.next_attempt_at - before < timedelta(seconds=70)
    assert smtp.to("ada@example.org") == [] and len(smtp.to("bob@example.org")) == 1

    # Not due yet: nothing is tried, and the run stays open.
    assert not send().complete and len(smtp.refused) == 1

    make_due()
    second = send()
    ada.refresh_from_db()
    assert not second.complete and ada.attempts == 2 and "452" in ada.last_error
    assert ada.next_attempt_at - timezone.now() > timedelta(seconds=290)  # the second step

    make_due()
    third = send()
    assert third.complete, third.line()
    assert DigestRun.objects.get().status == DigestRun.COMPLETE
    assert len(smtp.to("ada@example.org")) == 1 and len(smtp.to("bob@example.org")) == 1
    assert Subscriber.objects.get(email_key="ada@example.org").status == Subscriber.CONFIRMED


def test_retries_run_out_and_the_message_fails_without_suppressing(smtp):
    day_papers(2)
    ada = subscriber("ada@example.org")
    smtp.script["ada@example.org"] = ["450 4.2.1 busy"] * 3
    send()
    make_due()
    send()
    make_due()
    report = send()
    row = Outbox.objects.get(email="ada@example.org")
    assert report.complete and row.status == Outbox.FAILED and "gave up after 3 attempts" in row.last_error
    ada.refresh_from_db()
    assert ada.status == Subscriber.CONFIRMED  # a full mailbox is not a dead one
    assert not SentPaper.objects.filter(subscriber=ada).exists()  # they may go in a later digest


def test_5xx_fails_the_message_and_suppresses_the_address_after_the_threshold(smtp):
    day_papers(4)
    day_papers(4, DAY + timedelta(days=1), prefix="2411.3")
    day_papers(4, DAY + timedelta(days=4), prefix="2411.4")
    gone = subscriber("gone@example.org")
    subscriber("fine@example.org")
    smtp.script["gone@example.org"] = ["550 5.1.1 no such user"] * 2

    report = send()
    row = Outbox.objects.get(email="gone@example.org")
    assert report.complete and row.status == Outbox.FAILED and "550" in row.last_error
    gone.refresh_from_db()
    assert gone.status == Subscriber.CONFIRMED and gone.permanent_failures == 1  # 1 of 2

    send(DAY + timedelta(days=1))
    gone.refresh_from_db()
    assert gone.status == Subscriber.SUPPRESSED and gone.permanent_failures == 2
    assert Bounce.objects.filter(email_key="gone@example.org", kind=Bounce.SMTP).count() == 2

    send(DAY + timedelta(days=4))  # a suppressed address gets no digest at all
    assert not Outbox.objects.filter(
        email="gone@example.org", run__period_start=DAY + timedelta(days=4)
    ).exists()
    assert smtp.to("gone@example.org") == []
    assert len(smtp.to("fine@example.org")) == 3


def test_a_delivery_resets_the_count_of_permanent_failures(smtp):
    day_papers(2)
    day_papers(2, DAY + timedelta(days=1), prefix="2411.3")
    flaky = subscriber("flaky@example.org")
    smtp.script["flaky@example.org"] = ["550 5.7.1 rejected"]
    send()
    send(DAY + timedelta(days=1))
    flaky.refresh_from_db()
    assert flaky.permanent_failures == 0 and flaky.status == Subscriber.CONFIRMED
    assert len(smtp.to("flaky@example.org")) == 1


def test_a_refused_connection_stops_the_pass_and_everything_is_sent_later(smtp, settings):
    day_papers(3)
    for name in ("ada", "bob", "cy"):
        subscriber(f"{name}@example.org")
    settings.EMAIL_PORT = free_port()  # nothing listens there

    report = send()
    assert not report.complete
    assert "cannot reach the mail server" in report.passes[0].stopped
    rows = list(Outbox.objects.order_by("id"))
    assert [r.status for r in rows] == [Outbox.PENDING] * 3
    # One message was tried; the others were handed back untried and are due at the same time.
    assert sorted(r.attempts for r in rows) == [0, 0, 1]
    assert len({r.next_attempt_at for r in rows}) == 1 and rows[0].next_attempt_at > timezone.now()

    settings.EMAIL_PORT = smtp.port
    make_due()
    assert send().complete
    assert sorted(m.to for m in smtp.accepted) == ["ada@example.org", "bob@example.org", "cy@example.org"]


def test_an_address_that_unsubscribes_after_composing_gets_nothing(smtp):
    day_papers(2)
    leaving = subscriber("leaving@example.org")
    smtp.script["leaving@example.org"] = ["451 4.3.0 later"]
    send()
    Subscriber.objects.filter(pk=leaving.pk).update(status=Subscriber.UNSUBSCRIBED)
    make_due()
    report = send()
    assert report.complete and report.counts == {"skipped": 1}
    assert smtp.to("leaving@example.org") == []


def test_the_rate_limit_spaces_messages_out(smtp, settings):
    config(settings, digest_rate="20/second")
    day_papers(2)
    for i in range(6):
        subscriber(f"r{i}@example.org")
    send()
    times = sorted(m.at for m in smtp.accepted)
    # 20/second: one handed over every 50 ms. (The first one's connection setup may eat into the
    # second's slot, so the spacing is checked from the second message on.)
    assert len(times) == 6 and times[-1] - times[1] >= 4 * 0.05 * 0.95


def test_an_internationalised_domain_gets_its_digest_in_ascii_on_the_envelope(smtp):
    """The site takes ada@bücher.example; smtplib could not encode the raw domain, and the
    exception stopped the whole run."""
    day_papers(2)
    subscriber("ada@bücher.example")
    subscriber("bob@example.org")
    report = send()
    assert report.complete, report.line()
    assert len(smtp.to("ada@xn--bcher-kva.example")) == 1 and len(smtp.to("bob@example.org")) == 1


@pytest.mark.parametrize("smtputf8", [True, False])
def test_a_non_ascii_mailbox_goes_by_smtputf8_or_fails_alone(smtp, settings, smtputf8):
    """jörg@example.org needs a server that offers SMTPUTF8; without it only that message
    fails, with a reason."""
    from tests.support import smtp_server

    day_papers(2)
    subscriber("jörg@example.org")
    subscriber("bob@example.org")
    with smtp_server(smtputf8=smtputf8) as server:
        settings.EMAIL_PORT = server.port
        report = send()
    assert report.complete and len(server.to("bob@example.org")) == 1
    row = Outbox.objects.get(email="jörg@example.org")
    if smtputf8:
        assert row.status == Outbox.SENT and len(server.to("jörg@example.org")) == 1
    else:
        assert row.status == Outbox.FAILED and "SMTPUTF8" in row.last_error
