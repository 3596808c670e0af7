"""A real `paperroute digest send` killed (SIGKILL) at 20 random points, then run to the end.

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

# Enough that every kill lands while work remains (the test checks that it did), and no more: the
# 20 kills send a few hundred to a couple of thousand (many land before their sender has sent
# anything), and the final run sends the rest, which with 8000 was much of the test's minute.
SUBSCRIBERS = 4000
KILLS = 20


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
        process = send_command(env)
        delay = rng.uniform(0.5, 3.0)
        time.sleep(delay)
        finished = process.poll() is not None
        process.kill()
        process.wait()
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
                "delay": round(delay, 2),
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
        f"crash test ({connection.vendor}, seed {seed}): {KILLS} kills after 0.5-3.0 s "
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
    # Every kill landed while work remained: none found the run done, and the final run sent some.
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
