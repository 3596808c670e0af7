"""A harvest killed at random moments, then run again, ends with the same catalogue."""

import json
import random
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from bench.oai_synth import pages
from paperroute.catalog.export import iter_papers, paper_to_json
from paperroute.catalog.models import HarvestCheckpoint, Paper
from tests.conftest import ROOT, sessions_ended, wipe_catalogue
from tests.replay import ReplayServer, Reply

pytestmark = pytest.mark.slow
PAGES = pages(3000, 300, seed=11)


def respond(path, params):
    token = params.get("resumptionToken")
    index = int(token.split("|")[1]) // 300 if token else 0
    return Reply(PAGES[index])


def catalogue() -> list[str]:
    """The catalogue as JSON lines, without the wall-clock times at which sources saw papers."""
    lines = []
    for paper in iter_papers():
        obj = paper_to_json(paper)
        obj["sources"] = sorted(obj["sources"])
        lines.append(json.dumps(obj, sort_keys=True))
    return lines


def test_kill_at_random_points_then_resume(cli_env, capsys):
    with ReplayServer(respond) as server:
        command = [sys.executable, "-m", "paperroute", "ingest", "arxiv-oai", server.url + "/oai", "--quiet"]
        env = {**cli_env, "PAPERROUTE_ARXIV_DELAY": "0.05"}
        started = time.monotonic()
        with tempfile.TemporaryFile() as errors:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors)
            first_page = None
            while process.poll() is None:
                if first_page is None and Paper.objects.exists():
                    first_page = time.monotonic()
                time.sleep(0.01)
            finished = time.monotonic()
            errors.seek(0)
            assert process.returncode == 0, errors.read().decode()
        duration = finished - started
        expected = catalogue()
        assert len(expected) == 3000
        wipe_catalogue()

        # Kill at random points spread over the harvest: wait until a random number of records
        # is stored, then a random fraction of one page's time more, so that the kill lands
        # while a page is being fetched, parsed or written.
        rng = random.Random(20261128)
        # A page's time from the first page stored to the end: the command's start (seconds on a
        # slow machine) counted in made the wait longer than the last page, and the kill late.
        page_time = (finished - (first_page or started)) / max(1, len(PAGES) - 1)
        targets = sorted(rng.sample(range(1, 3000), 6))
        mid_harvest = 0
        for target in targets:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            while Paper.objects.count() < target and process.poll() is None:
                time.sleep(0.01)
            time.sleep(rng.uniform(0, page_time))
            process.send_signal(signal.SIGKILL)
            process.wait()
            # A page's commit sent just before the kill lands when its session ends (PostgreSQL).
            sessions_ended(env.get("PGAPPNAME", ""))
            checkpoint = HarvestCheckpoint.objects.get()
            if not checkpoint.finished:
                mid_harvest += 1
                # What is stored is exactly the pages the checkpoint says were stored.
                assert Paper.objects.count() == checkpoint.pages * 300
        final = subprocess.run(command, cwd=ROOT, env=env, capture_output=True)
        assert final.returncode == 0, final.stderr
        assert catalogue() == expected
    with capsys.disabled():
        print(
            f"\nkill-and-resume: {len(targets)} kills, {mid_harvest} landed mid-harvest; "
            f"uninterrupted run {duration:.1f} s"
        )
    assert mid_harvest >= len(targets) - 1
