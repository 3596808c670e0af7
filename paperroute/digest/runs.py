"""A period's digest run: compose every subscriber's message into the outbox, then send it.

Both halves can be interrupted and run again, by the same or another process, at any point:
composing writes each batch of outbox rows in one transaction (the unique constraint on
(run, subscriber) turns a second composer's batch into a no-op), and sending goes through the
claims in outbox.py.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from paperroute import stopping
from paperroute.community import listings
from paperroute.digest import messages, outbox, periods, render, sendproc
from paperroute.digest.compose import Composer, Digest, Preferences, eligible
from paperroute.digest.errors import DigestError, NothingToSend
from paperroute.digest.models import DigestRun, Outbox, SentPaper, Subscriber
from paperroute.digest.periods import Period
from paperroute.digest.sender import PassReport, send_pass

COMPOSE_BATCH = 100  # subscribers composed and stored in one transaction


def due_period(frequency: str, *, today=None, date_text: str = "") -> Period:
    """The period to send: the one named by --date, else the latest (see periods.latest)."""
    if date_text:
        return periods.parse(frequency, date_text)
    today = today or timezone.localdate()
    period = periods.latest(frequency, today, listings.latest_day(today - timedelta(days=1)))
    if period is None:
        if listings.latest_day(today):
            raise NothingToSend(
                "today's papers are still coming in; their digest is due tomorrow (or name the "
                "day with --date)"
            )
        raise NothingToSend("there are no papers yet; ingest some first")
    return period


def get_run(period: Period) -> DigestRun:
    run = DigestRun.objects.filter(frequency=period.frequency, period_start=period.start).first()
    if run:
        return run
    try:
        with transaction.atomic():
            return DigestRun.objects.create(
                frequency=period.frequency, period_start=period.start, period_end=period.end
            )
    except IntegrityError:  # another sender created it first
        return DigestRun.objects.get(frequency=period.frequency, period_start=period.start)


def period_of(run: DigestRun) -> Period:
    return Period(run.frequency, run.period_start, run.period_end)


# -- composing ---------------------------------------------------------------------------------


def _take_compose(run: DigestRun, worker: str, lease: int) -> bool:
    """Become the run's composer, waiting while a live process composes it; False once composed."""
    while True:
        run.refresh_from_db()
        if run.status != DigestRun.COMPOSING:
            return False
        now = timezone.now()
        holder = run.composer
        free = (
            not holder
            or holder == worker
            or not outbox.alive(holder)
            or (run.compose_lease_until and run.compose_lease_until < now)
        )
        # Compare-and-swap on the holder we saw, so that two takers cannot both win.
        if free and DigestRun.objects.filter(pk=run.pk, status=DigestRun.COMPOSING, composer=holder).update(
            composer=worker, compose_lease_until=now + timedelta(seconds=lease)
        ):
            return True
        if stopping.requested():
            return False
        time.sleep(0.5)


def compose_run(run: DigestRun, *, now: datetime | None = None) -> int:
    """Write the outbox rows of every eligible subscriber who has none yet; returns how many."""
    worker, lease = outbox.worker_id(), settings.CONFIG.digest_lease_seconds
    if not _take_compose(run, worker, lease):
        return 0
    now = now or timezone.now()
    composer = Composer(period_of(run), now=now)
    written = conflicts = 0
    sweep_again = True
    while sweep_again:
        sweep_again = False
        for batch in unsent_pages(run.frequency, run):
            rows = compose_batch(composer, run, batch, now)
            try:
                with transaction.atomic():
                    if not DigestRun.objects.filter(pk=run.pk, composer=worker).update(
                        compose_lease_until=timezone.now() + timedelta(seconds=lease)
                    ):
                        raise DigestError("another process took over composing this run")
                    store(rows)
            except IntegrityError as exc:
                # Another composer (whose lease we took after it stalled) wrote some of these
                # subscribers' rows: sweep again for the rest. Repeated conflicts mean something
                # else is wrong.
                conflicts += 1
                if conflicts > 5:
                    raise DigestError(f"cannot store the composed digests: {exc}") from exc
                sweep_again = True
                continue
            written += len(rows)
            if stopping.requested():
                # Hand the run over at once: the next composer writes the subscribers left.
                DigestRun.objects.filter(pk=run.pk, status=DigestRun.COMPOSING, composer=worker).update(
                    composer="", compose_lease_until=None
                )
                run.refresh_from_db()
                return written
    DigestRun.objects.filter(pk=run.pk, status=DigestRun.COMPOSING, composer=worker).update(
        status=DigestRun.SENDING, composed_at=timezone.now(), composer="", compose_lease_until=None
    )
    run.refresh_from_db()
    return written


def unsent_pages(frequency: str, run: DigestRun | None):
    """Eligible subscribers without an outbox row in the run, a page at a time.

    Keyset pages by primary key, each checked against the outbox by index: an anti-join
    (NOT EXISTS) here went quadratic on PostgreSQL while its statistics still said the tables
    were empty, as they are right after a big import (26 digests/s instead of 200).
    """
    after = 0
    while True:
        page = list(eligible(frequency).filter(pk__gt=after).order_by("pk")[:COMPOSE_BATCH])
        if not page:
            return
        after = page[-1].pk
        if run is not None and run.pk:
            done = set(
                Outbox.objects.filter(run=run, subscriber_id__in=[s.pk for s in page]).values_list(
                    "subscriber_id", flat=True
                )
            )
            page = [s for s in page if s.pk not in done]
        if page:
            yield page


@dataclass
class Composed:
    subscriber: Subscriber
    digest: Digest
    row: Outbox


def sent_before(subscriber_ids: list[int], candidates: set[int]) -> dict[int, set[int]]:
    """Which of the candidate papers each subscriber was already sent."""
    sent: dict[int, set[int]] = {pk: set() for pk in subscriber_ids}
    for sub, paper in SentPaper.objects.filter(
        subscriber_id__in=subscriber_ids, paper_id__in=candidates
    ).values_list("subscriber_id", "paper_id"):
        sent[sub].add(paper)
    return sent


def compose_batch(
    composer: Composer, run: DigestRun, batch: list[Subscriber], now: datetime
) -> list[Composed]:
    """Outbox rows (not yet saved) for a batch of subscribers."""
    composer.prepare(batch)
    sent = sent_before([s.pk for s in batch], composer.candidate_ids())
    period = period_of(run)
    digests = [composer.digest(s, sent[s.pk]) for s in batch]
    rendered = {
        i: render.render_digest(period, d, email=s.email, token=s.token, cache=composer.rendered)
        for i, (s, d) in enumerate(zip(batch, digests))
        if d.papers
    }
    result = []
    for i, (subscriber, digest) in enumerate(zip(batch, digests)):
        msg_id = messages.message_id(f"digest.{run.key}", str(subscriber.pk))
        row = Outbox(
            run=run,
            subscriber=subscriber,
            email=subscriber.email,
            message_id=msg_id,
            next_attempt_at=now,
            papers=len(digest.papers),
        )
        if i in rendered:
            row.subject = rendered[i].subject
            row.message = zlib.compress(
                messages.build(
                    to=subscriber.email,
                    subject=row.subject,
                    text=rendered[i].text,
                    html=rendered[i].html,
                    msg_id=msg_id,
                    date=now,
                    headers=digest_headers(run, subscriber.token),
                ),
                1,
            )
        else:
            row.status, row.message, row.subject = Outbox.SKIPPED, b"", "(nothing new)"
            row.last_error = "nothing new for this subscriber in this period"
        result.append(Composed(subscriber, digest, row))
    return result


def digest_headers(run: DigestRun, token: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe (a URL and a mailto) and RFC 2919 List-Id."""
    return {
        "List-Unsubscribe": f"<{render.unsubscribe_url(token)}>, <{messages.unsubscribe_mailto(token)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f"paperroute {run.frequency} digest <{run.frequency}.digest.{messages.mail_domain()}>",
    }


def store(composed: list[Composed]) -> None:
    """Save outbox rows and what papers they carry (inside the caller's transaction)."""
    rows = Outbox.objects.bulk_create([c.row for c in composed])
    # Ten or so of these per digest: plain rows, without the ORM's per-object work.
    sent = [
        (c.subscriber.pk, card.pid, row.pk)
        for c, row in zip(composed, rows)
        if row.status != Outbox.SKIPPED
        for card in c.digest.papers
    ]
    if sent:
        table = connection.ops.quote_name(SentPaper._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} (subscriber_id, paper_id, outbox_id) VALUES (%s, %s, %s)", sent
            )


# -- sending -----------------------------------------------------------------------------------


@dataclass
class RunReport:
    period: Period
    composed: int = 0
    passes: list[PassReport] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    complete: bool = False
    next_attempt: datetime | None = None
    stopped: bool = False  # asked to stop (SIGTERM, Ctrl-C) with the run still open

    def line(self) -> str:
        c = self.counts
        state = (
            "complete"
            if self.complete
            else f"still open: {c.get('pending', 0) + c.get('sending', 0)} message(s) waiting"
            + (f", next try at {self.next_attempt:%Y-%m-%d %H:%M:%S} UTC" if self.next_attempt else "")
        )
        here = sum(p.sent for p in self.passes)
        return (
            f"{self.period.frequency} digest for {self.period.slug}: {c.get('sent', 0)} sent "
            f"({here} by this process), {c.get('failed', 0)} failed, {c.get('skipped', 0)} "
            f"skipped; run {state}"
        )


def _compose_while_sending(run: DigestRun, messenger_factory, report: RunReport) -> int:
    """Compose the run while another process sends what is composed so far.

    Composing is CPU work, and so is talking SMTP to a local relay: threads of one process take
    turns at the interpreter lock (a sending thread gave 229 digests/s end to end where composing
    alone ran at 511/s and sending alone at 484/s). The process is started with
    multiprocessing's default start method on every platform, and ends the moment this one
    does (sendproc); a crash of either leaves only claims that outbox.py releases. Not inside a
    transaction (a test's): the other process could not see the rows, and on SQLite it would
    wait for its lock.
    """
    if connection.in_atomic_block:
        return compose_run(run)
    connections.close_all()  # a forked process must not share this one's database connections
    context = multiprocessing.get_context()
    receiver, answer = context.Pipe(duplex=False)
    sender = context.Process(
        target=sendproc.main,
        args=(run.pk, messenger_factory, answer),
        name="digest-send-while-composing",
        daemon=True,
    )
    sender.start()
    answer.close()  # so that reading gets end of file if the sender dies without answering
    try:
        return compose_run(run)
    except BaseException:
        sender.kill()  # it would wait for a run that will not be composed
        raise
    finally:
        # The sender's totals, once it is done. End of file instead: it failed (and logged why)
        # or was killed, and the passes after composing send what it left.
        with receiver, contextlib.suppress(EOFError):
            told = 0.0
            while not receiver.poll(0.2):
                if stopping.requested() and time.monotonic() - told > 1:
                    # It goes on until the run is composed and nothing due is left: its SIGTERM
                    # ends it after the message on hand (a service manager may have sent one).
                    # Told again each second: a SIGTERM that came before it set its handler
                    # up was forgotten there, and this wait then never ended.
                    sender.terminate()
                    told = time.monotonic()
            report.passes.append(receiver.recv())
        sender.join()


_COUNTS = ("sent", "failed", "skipped", "deferred")


def send_until_composed(run_id: int, messenger_factory) -> PassReport:
    """Send passes until the run is composed and nothing due is left; the passes' totals.

    sendproc runs this in its own process while runs.send composes the run.
    """
    composing = DigestRun.objects.filter(pk=run_id, status=DigestRun.COMPOSING).exists
    totals = PassReport()
    while True:
        result = send_pass(run_id, messenger_factory=messenger_factory)
        for name in _COUNTS:
            setattr(totals, name, getattr(totals, name) + getattr(result, name))
        totals.errors = (totals.errors + result.errors)[:20]
        if result.stopped:
            totals.stopped = result.stopped
            return totals  # the mail server is unreachable; the passes after composing retry
        if stopping.requested():
            return totals
        if not any(getattr(result, name) for name in _COUNTS):
            if not composing():
                return totals
            time.sleep(0.2)  # nothing composed yet


def finish_if_done(run: DigestRun) -> bool:
    """Mark the run complete when nothing in it is pending or being sent."""
    if run.status == DigestRun.SENDING and not outbox.open_count(run.pk):
        DigestRun.objects.filter(pk=run.pk, status=DigestRun.SENDING).update(
            status=DigestRun.COMPLETE, completed_at=timezone.now()
        )
    run.refresh_from_db()
    return run.status == DigestRun.COMPLETE


def send(period: Period, *, messenger_factory, wait: bool = False, log_line=None) -> RunReport:
    """Compose (if needed) and send a period's run; with `wait`, sleep through retries too."""
    run = get_run(period)
    report = RunReport(period)
    if run.status == DigestRun.COMPOSING:
        report.composed = _compose_while_sending(run, messenger_factory, report)
    while run.status == DigestRun.SENDING and not stopping.requested():
        result = send_pass(run.pk, messenger_factory=messenger_factory)
        report.passes.append(result)
        if log_line and result.stopped:
            log_line(f"stopped sending: {result.stopped}")
        if finish_if_done(run):
            break
        due = outbox.next_due(run.pk)
        if due is None:
            # What is left is being sent by other processes right now: wait for them, so that
            # "complete" means complete (a dead one's rows come back in the next pass).
            stopping.sleep(0.5)
            continue
        pause = (due - timezone.now()).total_seconds()
        if pause > 0 and not wait:
            break  # deferred after a temporary failure: a later run or the worker retries
        if pause > 0:
            stopping.sleep(min(pause, 60))
    report.counts = outbox.counts(run.pk)
    report.complete = run.status == DigestRun.COMPLETE
    report.stopped = stopping.requested() and not report.complete
    report.next_attempt = None if report.complete else outbox.next_due(run.pk)
    return report


def resume_open_runs(*, messenger_factory) -> list[RunReport]:
    """Carry on with every run that is not complete (the worker calls this each minute)."""
    reports = []
    for run in (
        DigestRun.objects.exclude(status=DigestRun.COMPLETE)
        .filter(
            Q(status=DigestRun.COMPOSING)
            | Q(outbox__status=Outbox.PENDING, outbox__next_attempt_at__lte=timezone.now())
            | Q(outbox__status=Outbox.SENDING)
        )
        .distinct()
    ):
        if stopping.requested():
            break
        reports.append(send(period_of(run), messenger_factory=messenger_factory))
    return reports


# -- previews and test sends -------------------------------------------------------------------


def single(period: Period, email: str, *, now: datetime | None = None) -> tuple[bytes, Digest]:
    """The message a period's digest would be for one address, outside the outbox.

    A subscriber's own preferences and sending history are used when the address is one;
    otherwise the defaults. Nothing is recorded.
    """
    now = now or timezone.now()
    subscriber = Subscriber.objects.filter(email_key=email.strip().lower()).first()
    prefs = subscriber or Preferences()
    token = subscriber.token if subscriber else "preview"
    composer = Composer(period, now=now)
    composer.prepare([prefs])
    sent = sent_before([subscriber.pk], composer.candidate_ids())[subscriber.pk] if subscriber else set()
    digest = composer.digest(prefs, sent)
    rendered = render.render_digest(period, digest, email=email, token=token)
    key = f"{period.frequency}-{period.start.isoformat()}"
    fake_run = DigestRun(frequency=period.frequency, period_start=period.start, period_end=period.end)
    data = messages.build(
        to=email,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        msg_id=messages.message_id(f"preview.{key}", email, now.isoformat()),
        date=now,
        headers=digest_headers(fake_run, token),
    )
    return data, digest


def send_copy(period: Period, email: str, messenger_factory) -> str:
    """Send one test copy of a period's digest to an address now; returns what happened."""
    from paperroute.community.accounts import normalize_email
    from paperroute.community.errors import InvalidInput

    try:
        address = normalize_email(email)
    except InvalidInput as exc:
        raise DigestError(f"--to: {exc}") from None
    data, digest = single(period, address)
    messenger = messenger_factory()
    try:
        messenger.send(messages.sender_address(), address, data)
    finally:
        messenger.close()
    return (
        f"sent a copy of the {period.frequency} digest for {period.slug} to {address} "
        f"({len(digest.papers)} papers)"
    )


@dataclass
class DryRun:
    period: Period
    subscribers: int = 0
    with_papers: int = 0
    papers: int = 0
    topics: int = 0
    status: str = "not started"
    # A run that is composed takes nobody new: who joined since, and what is left to send.
    composed: bool = False
    joined_since: int = 0
    to_send: int = 0

    def line(self) -> str:
        if self.composed:
            unit = "day" if self.period.frequency == "daily" else "week"
            return (
                f"dry run, {self.period.frequency} digest for {self.period.slug} (run {self.status}): "
                f"already composed; {self.joined_since} subscriber(s) who joined since get the next "
                f"{unit}'s digest; {self.to_send} message(s) still to send"
            )
        return (
            f"dry run, {self.period.frequency} digest for {self.period.slug} (run {self.status}): "
            f"{self.subscribers} confirmed subscriber(s), {self.with_papers} would get a digest "
            f"with {self.papers} paper(s) in all; {self.topics} distinct topic(s) searched"
        )


def dry_run(period: Period) -> DryRun:
    """What a send would do, without writing or sending anything."""
    report = DryRun(period)
    run = DigestRun.objects.filter(frequency=period.frequency, period_start=period.start).first()
    if run:
        report.status = run.status
    if run and run.status != DigestRun.COMPOSING:
        # send() composes no more once a run is composed (see compose_run).
        report.composed = True
        report.joined_since = sum(len(page) for page in unsent_pages(period.frequency, run))
        counts = outbox.counts(run.pk)
        report.to_send = counts.get("pending", 0) + counts.get("sending", 0)
        return report
    composer = Composer(period, now=timezone.now())
    for batch in unsent_pages(period.frequency, run):
        composer.prepare(batch)
        sent = sent_before([s.pk for s in batch], composer.candidate_ids())
        for s in batch:
            digest = composer.digest(s, sent[s.pk])
            report.subscribers += 1
            report.with_papers += bool(digest.papers)
            report.papers += len(digest.papers)
    report.topics = len(composer.topics)
    return report
