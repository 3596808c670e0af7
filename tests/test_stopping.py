"""SIGTERM and Ctrl-C stop the worker and the long commands at their next batch, and a new run
resumes: systemd kills a unit 90 s after its SIGTERM, and a worker that embedded for an hour
ran into that kill on every stop."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paperroute.demo import HERE as DEMO_DIR
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

# A round of embedding (indexer.EMBED_CHUNK, 5-20 s on two cores) and a little more: the stop
# comes once the first round is stored.
PAPERS = 80


@pytest.fixture
def unembedded(cli, cli_env, tmp_path) -> int:
    """A catalogue whose papers all need the model: titles the shipped vectors do not cover."""
    seeds = [json.loads(line) for line in (DEMO_DIR / "seed-papers.jsonl").read_text().splitlines()]
    lines = [
        json.dumps({**seed, "title": f"{seed['title']} (part {i})"})
        for i, seed in ((i, seeds[i % len(seeds)]) for i in range(PAPERS))
    ]
    path = tmp_path / "papers.jsonl"
    path.write_text("\n".join(lines) + "\n")
    done = cli("ingest", "jsonl", str(path), "--quiet")  # keywords only (cli_env)
    assert done.returncode == 0, done.stderr.decode()
    shutil.rmtree(Path(cli_env["PAPERROUTE_DATA_DIR"]) / "search")  # a worker syncs a missing index at once
    return PAPERS


def _vectors() -> int:
    from paperroute.search.models import PaperVector

    return PaperVector.objects.count()


def _start(cli_env, *args: str, **options) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "paperroute", *args],
        cwd=ROOT,
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **options,
    )


def _once_some_are_embedded(process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while _vectors() == 0:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "nothing was embedded"
        time.sleep(0.1)


def _stop(process: subprocess.Popen, timeout: float) -> tuple[int, str, float]:
    """SIGTERM, as systemd stops a unit; the exit status, standard error and the seconds taken."""
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        _, errors = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"still running {timeout} s after SIGTERM")
    return process.returncode, errors, time.monotonic() - began


def _embedded_by(log: str) -> int:
    return sum(int(n) for n in re.findall(r"(\d+) embedded", log))


def test_a_stopped_worker_exits_at_once_and_the_next_one_embeds_the_rest(cli_env, unembedded):
    worker = _start(cli_env, "worker")
    _once_some_are_embedded(worker)
    code, log, seconds = _stop(worker, timeout=30)
    assert code == 0, log
    assert seconds < 10, f"took {seconds:.1f} s to stop"
    left = re.search(r"stopping: search index sync cut short, (\d+) papers left to embed", log)
    assert left, log
    first = _vectors()
    assert first < unembedded, "it embedded everything before stopping"
    assert int(left.group(1)) == unembedded - first

    again = _start(cli_env, "worker")
    deadline = time.monotonic() + 90
    while _vectors() < unembedded:
        assert again.poll() is None, again.communicate()
        assert time.monotonic() < deadline, f"{_vectors()} of {unembedded} embedded"
        time.sleep(0.2)
    time.sleep(0.5)  # its sync line
    code, log, _ = _stop(again, timeout=30)
    assert code == 0, log
    # Each paper embedded once: the second worker made exactly the vectors the first one left.
    assert _embedded_by(log) == unembedded - first, log
    assert _vectors() == unembedded


def test_index_sync_stops_at_its_next_batch_and_says_so(cli, cli_env, unembedded):
    sync = _start(cli_env, "index", "sync", "--quiet")
    _once_some_are_embedded(sync)
    code, errors, seconds = _stop(sync, timeout=30)
    assert code == 128 + signal.SIGTERM, errors
    assert seconds < 10, f"took {seconds:.1f} s to stop"
    first = _vectors()
    assert 0 < first < unembedded
    assert f"{unembedded - first} waiting to be embedded" in errors, errors
    assert "stopping: search index" in errors and "the next sync embeds the rest" in errors, errors

    done = cli("index", "sync", "--quiet")
    assert done.returncode == 0, done.stderr.decode()
    assert _embedded_by(done.stderr.decode()) == unembedded - first
    assert _vectors() == unembedded


def test_a_stopped_harvest_resumes_from_its_checkpoint(cli_env):
    from bench.oai_synth import pages
    from paperroute.catalog.models import HarvestCheckpoint, Paper
    from tests.replay import ReplayServer, Reply

    replies = pages(1500, 300, seed=5)

    def respond(path, params):
        token = params.get("resumptionToken")
        return Reply(replies[int(token.split("|")[1]) // 300 if token else 0])

    with ReplayServer(respond) as server:
        command = ["ingest", "arxiv-oai", server.url + "/oai", "--quiet"]
        env = {**cli_env, "PAPERROUTE_ARXIV_DELAY": "1"}  # five pages: five seconds at least
        harvest = _start(env, *command)
        deadline = time.monotonic() + 60
        while not Paper.objects.exists():
            assert harvest.poll() is None and time.monotonic() < deadline, harvest.communicate()
            time.sleep(0.05)
        code, errors, seconds = _stop(harvest, timeout=30)
        assert code == 128 + signal.SIGTERM, errors
        assert seconds < 10, f"took {seconds:.1f} s to stop"
        checkpoint = HarvestCheckpoint.objects.get()
        assert not checkpoint.finished
        assert f"stopped by SIGTERM after page {checkpoint.pages}; the next run resumes" in errors
        assert Paper.objects.count() == checkpoint.pages * 300 < 1500

        again = _start(env, *command)
        out, errors = again.communicate(timeout=120)
        assert again.returncode == 0, errors
        assert f"resuming the interrupted harvest after page {checkpoint.pages}" in errors
    assert Paper.objects.count() == 1500


@pytest.mark.parametrize("group", [True, False], ids=["unit", "command"])
def test_a_stopped_digest_send_hands_back_its_messages_and_the_next_one_sends_them_once(cli_env, group):
    """A stop ends after the message on hand: none is left sent but not marked, to go out twice.
    SIGTERM reaches the command and the process sending beside it (as systemd stops a unit), or
    the command alone (`kill`, `timeout`), which then stops the sending process itself."""
    from collections import Counter

    from paperroute.digest.models import DigestRun, Outbox
    from tests.digest.conftest import DAY, day_papers
    from tests.digest.test_crash import add_subscribers
    from tests.support import smtp_server

    subscribers = 300
    day_papers(6)
    add_subscribers(subscribers)
    with smtp_server() as sink:
        env = {
            **cli_env,
            "PAPERROUTE_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
            "PAPERROUTE_FROM_EMAIL": "digest@papers.example.org",
            "PAPERROUTE_DIGEST_RATE": "50/second",  # six seconds in all
        }
        command = ["digest", "send", "--period", "daily", "--date", DAY.isoformat()]
        send = _start(env, *command, start_new_session=True)
        deadline = time.monotonic() + 60
        while len(sink.accepted) < 20:
            assert send.poll() is None and time.monotonic() < deadline, send.communicate()
            time.sleep(0.02)
        began = time.monotonic()
        if group:
            os.killpg(send.pid, signal.SIGTERM)
        else:
            send.send_signal(signal.SIGTERM)
        out, errors = send.communicate(timeout=30)
        assert time.monotonic() - began < 10
        assert send.returncode == 128 + signal.SIGTERM, errors
        assert "stopping:" in errors and "run still open" in out, (out, errors)
        time.sleep(0.3)  # a message whose last byte was sent
        sent = len(sink.accepted)
        assert sent < subscribers
        assert not Outbox.objects.filter(status=Outbox.SENDING).exists()  # every claim handed back
        assert Outbox.objects.filter(status=Outbox.SENT).count() == sent

        again = subprocess.run(
            [sys.executable, "-m", "paperroute", *command], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert again.returncode == 0, again.stderr
        assert "run complete" in again.stdout
    assert DigestRun.objects.get().status == DigestRun.COMPLETE
    copies = Counter(m.message_id for m in sink.accepted)
    assert len(copies) == subscribers and set(copies.values()) == {1}
