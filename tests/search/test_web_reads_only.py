"""Web requests only read the search index: they say when it is missing or behind the catalogue,
and the worker (or `paperroute index sync`) is what brings it up to date. Importing the search
modules leaves the process's thread settings alone; `configure_threads` sets them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pytest

from paperroute import search, worker
from paperroute.search import service
from paperroute.search.index import current_generation, root_dir
from tests.community.helpers import add_paper
from tests.conftest import ROOT


@pytest.fixture
def papers(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    service._indexes.clear()
    add_paper(
        "2411.00701",
        "Speculative decoding for fast inference",
        listed=date(2024, 11, 28),
        abstract="We accelerate language model inference with speculative decoding.",
        categories=("cs.CL",),
    )
    yield root_dir(tmp_path)
    service._indexes.clear()


def test_a_search_page_before_the_index_is_built_says_so_and_builds_nothing(client, papers):
    page = client.get("/search?q=speculative&mode=lexical")
    assert page.status_code == 200
    assert "search index has not been built yet" in page.content.decode()
    api = client.get("/api/papers/search?q=speculative&mode=lexical")
    assert api.status_code == 200 and api.json() == []
    assert api["X-Search-Index-Behind"] == "true"
    assert current_generation(papers) is None
    assert client.get("/search/suggest?q=specul").json()["results"] == []


def test_the_page_and_the_api_say_when_the_index_is_behind_until_the_worker_syncs(client, papers):
    search.sync(embed=False)
    fresh = client.get("/api/papers/search?q=speculative&mode=lexical")
    assert [p["paper"]["id"] for p in fresh.json()] == ["2411.00701"] and "X-Search-Index-Behind" not in fresh
    add_paper(
        "2411.00702",
        "Speculative sampling with draft models",
        listed=date(2024, 11, 28),
        abstract="Draft models propose tokens and the target model verifies them.",
        categories=("cs.CL",),
    )
    service._last_stale_check.clear()  # as if the few seconds between checks had passed
    page = client.get("/search?q=speculative&mode=lexical").content.decode()
    assert "search index is behind the catalogue" in page and "Speculative sampling" not in page
    api = client.get("/api/papers/search?q=speculative&mode=lexical")
    assert api["X-Search-Index-Behind"] == "true"
    assert [p["paper"]["id"] for p in api.json()] == ["2411.00701"]
    worker.sync_index()
    synced = client.get("/api/papers/search?q=speculative&mode=lexical")
    assert sorted(p["paper"]["id"] for p in synced.json()) == ["2411.00701", "2411.00702"]
    assert "X-Search-Index-Behind" not in synced
    assert "index is behind" not in client.get("/search?q=speculative&mode=lexical").content.decode()


THREADS = """
import json, sys
import faiss
from threadpoolctl import threadpool_info

def now():
    # numpy's BLAS (its own threads); faiss's OpenBLAS runs on OpenMP and follows "omp".
    blas = [p["num_threads"] for p in threadpool_info() if p.get("threading_layer") == "pthreads"]
    return {"blas": blas, "omp": faiss.omp_get_max_threads()}

before = now()
import paperroute.search.vectorstore, paperroute.search.service, paperroute.search.themes
imported = now()
from paperroute.search import configure_threads
configure_threads(sys.argv[1])
print(json.dumps({"before": before, "imported": imported, "configured": now()}))
"""


@pytest.mark.parametrize(
    "role, omp", [("web", 1), ("worker", os.cpu_count() or 1), ("cli", os.cpu_count() or 1)]
)
def test_importing_search_changes_no_thread_settings_and_configure_does(role, omp):
    env = {**os.environ, "OMP_NUM_THREADS": "3"}
    run = subprocess.run(
        [sys.executable, "-c", THREADS, role], cwd=ROOT, env=env, capture_output=True, check=True, timeout=120
    )
    seen = json.loads(run.stdout)
    assert seen["imported"] == seen["before"]
    assert seen["before"]["omp"] == 3  # OMP_NUM_THREADS, untouched by the imports
    assert seen["configured"] == {"blas": [1], "omp": omp}


def test_configure_threads_refuses_an_unknown_role():
    with pytest.raises(ValueError):
        search.configure_threads("database")
