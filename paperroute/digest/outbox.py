"""The outbox: claiming messages to send, and recording what became of them.

A message is claimed (pending -> sending, with this process's id and a lease) in a short
transaction before it is handed to SMTP, and marked sent in another right after the server
accepts it. On PostgreSQL the claim is `SELECT … FOR UPDATE SKIP LOCKED`, so several senders
take disjoint rows without waiting for each other; on SQLite the transaction is BEGIN IMMEDIATE
(see settings), which serialises claims, and the conditional UPDATE … WHERE status='pending'
makes a row go to one claimer only on either database.

A sender that dies leaves its rows in `sending`. Rows claimed by a dead process on this host
are released at once; rows of another host's process when their lease runs out. The one
message a process had handed to SMTP when it died may then go out again: that is the only
duplicate this design allows, one per SMTP connection, and the crash test measures it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, F, Min

from paperroute.digest.models import Outbox, SentPaper


def _host() -> str:
    """This machine's name in claims: its hostname, and the boot and process namespace it runs
    in. Two containers or cloned VMs may share a hostname; by name alone one took the other's
    live pids for dead ones, released its claims, and its subscribers got their digests twice."""
    place = []
    for path in ("/proc/sys/kernel/random/boot_id", "/proc/self/ns/pid"):
        try:
            if path.endswith("/pid"):
                place.append(os.readlink(path))
            else:
                with open(path) as handle:
                    place.append(handle.read().strip())
        except OSError:
            place.append("")
    return f"{socket.gethostname()}~{hashlib.sha256('|'.join(place).encode()).hexdigest()[:12]}"


HOST = _host()
_WORKER = f"{HOST}:{os.getpid()}:{secrets.token_hex(4)}"
OPEN = (Outbox.PENDING, Outbox.SENDING)


def worker_id() -> str:
    """This process's name in claims: host, pid and a nonce (so a reused pid is not mistaken)."""
    global _WORKER
    if _WORKER.split(":")[1] != str(os.getpid()):  # forked since
        _WORKER = f"{HOST}:{os.getpid()}:{secrets.token_hex(4)}"
    return _WORKER


def alive(claimer: str) -> bool:
    """Whether the process named in a claim may still be working; unknown hosts count as alive."""
    host, _, rest = claimer.partition(":")
    pid = rest.partition(":")[0]
    # A claim an older paperroute made names the hostname alone: it may be another container's
    # of the same name, so it waits for its lease (once, after an upgrade).
    if host != HOST or not (pid.isascii() and pid.isdigit()):
        return True
    if claimer == worker_id():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A live pid may belong to a new process; its /proc start time cannot tell us which claim
    # it made, so only a dead pid releases at once and a reused one waits for the lease.
    return _not_zombie(int(pid))


def _not_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def release_abandoned(run_id: int, now: datetime) -> int:
    """Put back rows whose claimer died or whose lease ran out; returns how many."""
    released = Outbox.objects.filter(run_id=run_id, status=Outbox.SENDING, lease_until__lt=now).update(
        status=Outbox.PENDING, claimed_by="", lease_until=None
    )
    claimers = set(
        Outbox.objects.filter(run_id=run_id, status=Outbox.SENDING)
        .values_list("claimed_by", flat=True)
        .distinct()
    )
    for claimer in claimers:
        if not alive(claimer):
            released += Outbox.objects.filter(
                run_id=run_id, status=Outbox.SENDING, claimed_by=claimer
            ).update(status=Outbox.PENDING, claimed_by="", lease_until=None)
    return released


def claim(run_id: int, worker: str, limit: int, now: datetime, lease_seconds: int) -> list[Outbox]:
    """Up to `limit` due messages of a run, now reserved for `worker`."""
    with transaction.atomic():
        due = Outbox.objects.filter(run_id=run_id, status=Outbox.PENDING, next_attempt_at__lte=now).order_by(
            "id"
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("id", flat=True)[:limit])
        if not ids:
            return []
        Outbox.objects.filter(id__in=ids, status=Outbox.PENDING).update(
            status=Outbox.SENDING,
            claimed_by=worker,
            attempts=F("attempts") + 1,
            lease_until=now + timedelta(seconds=lease_seconds),
        )
    return list(
        Outbox.objects.filter(id__in=ids, status=Outbox.SENDING, claimed_by=worker)
        .select_related("subscriber")
        .order_by("id")
    )


def mark_sent(row: Outbox, worker: str, now: datetime) -> None:
    """Record a delivery the moment the server accepted it (one short transaction)."""
    # Plain SQL: it runs once per message, and the ORM's query building was half its cost.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Outbox._meta.db_table} SET status = %s, sent_at = %s, lease_until = NULL, "
            "last_error = '' WHERE id = %s AND claimed_by = %s AND status = %s",
            [Outbox.SENT, now, row.pk, worker, Outbox.SENDING],
        )


def skip(row: Outbox, reason: str) -> None:
    """Do not send (the subscriber unsubscribed or paused since composing)."""
    with transaction.atomic():
        Outbox.objects.filter(pk=row.pk).update(status=Outbox.SKIPPED, lease_until=None, last_error=reason)
        SentPaper.objects.filter(outbox_id=row.pk).delete()  # they may go in a later digest


def fail(row: Outbox, error: str) -> None:
    """Give up on a message; its papers may appear in a later digest."""
    with transaction.atomic():
        Outbox.objects.filter(pk=row.pk).update(
            status=Outbox.FAILED, lease_until=None, last_error=error[:2000]
        )
        SentPaper.objects.filter(outbox_id=row.pk).delete()


def defer(row: Outbox, error: str, now: datetime, schedule: list[int]) -> datetime | None:
    """Schedule a retry after a temporary failure; None when retries are used up (failed)."""
    attempts = Outbox.objects.filter(pk=row.pk).values_list("attempts", flat=True).first() or 1
    if attempts > len(schedule):
        fail(row, f"gave up after {attempts} attempts; last error: {error}")
        return None
    when = now + timedelta(seconds=schedule[attempts - 1])
    Outbox.objects.filter(pk=row.pk).update(
        status=Outbox.PENDING, claimed_by="", lease_until=None, next_attempt_at=when, last_error=error[:2000]
    )
    return when


def renew(rows: list[Outbox], worker: str, now: datetime, lease_seconds: int) -> set[int]:
    """Extend the lease of claimed rows not yet tried; the ids still this worker's.

    A row whose lease ran out (a slow, rate-limited connection) may have been released and
    claimed by another sender since: that one sends it, and this one must not."""
    ids = [r.pk for r in rows]
    Outbox.objects.filter(pk__in=ids, claimed_by=worker, status=Outbox.SENDING).update(
        lease_until=now + timedelta(seconds=lease_seconds)
    )
    return set(
        Outbox.objects.filter(pk__in=ids, claimed_by=worker, status=Outbox.SENDING).values_list(
            "pk", flat=True
        )
    )


def release(rows: list[Outbox], worker: str, when: datetime) -> None:
    """Hand back claimed rows that were not tried, due again at `when`."""
    if rows:
        Outbox.objects.filter(pk__in=[r.pk for r in rows], claimed_by=worker, status=Outbox.SENDING).update(
            status=Outbox.PENDING,
            claimed_by="",
            lease_until=None,
            next_attempt_at=when,
            attempts=F("attempts") - 1,
        )


def open_count(run_id: int) -> int:
    return Outbox.objects.filter(run_id=run_id, status__in=OPEN).count()


def next_due(run_id: int) -> datetime | None:
    """When the earliest pending message of a run may be tried."""
    return Outbox.objects.filter(run_id=run_id, status=Outbox.PENDING).aggregate(m=Min("next_attempt_at"))[
        "m"
    ]


def counts(run_id: int) -> dict[str, int]:
    """How many messages of a run are in each status."""
    return dict(Outbox.objects.filter(run_id=run_id).order_by().values_list("status").annotate(n=Count("id")))
