"""`paperroute digest send` sends from a process of its own while it composes (digest.sendproc).

The process is started with multiprocessing's default start method, which differs by platform
and Python version: fork here, spawn on macOS, forkserver on Linux from Python 3.14. Each one
must work, and the sender must never outlive the composer.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from paperroute.digest.models import DigestRun, Outbox
from tests.conftest import ROOT
from tests.digest.conftest import DAY, day_papers, subscriber
from tests.digest.test_crash import add_subscribers
from tests.support import children, running, wait_until

pytestmark = pytest.mark.slow

# `paperroute ARGS…` with another start method than the platform's default.
WITH_START_METHOD = (
    "import multiprocessing, runpy, sys; multiprocessing.set_start_method(sys.argv[1]); "
    "sys.argv = ['paperroute', *sys.argv[2:]]; runpy.run_module('paperroute', run_name='__main__')"
)


@pytest.fixture
def mail_env(cli_env, sink):
    return {
        **cli_env,
        "PAPERROUTE_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
        "PAPERROUTE_FROM_EMAIL": "digest@papers.example.org",
    }


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_the_sending_process_starts_with_every_start_method(mail_env, sink, method):
    day_papers(3)
    for name in ("ada", "bob", "cy"):
        subscriber(f"{name}@example.org")
    command = subprocess.Popen(
        [sys.executable, "-c", WITH_START_METHOD, method, "digest", "send", "--date", DAY.isoformat()],
        cwd=ROOT,
        env=mail_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = command.communicate(timeout=180)
    assert command.returncode == 0, err.decode()
    assert b"3 sent (3 by this process)" in out and b"run complete" in out
    assert sorted(m.to for m in sink.accepted) == ["ada@example.org", "bob@example.org", "cy@example.org"]
    # The sending process sent them (it waits for what is composed, so it sends everything
    # here), and it was not the composing one.
    claimers = set(Outbox.objects.values_list("claimed_by", flat=True))
    assert len(claimers) == 1 and claimers.pop().split(":")[1] != str(command.pid)
    assert b"Traceback" not in err


def test_the_sending_process_ends_with_a_killed_composer(mail_env, sink):
    """A SIGKILL leaves no sender behind waiting for a run that nobody composes anymore."""
    day_papers(6)
    add_subscribers(3000)
    command = subprocess.Popen(
        [sys.executable, "-m", "paperroute", "digest", "send", "--date", DAY.isoformat()],
        cwd=ROOT,
        env={**mail_env, "PAPERROUTE_DIGEST_CONCURRENCY": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    senders: list[int] = []
    try:
        # Sending, and still composing.
        wait_until(lambda: sink.accepted, 120, "a first message")
        senders = children(command.pid)
        assert len(senders) == 1, senders
        assert DigestRun.objects.get().status == DigestRun.COMPOSING
        command.send_signal(signal.SIGKILL)
        command.wait()
        wait_until(lambda: not running(senders[0]), 10, "the sender to end with the composer")
    finally:
        command.kill()
        command.wait()
        for pid in senders:  # never left to hold the test database open
            if running(pid):
                os.kill(pid, signal.SIGKILL)
