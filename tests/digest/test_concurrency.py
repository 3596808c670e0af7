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
