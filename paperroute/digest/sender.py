"""Sending a run's outbox: several SMTP connections at once, a rate limit, retries, suppression.

Policy (listmonk's issue tracker shows what goes wrong without one):
- 4xx replies and connection errors defer the message by PAPERROUTE_DIGEST_RETRY_SCHEDULE; after
  the last retry it counts as failed. A connection error, a 421 or a refused sender stops the
  whole pass, because every other message would fail the same way: the untried messages go
  back, due at the same time, and are not counted as attempts.
- A 5xx reply about the recipient fails the message and counts towards suppressing the address
  (PAPERROUTE_DIGEST_SUPPRESS_AFTER permanent failures in a row).
- A run is complete only when none of its messages is pending or being sent; a throttled or
  deferred run stays open, and the next `digest send` or the worker carries on with it.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from paperroute import stopping
from paperroute.conf import parse_rate
from paperroute.digest import outbox, subscriptions
from paperroute.digest.messages import sender_address
from paperroute.digest.models import Bounce, Subscriber
from paperroute.digest.smtp import Messenger, PermanentFailure, TemporaryFailure

log = logging.getLogger(__name__)
BATCH = 25  # rows a connection claims at a time: small, so that the end of a run stays parallel


class RateLimiter:
    """At most `count` messages per `period` seconds, spaced evenly, across all threads."""

    def __init__(self, rate: str) -> None:
        self.interval = 0.0
        if rate:
            count, period = parse_rate(rate)
            self.interval = period / count if count else float("inf")
        self.next_slot = time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            slot = max(self.next_slot, now)
            self.next_slot = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


@dataclass
class PassReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0
    errors: list[str] = field(default_factory=list)
    stopped: str = ""  # why the pass stopped early (a connection-level failure)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __getstate__(self) -> dict:
        # The sending process sends its report to the composing one (see sendproc); a lock
        # cannot travel, and the receiver gets a new one.
        return {name: value for name, value in self.__dict__.items() if name != "lock"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, lock=threading.Lock())

    def add(self, name: str, error: str = "") -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)
            if error and len(self.errors) < 20:
                self.errors.append(error)


def send_pass(
    run_id: int,
    *,
    messenger_factory: Callable[[], Messenger],
    concurrency: int | None = None,
    rate: str | None = None,
) -> PassReport:
    """Send every message of a run that is due now; returns what happened."""
    config = settings.CONFIG
    concurrency = max(1, concurrency or config.digest_concurrency)
    limiter = RateLimiter(config.digest_rate if rate is None else rate)
    report = PassReport()
    stop = threading.Event()
    outbox.release_abandoned(run_id, timezone.now())
    args = (run_id, messenger_factory, limiter, report, stop)
    if concurrency == 1:
        _connection_loop(*args, own_db=False)
        return report
    threads = [
        threading.Thread(
            target=_connection_loop, args=args, kwargs={"own_db": True}, name=f"digest-send-{i}", daemon=True
        )
        for i in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return report


def _connection_loop(run_id, messenger_factory, limiter, report: PassReport, stop, *, own_db: bool):
    """One SMTP connection's share of the work."""
    config = settings.CONFIG
    schedule, lease = list(config.digest_retry_schedule), config.digest_lease_seconds
    worker, sender = outbox.worker_id(), sender_address()
    messenger = messenger_factory()
    try:
        while not stop.is_set() and not stopping.requested():
            claimed = timezone.now()
            rows = outbox.claim(run_id, worker, BATCH, claimed, lease)
            if not rows:
                break
            mine, renew_at = {row.pk for row in rows}, claimed + timedelta(seconds=lease / 2)
            for index, row in enumerate(rows):
                # Asked to stop (SIGTERM, Ctrl-C): after the message on hand; the rest go back.
                if stop.is_set() or stopping.requested():
                    outbox.release(rows[index:], worker, timezone.now())
                    break
                if row.subscriber.status != Subscriber.CONFIRMED:
                    outbox.skip(row, f"not sent: the subscription is {row.subscriber.status}")
                    report.add("skipped")
                    continue
                limiter.wait()
                if timezone.now() >= renew_at:
                    # Half the lease gone (a low PAPERROUTE_DIGEST_RATE): keep the rest of the batch,
                    # or leave to another sender what it has taken since the lease ran out.
                    mine = outbox.renew(rows[index:], worker, timezone.now(), lease)
                    renew_at = timezone.now() + timedelta(seconds=lease / 2)
                if row.pk not in mine:
                    continue
                try:
                    messenger.send(sender, row.email, zlib.decompress(row.message))
                except PermanentFailure as exc:
                    outbox.fail(row, str(exc))
                    subscriptions.record_permanent_failure(row.subscriber.email_key, Bounce.SMTP, str(exc))
                    report.add("failed", f"{row.email}: {exc}")
                except TemporaryFailure as exc:
                    when = outbox.defer(row, str(exc), timezone.now(), schedule)
                    report.add("deferred" if when else "failed", f"{row.email}: {exc}")
                    if exc.connection:
                        stop.set()
                        report.stopped = str(exc)
                        outbox.release(rows[index + 1 :], worker, when or timezone.now())
                        break
                except Exception as exc:
                    # Something no one foresaw: the message waits for a retry, and this connection
                    # goes on, rather than die holding its claimed rows until their lease ends.
                    log.exception("sending the digest to %s failed", row.email)
                    when = outbox.defer(row, f"{exc.__class__.__name__}: {exc}", timezone.now(), schedule)
                    report.add("deferred" if when else "failed", f"{row.email}: {exc}")
                else:
                    outbox.mark_sent(row, worker, timezone.now())
                    if row.subscriber.permanent_failures:
                        subscriptions.record_delivery(row.subscriber_id)
                    report.add("sent")
    finally:
        messenger.close()
        if own_db:
            connection.close()  # each thread has its own; leaving it open leaks it
