"""Several `paperroute digest send` processes at once on one period send nothing twice."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.db import connection

from paperroute.digest.models import DigestRun, Outbox
from tests.digest.conftest import day_papers
from tests.digest.measured import MEASURED
from tests.digest.test_crash import add_subscribers, send_command

SUBSCRIBERS = 1500
PROCESSES = 3


@pytest.mark.slow
def test_concurrent_senders_share_the_work_and_send_each_digest_once(cli_env, sink):
    day_papers(6)
    add_subscribers(SUBSCRIBERS)
    env = {
        **cli_env,
        "PAPERROUTE_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
        "PAPERROUTE_FROM_EMAIL": "digest@papers.example.org",
        "PAPERROUTE_DIGEST_CONCURRENCY": "2",
    }
    processes = [send_command(env) for _ in range(PROCESSES)]
    outputs = [p.communicate(timeout=600) for p in processes]
    assert [p.returncode for p in processes] == [0] * PROCESSES, [e.decode() for _, e in outputs]

    by_process = [int(re.search(rb"\((\d+) by this process\)", out).group(1)) for out, _ in outputs]
    assert sum(by_process) == SUBSCRIBERS
    assert sum(1 for n in by_process if n) >= 2  # they really did send at the same time

    copies = Counter(m.message_id for m in sink.accepted)
    assert len(copies) == SUBSCRIBERS and set(copies.values()) == {1}
    assert len({m.to for m in sink.accepted}) == SUBSCRIBERS
    assert Outbox.objects.filter(status=Outbox.SENT).count() == SUBSCRIBERS
    assert DigestRun.objects.get().status == DigestRun.COMPLETE
    MEASURED.append(
        f"concurrency test ({connection.vendor}): {PROCESSES} senders x 2 connections "
        f"sent {by_process} of {SUBSCRIBERS} digests, none twice"
    )


@pytest.mark.django_db(transaction=True)
def test_a_slow_sender_keeps_its_claims_and_a_second_one_sends_nothing_twice(smtp, settings):
    """A rate-limited connection's lease used to run out while it still held untried rows: a
    second sender (another host's worker, a cron `digest send`) took them, and both sent them."""
    import threading
    import time

    from paperroute.digest import runs
    from paperroute.digest.periods import daily
    from paperroute.digest.sender import send_pass
    from paperroute.digest.smtp import messenger_factory
    from tests.digest.conftest import DAY, config, subscriber

    config(settings, digest_concurrency=1, digest_lease_seconds=1)
    day_papers(3)
    for number in range(6):
        subscriber(f"reader{number}@example.org")
    run = runs.get_run(daily(DAY))
    runs.compose_run(run)
    slow = threading.Thread(
        target=lambda: send_pass(
            run.pk, messenger_factory=messenger_factory(), concurrency=1, rate="2/second"
        )
    )
    slow.start()
    time.sleep(1.3)  # past the first lease of the slow sender's batch
    send_pass(run.pk, messenger_factory=messenger_factory(), concurrency=1, rate="")
    slow.join(20)
    copies = Counter(m.message_id for m in smtp.accepted)
    assert len(copies) == 6 and set(copies.values()) == {1}, copies
