"""One copy of the search index per host: web processes share its pages and all see an update."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from paperroute.search import vectorstore
from paperroute.search.vectorstore import VectorStore
from tests.conftest import ROOT, stop_server
from tests.search.conftest import SEEDS
from tests.support import children_in_role, free_port, wait_until

WEB_PROCESSES = 3
# Papers on a subject far from the seeds' machine learning, so that a semantic search for it
# finds them only once their vectors are served. Eight papers add at least eight rows (6 KB) to
# vectors.f16, which every process maps at its length: a process that has the new version
# open shows a longer mapping.
NEW_PAPERS = [
    {
        "title": f"Quokka foraging on Rottnest Island, survey {n}",
        "abstract": f"We follow quokkas (Setonix brachyurus) foraging for leaves and grasses at dusk "
        f"on Rottnest Island in season {n}, count the marsupials at {n + 3} water holes, and "
        f"relate their browsing to rainfall, heat and the shrubs that survive the summer.",
    }
    for n in range(1, 9)
]
QUERY = "quokka marsupials foraging on an island"


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def add_papers(store: VectorStore, rng: np.random.Generator, pids: range) -> None:
    """Give papers one random unit vector each, and commit them (growing the graph as it goes)."""
    store.begin()
    for pid in pids:
        store.put(pid, unit(rng.standard_normal((1, 384))), day=pid, categories=["cs.CL"])
    store.commit()


# Run in a fresh process, whose heap has no freed memory to reuse: the growth of its private
# memory is then what opening the store and searching it cost.
MEASURE = """
import json, sys
import faiss, numpy as np
from pathlib import Path
from paperroute.search.vectorstore import VectorStore
def anon():
    status = Path("/proc/self/status").read_text()
    return int(status.split("RssAnon:")[1].split()[0])
queries = np.load(sys.argv[2])
before = anon()
store = VectorStore(Path(sys.argv[1]))
for query in queries:
    store.search(query, 10)
mapped = anon() - before
before = anon()
copy = faiss.read_index(str(Path(sys.argv[1]) / "graph.faiss"))
copy.search(queries, 10)
print(json.dumps({"mapped": mapped, "copied": anon() - before}))
"""


def _graph_mappings(graph_file: Path) -> list[dict[str, int]]:
    """This process's mappings of the graph file, with their size and resident kB."""
    found, current = [], None
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if "-" in fields[0] and ":" not in fields[0]:  # a mapping's header line
            current = {} if line.endswith(str(graph_file)) else None
            if current is not None:
                found.append(current)
        elif current is not None and fields[0] in ("Size:", "Rss:"):
            current[fields[0][:-1]] = int(fields[1])
    return found


def test_stores_opened_on_the_same_files_map_the_graph_instead_of_copying_it(tmp_path, monkeypatch):
    monkeypatch.setattr(vectorstore, "TAIL_ROWS", 1000)
    rng = np.random.default_rng(5)
    path = tmp_path / "vectors"
    writer = VectorStore(path)
    add_papers(writer, rng, range(1, 12_001))
    graph_file = path / "graph.faiss"
    size_kb = graph_file.stat().st_size // 1024
    assert writer.graph_rows == 12_000 and size_kb > 7_000  # 8-bit codes and links: ~640 bytes a row
    queries = unit(rng.standard_normal((50, 384)))

    reader = VectorStore(path)
    for query in queries:
        reader.search(query, 10)
    # Both stores search the file's own pages (the page cache's, one copy for every process).
    mappings = _graph_mappings(graph_file)
    assert len(mappings) == 2 and all(m["Size"] >= size_kb for m in mappings)
    assert all(m["Rss"] > 0 for m in mappings)
    assert [p for p, _ in reader.search(queries[0], 10)] == [p for p, _ in writer.search(queries[0], 10)]

    # What a process's private memory pays for the graph: nothing like a copy, which costs it all.
    np.save(tmp_path / "queries.npy", queries)
    run = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), str(tmp_path / "queries.npy")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    cost = json.loads(run.stdout)
    assert cost["copied"] > 0.8 * size_kb, cost
    assert cost["mapped"] < 0.4 * size_kb, cost  # its row arrays and the search's scratch


def test_a_reader_keeps_its_graph_while_the_writer_publishes_a_bigger_one(tmp_path, monkeypatch):
    monkeypatch.setattr(vectorstore, "TAIL_ROWS", 200)
    rng = np.random.default_rng(6)
    writer = VectorStore(tmp_path / "vectors")
    add_papers(writer, rng, range(1, 401))
    reader = VectorStore(tmp_path / "vectors")
    writer.begin()
    target = unit(rng.standard_normal((1, 384)))
    for pid in range(401, 801):
        writer.put(
            pid, target if pid == 700 else unit(rng.standard_normal((1, 384))), day=pid, categories=["cs.CL"]
        )
    writer.commit()  # extends the mapped graph: a copy grows, and replaces the file
    assert writer.graph_rows == 800
    assert reader.graph.ntotal == 400 and len(reader.search(target[0], 5)) == 5
    assert VectorStore(tmp_path / "vectors").search(target[0], 1)[0][0] == 700


def test_a_graph_newer_than_the_state_is_searched_safely_and_made_again(tmp_path, monkeypatch):
    # As a reader sees it when the writer swaps in a grown graph between its reads, and as a
    # writer that died between writing the graph and state.json leaves it.
    monkeypatch.setattr(vectorstore, "TAIL_ROWS", 200)
    rng = np.random.default_rng(7)
    path = tmp_path / "vectors"
    writer = VectorStore(path)
    add_papers(writer, rng, range(1, 301))
    state = (path / "state.json").read_text()
    add_papers(writer, rng, range(301, 601))
    (path / "state.json").write_text(state)  # the graph has 600 rows, the state says 300

    reader = VectorStore(path)
    assert reader.graph.ntotal == 600 and reader.rows == reader.graph_rows == 300
    for query in unit(rng.standard_normal((20, 384))):
        assert all(1 <= pid <= 300 for pid, _ in reader.search(query, 50))
    add_papers(reader, rng, range(301, 601))
    assert reader.graph.ntotal == reader.graph_rows == reader.rows == 600
    found = reader.search(reader.paper_vectors(450)[0], 1)
    assert found[0][0] == 450


# -- the real server -----------------------------------------------------------------------


def _web_processes(server: subprocess.Popen) -> list[int]:
    """gunicorn's web processes among the children of `paperroute serve`."""
    return children_in_role(server.pid, "web")


def _forked_web_processes(server: subprocess.Popen, count: int) -> list[int]:
    """The web processes once `count` of them are there: gunicorn forks them one by one, and the
    first can answer before the last is forked (2 of 3 were found once, on a busy machine)."""
    return wait_until(
        lambda: web if len(web := _web_processes(server)) >= count else [], 30, f"{count} web processes"
    )


def _loaded_the_model(pid: int) -> bool:
    return "onnxruntime" in Path(f"/proc/{pid}/maps").read_text()


def _vector_mappings(pid: int, vectors_file: Path) -> set[int]:
    """The lengths of a process's mappings of vectors.f16 (one per open version of the store)."""
    lengths = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        if line.endswith(str(vectors_file)):
            start, end = (int(x, 16) for x in line.split()[0].split("-"))
            lengths.add(end - start)
    return lengths


def _mapped_length(vectors_dir: Path) -> int:
    rows = json.loads((vectors_dir / "state.json").read_text())["rows"]
    return -(-rows * vectorstore.DIM * 2 // 4096) * 4096


def _search(port: int) -> list[str]:
    """Titles found by a semantic search, over a fresh connection (so any process may answer)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        query = urllib.parse.urlencode({"q": QUERY, "mode": "semantic", "limit": 10})
        connection.request("GET", f"/api/papers/search?{query}")
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200, body[:500]
        return [item["title"] for item in json.loads(body)]
    finally:
        connection.close()


def _until_every_process(port: int, web: list[int], opened, deadline: float) -> list[list[str]]:
    """Search under concurrency until `opened(pid)` holds for every web process; the answers."""
    answers = []
    with ThreadPoolExecutor(max_workers=2 * len(web)) as pool:
        while not all(opened(pid) for pid in web):
            assert time.monotonic() < deadline, {pid: opened(pid) for pid in web}
            answers.extend(pool.map(lambda _: _search(port), range(2 * len(web))))
    return answers


def _serve(port: int, web_processes: int, env: dict, log) -> subprocess.Popen:
    command = ["serve", "--port", str(port), "--workers", str(web_processes), "--no-worker"]
    return subprocess.Popen(
        [sys.executable, "-m", "paperroute", *command],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _until_answering(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            _search(port)
            return
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.3)


@pytest.mark.slow
def test_an_update_published_once_is_served_by_every_web_process(cli, cli_env, tmp_path):
    assert cli("ingest", "jsonl", str(SEEDS)).returncode == 0
    sync = cli("index", "sync", "--quiet")
    assert sync.returncode == 0, sync.stderr
    root = Path(cli_env["PAPERROUTE_DATA_DIR"]) / "search"
    generation = root / (root / "CURRENT").read_text().strip()
    vectors_file = generation / "vectors" / "vectors.f16"

    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    server = _serve(port, WEB_PROCESSES, cli_env, log)
    try:
        _until_answering(port, server, tmp_path / "server.log")
        web = _forked_web_processes(server, WEB_PROCESSES)
        assert len(web) == WEB_PROCESSES
        # Every process has the index open before the update.
        _until_every_process(
            port, web, lambda pid: bool(_vector_mappings(pid, vectors_file)), time.monotonic() + 60
        )
        assert not any(t.startswith("Quokka") for t in _search(port))
        # Every process has answered semantic searches, and one model served them all: the host's
        # query service's, not one in each web process.
        (service,) = children_in_role(server.pid, "query service")
        assert _loaded_the_model(service)
        assert not any(_loaded_the_model(pid) for pid in web)

        # The update, published once, as the worker publishes it: new papers, then a sync.
        new = tmp_path / "quokkas.jsonl"
        new.write_text("".join(json.dumps(paper) + "\n" for paper in NEW_PAPERS))
        assert cli("ingest", "jsonl", str(new)).returncode == 0
        sync = cli("index", "sync", "--quiet")
        assert sync.returncode == 0, sync.stderr
        assert (root / "CURRENT").read_text().strip() == generation.name  # updated in place
        length = _mapped_length(generation / "vectors")
        time.sleep(1.5)  # a web process looks for a new version at most once a second

        answers = _until_every_process(
            port, web, lambda pid: length in _vector_mappings(pid, vectors_file), time.monotonic() + 60
        )
        assert answers and all(any(t.startswith("Quokka") for t in titles) for titles in answers)
        assert _web_processes(server) == web  # the same processes: nothing was restarted
    finally:
        stop_server(server)
        log.close()


def _query_service_listening(pid: int) -> bool:
    """Whether a query service has loaded the model and listens on its socket."""
    environ = dict(
        item.split(b"=", 1) for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") if b"=" in item
    )
    return _loaded_the_model(pid) and Path(environ[b"PAPERROUTE_QUERY_SERVICE_SOCKET"].decode()).exists()


@pytest.mark.slow
def test_a_query_service_that_dies_is_started_again_and_asked_again(cli, cli_env, tmp_path):
    assert cli("ingest", "jsonl", str(SEEDS)).returncode == 0
    assert cli("index", "sync", "--quiet").returncode == 0
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    server = _serve(port, 1, cli_env, log)
    try:
        _until_answering(port, server, tmp_path / "server.log")
        (web,) = _forked_web_processes(server, 1)
        (first,) = children_in_role(server.pid, "query service")
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while not (again := [p for p in children_in_role(server.pid, "query service") if p != first]) or not (
            _query_service_listening(again[0])
        ):
            assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()[-3000:]
            time.sleep(0.2)
        # The web process's connection to the dead service fails; it connects to the new one
        # rather than loading the model itself.
        assert _search(port) == _search(port)
        assert not _loaded_the_model(web)
        assert "exited with status -9" in (tmp_path / "server.log").read_text()
    finally:
        stop_server(server)
        log.close()


# -- several hosts, one PostgreSQL ---------------------------------------------------------

WORDS = (
    "tide pool kelp urchin otter reef current plankton salinity estuary mangrove dune "
    "lagoon shoal barnacle limpet seagrass sediment upwelling krill"
).split()


def _embedded(stderr: bytes) -> int:
    """How many papers a sync's summary line says it embedded with the model."""
    match = re.search(r"(\d+) embedded", stderr.decode())
    assert match, stderr.decode()[-2000:]
    return int(match.group(1))


def _ingest_coast(cli, tmp_path: Path, count: int) -> None:
    """`count` papers that no shipped vectors cover, indexed for keywords only."""
    rng = np.random.default_rng(8)
    papers = tmp_path / "coast.jsonl"
    papers.write_text(
        "".join(
            json.dumps(
                {
                    "title": f"Coastal survey {n}: {' '.join(rng.choice(WORDS, 4))}",
                    "abstract": " ".join(rng.choice(WORDS, 60)),
                }
            )
            + "\n"
            for n in range(count)
        )
    )
    assert cli("ingest", "jsonl", str(papers)).returncode == 0


@pytest.mark.slow
def test_a_killed_sync_keeps_what_it_embedded(cli, cli_env, tmp_path):
    from paperroute.search.models import PaperVector

    count = 200
    _ingest_coast(cli, tmp_path, count)
    sync = subprocess.Popen(
        [sys.executable, "-m", "paperroute", "index", "sync", "--quiet"],
        cwd=ROOT,
        env=cli_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while not PaperVector.objects.exists():
        assert sync.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    sync.kill()
    sync.wait()
    kept = PaperVector.objects.count()
    assert 0 < kept < count
    again = cli("index", "sync", timeout=600)
    assert again.returncode == 0, again.stderr
    assert _embedded(again.stderr) == count - kept  # nothing it had stored is embedded again
    assert PaperVector.objects.count() == count


@pytest.mark.slow
def test_two_hosts_syncing_at_once_embed_each_paper_once(cli, cli_env, tmp_path):
    from django.db import connection

    from paperroute.search.models import PaperVector

    if connection.vendor != "postgresql":
        pytest.skip("hosts share a PostgreSQL database; SQLite is one host's")
    count = 150  # more than two chunks of EMBED_CHUNK
    _ingest_coast(cli, tmp_path, count)
    hosts = [
        subprocess.Popen(
            [sys.executable, "-m", "paperroute", "index", "sync"],
            cwd=ROOT,
            env={**cli_env, "PAPERROUTE_DATA_DIR": str(tmp_path / host)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for host in ("a", "b")
    ]
    outcomes = [host.communicate(timeout=600) for host in hosts]
    assert all(host.returncode == 0 for host in hosts), [err[-2000:] for _, err in outcomes]
    embedded = [_embedded(err) for _, err in outcomes]
    assert sum(embedded) == count, embedded
    assert all(b"waiting to be embedded" not in err for _, err in outcomes)
    assert PaperVector.objects.count() == count
