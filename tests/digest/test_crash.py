"""A real `paperroute digest send` killed (SIGKILL) at 20 random points of its work, then run to
the end.

Every subscriber must end with exactly one digest for the period. The one exception the design
allows is the message a killed sender had handed to the SMTP server but not yet marked as sent
(one per connection; this test uses one connection). The test measures how often a kill lands
in that window, checks that every extra copy the server received is such a message, and prints
the figures.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections import Counter

import pytest
from django.db import connection

from paperroute.digest.models import DigestRun, Outbox, Subscriber
from paperroute.digest.subscriptions import new_token
from tests.conftest import ROOT
from tests.digest.conftest import DAY, day_papers
from tests.digest.measured import MEASURED
from tests.support import children, running, wait_until

# Each kill waits for its sender to have sent a random number of messages, up to MOST_PER_KILL
# (or, for 0, to have composed or sent anything at all), rather than for a random time: on a busy
# machine a sender took longer than the 0.5-3 s to start, and every kill landed before it had done
# anything. Counting bounds what the kills send: the target, and what the sending process sends
# before it sees its parent gone (up to 33 more per kill in the runs measured), a few hundred in
# all. So 1500 subscribers leave the final run work whatever the machine's speed (the test checks
# that they did); 4000 made the final send much of the test's minute.
SUBSCRIBERS = 1500
KILLS = 20
MOST_PER_KILL = 20


def send_command(env):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "paperroute",
            "digest",
            "send",
            "--period",
            "daily",
            "--date",
            DAY.isoformat(),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def work_done(process, sink, sent_before: int, composed_before: int, target: int) -> int:
    """Wait until the sender has sent `target` messages since it started (for 0: composed or sent
    anything), or has ended; return how many it has sent."""
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        sent = len(sink.accepted) - sent_before
        if sent >= max(target, 1) or (target == 0 and Outbox.objects.count() > composed_before):
            return sent
        time.sleep(0.01)
    return len(sink.accepted) - sent_before


def descendants(pid: int) -> list[int]:
    """A process's children, theirs, and so on (the sending process, and a forkserver's)."""
    return [found for child in children(pid) for found in (child, *descendants(child))]


def kill_sender(process) -> None:
    """SIGKILL the sender, then wait for the sending process it started, which sees its parent
    gone and ends by itself (sendproc), but may hand a few more messages to the server first and
    mark them sent: counted before it ended, those looked caught in flight, and were not sent
    again."""
    senders = descendants(process.pid)
    process.kill()
    process.wait()
    wait_until(lambda: not any(running(pid) for pid in senders), 30, "the killed sender's children to end")


def add_subscribers(count: int) -> None:
    Subscriber.objects.bulk_create(
        [
            Subscriber(
                email=f"reader{i}@example.org",
                email_key=f"reader{i}@example.org",
                status=Subscriber.CONFIRMED,
                token=new_token(),
                max_papers=5,
            )
            for i in range(count)
        ]
    )


@pytest.mark.slow
def test_killed_sends_leave_every_subscriber_with_one_digest(cli_env, sink):
    day_papers(6)
    add_subscribers(SUBSCRIBERS)
    # One connection at full speed: enough subscribers that every kill lands while work remains,
    # and no rate limit, so the share of kills that catch a message in flight is the real one.
    env = {
        **cli_env,
        "PAPERROUTE_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
        "PAPERROUTE_FROM_EMAIL": "digest@papers.example.org",
        "PAPERROUTE_DIGEST_CONCURRENCY": "1",
    }
    seed = int(os.environ.get("PAPERROUTE_CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    kills = []
    for number in range(KILLS):
        before = len(sink.accepted)
        composed = Outbox.objects.count()
        process, started = send_command(env), time.monotonic()
        target = rng.randint(0, MOST_PER_KILL)
        sent_at_kill = work_done(process, sink, before, composed, target)
        finished = process.poll() is not None
        kill_sender(process)
        time.sleep(0.3)  # let the server finish a message whose last byte was already sent
        accepted = {m.message_id for m in sink.accepted[before:]}
        # Accepted by the server from this process, yet still claimed and not marked sent: the
        # message in flight, which the next run will send again. (A message an earlier kill
        # caught and no run has resent since is not caught again.)
        in_flight = [
            mid
            for mid in Outbox.objects.filter(status=Outbox.SENDING).values_list("message_id", flat=True)
            if mid in accepted
        ]
        run = DigestRun.objects.first()
        kills.append(
            {
                "number": number,
                "target": target,
                "sent_at_kill": sent_at_kill,
                "seconds": round(time.monotonic() - started, 2),
                "began": sent_at_kill > 0 or Outbox.objects.count() > composed,
                "finished": finished,
                "sent_meanwhile": len(sink.accepted) - before,
                # A sender sends what is composed while it composes the rest.
                "phase": {
                    None: "starting",
                    "composing": "composing and sending",
                    "sending": "sending",
                    "complete": "done",
                }[run and run.status],
                "in_flight": len(in_flight),
                "in_flight_ids": in_flight,
            }
        )

    after_kills = len(sink.accepted)
    final = send_command(env)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err.decode()
    assert b"run complete" in out

    per_address = Counter(m.to for m in sink.accepted)
    ids_per_address = {}
    for message in sink.accepted:
        ids_per_address.setdefault(message.to, set()).add(message.message_id)
    copies = sink.per_message_id()
    duplicates = {mid: n for mid, n in copies.items() if n > 1}
    landed_in_flight = sum(1 for k in kills if k["in_flight"])
    phases = Counter(k["phase"] for k in kills)
    summary = (
        f"crash test ({connection.vendor}, seed {seed}): {KILLS} kills after 0-{MOST_PER_KILL} messages sent "
        f"({', '.join(f'{n} while {p}' for p, n in sorted(phases.items()))}); "
        f"{landed_in_flight} of {KILLS} kills ({100 * landed_in_flight / KILLS:.0f}%) caught a "
        f"message in flight, and {sum(n - 1 for n in duplicates.values())} extra copies reached "
        f"the server; {len(per_address)} subscribers, {len(sink.accepted)} messages accepted"
    )
    MEASURED.append(summary)
    print("\n" + summary)
    for kill in kills:
        print("  kill", kill)

    assert len(per_address) == SUBSCRIBERS  # nobody was left out
    # Every kill landed mid-way: after its sender had begun and sent what it was to send, and
    # while work remained (none found the run done, and the final run sent some).
    assert all(k["began"] and k["sent_at_kill"] >= k["target"] for k in kills)
    assert not any(k["finished"] for k in kills) and phases["done"] == 0
    assert len(sink.accepted) > after_kills
    assert all(len(ids) == 1 for ids in ids_per_address.values())  # one digest each, by Message-ID
    assert Outbox.objects.filter(status=Outbox.SENT).count() == SUBSCRIBERS
    assert DigestRun.objects.get().status == DigestRun.COMPLETE
    # The design's one exception: per kill, at most the one message in flight on its connection,
    # and every extra copy is one that a kill caught in flight.
    assert all(k["in_flight"] <= 1 for k in kills)
    caught = Counter(mid for k in kills for mid in k["in_flight_ids"])
    assert {mid: n - 1 for mid, n in duplicates.items()} == dict(caught)
