"""One query service per host: web processes get their queries' vectors from it, in batches,
and embed them themselves when it cannot be reached."""

from __future__ import annotations

import logging
import secrets
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Client
from pathlib import Path

import numpy as np
import pytest

from paperroute.search import queryserver
from paperroute.search.embedder import Embedder, shared
from paperroute.search.spelling import Speller, save_counts

QUERIES = [
    "sparse attention for long documents",
    "graph neural networks for molecules",
    "a",
    "diffusion models that generate video from text prompts with temporal consistency",
    "ünïcödé query — with dashes",
    "reinforcement learning from human feedback",
]


def serving(embedder, runs: int = 1):
    """A QueryServer on a socket of its own, answering in a thread."""
    folder = tempfile.TemporaryDirectory()
    address = str(Path(folder.name) / "q.sock")
    key = secrets.token_bytes(32)
    server = queryserver.QueryServer(address, key, embedder, runs=runs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return folder, (address, key, server)


@pytest.fixture
def service(request):
    """A QueryServer with the real model: one run of it at a time, or as many as the test's
    parameter says (a model of its own that allows them)."""
    runs = getattr(request, "param", 1)
    embedder = shared() if runs == 1 else Embedder(runs=runs, batch_size=queryserver.MAX_TEXTS)
    folder, served = serving(embedder, runs)
    with folder:
        yield served
        served[2].close()


class Counting:
    """The local model, counting the queries it embeds."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def embed_queries(self, texts):
        self.texts.extend(texts)
        return shared().embed_queries(texts)


def test_the_service_gives_the_vectors_the_process_would_have_made(service):
    address, key, _ = service
    local = Counting()
    remote = queryserver.QueryClient(address, key, lambda: local)
    vectors = remote.embed_queries(QUERIES)
    assert vectors.dtype == np.float32 and vectors.shape == (len(QUERIES), 384)
    np.testing.assert_allclose(vectors, shared().embed_queries(QUERIES), atol=1e-6)
    assert local.texts == []  # the web process never ran the model


@pytest.mark.parametrize("service", [1, 2], indirect=True)
def test_concurrent_queries_each_get_their_own_vector(service):
    address, key, _ = service
    remote = queryserver.QueryClient(address, key, lambda: pytest.fail("fell back"))
    expected = {text: shared().embed_queries([text])[0] for text in QUERIES}
    asked = QUERIES * 8
    with ThreadPoolExecutor(max_workers=8) as pool:  # a connection a thread, batched together
        answers = list(pool.map(lambda text: remote.embed_queries([text])[0], asked))
    for text, vector in zip(asked, answers):
        # Padding a short query into a batch beside longer ones leaves its vector as it was.
        np.testing.assert_allclose(vector, expected[text], atol=1e-5)


def test_a_vector_asked_for_early_is_the_one_the_model_makes(service):
    address, key, _ = service
    local = Counting()
    client = queryserver.QueryClient(address, key, lambda: local)
    later = client.embed_later(["sparse attention"])  # the search goes on meanwhile
    np.testing.assert_allclose(later(), shared().embed_queries(["sparse attention"]), atol=1e-6)
    assert local.texts == []


def test_an_answer_never_read_is_not_taken_for_the_next_one(service):
    """A search that failed between asking for its vector and reading it leaves an answer on its
    connection; the next query on that thread must get its own vector, not that one."""
    address, key, _ = service
    client = queryserver.QueryClient(address, key, lambda: pytest.fail("fell back"))
    abandoned = client.embed_later(["sparse attention"])
    time.sleep(0.2)  # the service has answered by now
    np.testing.assert_allclose(
        client.embed_queries(["protein folding"]), shared().embed_queries(["protein folding"]), atol=1e-6
    )
    # Read at last, it asks again rather than read what another query was answered.
    np.testing.assert_allclose(abandoned(), shared().embed_queries(["sparse attention"]), atol=1e-6)


def test_a_vector_asked_for_early_without_the_service_comes_from_the_process(tmp_path, caplog):
    local = Counting()
    client = queryserver.QueryClient(str(tmp_path / "gone.sock"), b"k" * 32, lambda: local)
    with caplog.at_level(logging.WARNING, "paperroute.search.queryserver"):
        later = client.embed_later(["protein folding"])
        np.testing.assert_allclose(later(), shared().embed_queries(["protein folding"]), atol=1e-6)
    assert local.texts == ["protein folding"]
    assert "unreachable" in caplog.text


class Meeting:
    """A model whose runs wait for one another: two at once pass, one alone waits in vain."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.barrier = threading.Barrier(2, timeout=5)

    def embed_queries(self, texts):
        self.entered.set()
        self.barrier.wait()
        return shared().embed_queries(texts)


def test_a_query_does_not_wait_for_the_model_to_finish_another():
    """With two runs, a query that arrives while the model works on another starts at once:
    on a host with cores to spare, a reader's search is not queued behind another's."""
    model = Meeting()
    folder, (address, key, server) = serving(model, runs=2)
    with folder, ThreadPoolExecutor(max_workers=2) as pool:
        try:
            client = queryserver.QueryClient(address, key, lambda: pytest.fail("fell back"))
            first = pool.submit(client.embed_queries, ["sparse attention"])
            assert model.entered.wait(5)  # the first query is in the model, waiting for company
            second = pool.submit(client.embed_queries, ["protein folding"])
            for future, text in ((first, "sparse attention"), (second, "protein folding")):
                np.testing.assert_allclose(future.result(10), shared().embed_queries([text]), atol=1e-6)
            assert not model.barrier.broken
        finally:
            server.close()


@pytest.mark.parametrize(
    ("cores", "threads", "runs", "layout"),
    [
        (2, 0, 0, (2, 2)),  # this project's machine: both cores for a query, two queries at once
        (16, 0, 0, (4, 4)),  # a large host: a few threads a query, more queries at once
        (8, 0, 0, (4, 2)),
        (1, 0, 0, (1, 1)),
        (16, 1, 3, (1, 3)),  # what the settings say, when they say it
    ],
)
def test_the_services_model_layout_follows_the_host(cores, threads, runs, layout):
    assert queryserver.layout(threads, runs, cores) == layout


def test_a_wrong_key_is_refused_and_the_process_embeds_for_itself(service, caplog):
    address, _, _ = service
    local = Counting()
    remote = queryserver.QueryClient(address, secrets.token_bytes(32), lambda: local)
    with caplog.at_level(logging.WARNING, "paperroute.search.queryserver"):
        vectors = remote.embed_queries(QUERIES[:2])
        remote.embed_queries(QUERIES[2:3])
    np.testing.assert_allclose(vectors, shared().embed_queries(QUERIES[:2]), atol=1e-6)
    assert local.texts == QUERIES[:3]
    unreachable = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(unreachable) == 1  # once for the outage, not once a query


def test_without_the_service_searches_still_get_vectors(tmp_path, caplog):
    local = Counting()
    remote = queryserver.QueryClient(str(tmp_path / "gone.sock"), b"k" * 32, lambda: local)
    with caplog.at_level(logging.WARNING, "paperroute.search.queryserver"):
        vectors = remote.embed_queries(["protein folding"])
    np.testing.assert_allclose(vectors, shared().embed_queries(["protein folding"]), atol=1e-6)
    assert "unreachable" in caplog.text


def test_a_malformed_message_closes_that_connection_only(service):
    address, key, _ = service
    for message in (b"not json", b'{"q": 1}', b"[]", b"[1, 2]", b'["x"]' * 2, b"\xff\xfe"):
        with Client(address, "AF_UNIX", authkey=key) as connection:
            connection.send_bytes(message)
            with pytest.raises(EOFError):
                connection.recv_bytes()
    remote = queryserver.QueryClient(address, key, lambda: pytest.fail("fell back"))
    assert remote.embed_queries(["still answering"]).shape == (1, 384)


def test_more_queries_than_one_message_holds(service):
    address, key, _ = service
    texts = [f"query number {n}" for n in range(queryserver.MAX_TEXTS * 2 + 3)]
    remote = queryserver.QueryClient(address, key, lambda: pytest.fail("fell back"))
    np.testing.assert_allclose(remote.embed_queries(texts), shared().embed_queries(texts), atol=1e-5)


def test_the_socket_is_for_the_servers_user_alone(service):
    address, _, _ = service
    assert Path(address).stat().st_mode & 0o077 == 0


class CountingSpeller(Speller):
    """A generation's own speller, counting the words it is asked."""

    def __init__(self, generation: Path) -> None:
        super().__init__(generation)
        self.asked: list[str] = []

    def correct(self, word: str) -> str | None:
        self.asked.append(word)
        return super().correct(word)


def vocabulary(generation: Path, words: dict[str, int]) -> None:
    generation.mkdir(exist_ok=True)
    save_counts(generation, Counter(words))


def test_the_service_corrects_words_from_the_generations_vocabulary(service, tmp_path):
    address, key, _ = service
    generation = tmp_path / "g1"
    vocabulary(generation, {"transformer": 40, "attention": 30, "quokka": 5})
    local = CountingSpeller(generation)
    client = queryserver.QueryClient(address, key, lambda: pytest.fail("fell back"))
    asked = ["transfromer", "atention", "zzzzqqq"]
    assert client.correct(generation, asked, local) == ["transformer", "attention", None]
    assert local.asked == []  # the host's dictionary answered, not this process's
    # A sync rewrites the vocabulary: the service's dictionary follows it.
    time.sleep(0.01)
    vocabulary(generation, {"transformer": 40, "attention": 30, "zzzzqqx": 9})
    assert client.correct(generation, ["zzzzqqq"], local) == ["zzzzqqx"]


def test_corrections_without_the_service_come_from_the_process(tmp_path):
    generation = tmp_path / "g1"
    vocabulary(generation, {"transformer": 40})
    local = CountingSpeller(generation)
    client = queryserver.QueryClient(str(tmp_path / "gone.sock"), b"k" * 32, lambda: pytest.fail("no model"))
    assert client.correct(generation, ["transfromer"], local) == ["transformer"]
    assert local.asked == ["transfromer"]
