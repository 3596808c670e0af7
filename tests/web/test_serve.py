"""`paperroute demo` loads the sample once, and `paperroute serve` serves it with gunicorn."""

import contextlib
import html
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from paperroute.catalog.models import Paper
from tests.conftest import ROOT, stop_server
from tests.support import children_in_role, free_port

pytestmark = pytest.mark.slow


def test_demo_loads_once_and_the_server_shows_the_papers(cli, cli_env):
    first = cli("demo", "--no-serve")
    assert first.returncode == 0, first.stderr
    assert "arxiv-rss: 1504 records: 1504 new" in first.stdout.decode()
    count = Paper.objects.count()
    second = cli("demo", "--no-serve")
    out = second.stdout.decode()
    assert "0 new, 0 updated, 1504 unchanged" in out and "0 new, 0 updated, 45 unchanged" in out
    assert Paper.objects.count() == count

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "paperroute", "serve", "--port", str(port), "--workers", "1"],
        cwd=ROOT,
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    page = response.read().decode()
                    server_header = response.headers.get("Server", "")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
    finally:
        stop_server(server, group=True)  # as systemd stops the unit: every process at once
    log = server.stdout.read().decode()
    # The query service says how it runs (its lines were lost: its logger was "__main__"), and
    # a stop is no error (every stop logged "the query service exited with status -15").
    assert "INFO serve: the query service listens on" in log, log
    assert " ERROR " not in log, log
    assert "gunicorn" in server_header.lower()
    top = Paper.objects.filter(listed_on__isnull=False).order_by("-listed_on", "-hf_upvotes").first()
    assert html.escape(top.title) in page


def _gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                if handle.read().split(")")[-1].split()[0] == "Z":  # exited, not yet reaped
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; PR_SET_PDEATHSIG is Linux's")
def test_the_worker_never_outlives_the_server(cli_env):
    """A worker left running after its server kept database sessions open, so PostgreSQL could
    not drop the database ("1 other session"): stopped or killed, the server takes it along, and
    its query service too."""
    for stop in (signal.SIGTERM, signal.SIGKILL):
        server = subprocess.Popen(
            [sys.executable, "-m", "paperroute", "serve", "--port", str(free_port()), "--workers", "1"],
            cwd=ROOT,
            env=cli_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        web: list[int] = []
        try:
            deadline = time.monotonic() + 30
            while not (workers := children_in_role(server.pid, "worker")) or not children_in_role(
                server.pid, "query service"
            ):
                assert time.monotonic() < deadline and server.poll() is None, "no worker started"
                time.sleep(0.2)
            (service,) = children_in_role(server.pid, "query service")
            web = children_in_role(server.pid, "web")
            server.send_signal(stop)
            server.wait(timeout=30)
            assert _gone(workers[0], timeout=20), f"the worker outlived the server ({stop.name})"
            assert _gone(service, timeout=20), f"the query service outlived the server ({stop.name})"
        finally:
            for pid in web:  # gunicorn's own web processes, orphaned by the SIGKILL
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            stop_server(server)  # and wait for their database sessions to end


def test_the_worker_stops_on_sigterm_however_many_arrive(cli_env):
    """The handler once took the stop event's lock; a signal arriving inside its wait (or a
    second signal inside the first) deadlocked the worker, which then ignored SIGTERM. Later, a
    signal arriving while the interpreter shut down killed it with -15 instead of exit 0."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "paperroute", "worker"],
        cwd=ROOT,
        env=cli_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        started = b""
        while b"worker started" not in started:
            line = worker.stderr.readline()
            assert line, "the worker exited before it started"
            started += line
        time.sleep(1)  # into its wait between ticks
        # Signals until it has gone: they land inside the handling of the ones before, and in
        # its shutdown, where Python puts back the default handler that would kill it (-15).
        deadline = time.monotonic() + 20
        while worker.poll() is None and time.monotonic() < deadline:
            worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=1) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait()
        worker.stderr.close()
