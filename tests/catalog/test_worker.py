"""The parser worker process (paperroute.catalog.sources.worker), without a database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from paperroute.catalog.records import UnusableInput
from paperroute.catalog.sources import arxiv_oai
from paperroute.catalog.sources.worker import ParserProcess
from tests.conftest import ROOT, fixture_bytes

OAI_PAGE = "arxiv_oai_pmh/listrecords_arXiv_hep-th_no_token.xml"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (killed, not yet reaped by its parent) counts as gone.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def worker():
    process = ParserProcess("arxiv_oai")
    yield process
    process.close()


def test_the_worker_parses_as_the_harvest_would(worker):
    data = fixture_bytes(OAI_PAGE)
    assert worker.parse(data) == arxiv_oai.parse(data)
    assert worker.parse(data) == arxiv_oai.parse(data)  # and keeps going


def test_unusable_input_in_the_worker_is_unusable_input_here(worker):
    with pytest.raises(UnusableInput) as in_worker:
        worker.parse(b"<html><body>Service temporarily unavailable")
    with pytest.raises(UnusableInput) as here:
        arxiv_oai.parse(b"<html><body>Service temporarily unavailable")
    assert str(in_worker.value) == str(here.value)


def test_a_killed_worker_is_a_clear_error(worker):
    os.kill(worker._process.pid, signal.SIGKILL)
    with pytest.raises(RuntimeError, match=r"the parser process stopped \(exit code -9\)"):
        worker.parse(fixture_bytes(OAI_PAGE))


def test_the_worker_exits_when_the_harvest_is_killed():
    script = (
        "import sys, time\n"
        "from paperroute.catalog.sources.worker import ParserProcess\n"
        "worker = ParserProcess('arxiv_oai')\n"
        "print(worker._process.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    harvest = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        pid = int(harvest.stdout.readline())
        assert _alive(pid)
        harvest.send_signal(signal.SIGKILL)
        harvest.wait()
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid)
    finally:
        harvest.kill()
        harvest.wait()
        harvest.stdout.close()
