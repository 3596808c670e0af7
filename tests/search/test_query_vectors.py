"""The query model keeps the vectors of the texts it met lately: a search asked again (its next
page, another filter or sort, a followed topic) does not wait for the model."""

from __future__ import annotations

import numpy as np
import pytest

from paperroute.search import queryserver
from paperroute.search.embedder import Embedder, shared
from tests.search.test_queryserver import serving


class Watched(Embedder):
    """The real model, noting the query texts it runs."""

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.ran: list[str] = []

    def _run_queries(self, texts):
        self.ran.extend(texts)
        return super()._run_queries(texts)


def made(texts: list[str]) -> np.ndarray:
    """What the model makes for the texts, with nothing kept."""
    return shared().embed_queries(texts)


def test_a_text_met_lately_gives_its_vector_without_the_model():
    model = Watched(kept_queries=10)
    first = model.embed_queries(["sparse attention", "protein folding"])
    again = model.embed_queries(["protein folding", "graph neural networks", "sparse attention"])
    assert model.ran == ["sparse attention", "protein folding", "graph neural networks"]
    np.testing.assert_allclose(first, made(["sparse attention", "protein folding"]), atol=1e-6)
    np.testing.assert_allclose(
        again, made(["protein folding", "graph neural networks", "sparse attention"]), atol=1e-6
    )


def test_a_text_asked_twice_at_once_is_run_once():
    model = Watched(kept_queries=10)
    vectors = model.embed_queries(["sparse attention", "sparse attention"])
    assert model.ran == ["sparse attention"]
    np.testing.assert_allclose(vectors[0], vectors[1])


def test_only_the_latest_texts_are_kept():
    model = Watched(kept_queries=2)
    model.embed_queries(["a"])
    model.embed_queries(["b"])
    model.embed_queries(["a"])  # met again: now the latest
    model.embed_queries(["c"])  # the oldest, b, makes room
    model.ran.clear()
    model.embed_queries(["a", "c"])
    assert model.ran == []
    model.embed_queries(["b"])
    assert model.ran == ["b"]


def test_none_are_kept_when_the_setting_says_so():
    model = Watched(kept_queries=0)
    model.embed_queries(["sparse attention"])
    model.embed_queries(["sparse attention"])
    assert model.ran == ["sparse attention", "sparse attention"]


def test_changing_the_vectors_given_does_not_change_the_kept_ones():
    model = Watched(kept_queries=10)
    given = model.embed_queries(["sparse attention"])
    given[:] = 0
    np.testing.assert_allclose(
        model.embed_queries(["sparse attention"]), made(["sparse attention"]), atol=1e-6
    )
    assert model.embed_queries([]).shape == (0, 384)


def test_the_hosts_service_runs_a_text_once_for_every_web_process():
    """Page 2 of a search usually lands on another web process than page 1: the vectors are
    kept by the host's one query service, not by each process."""
    model = Watched(kept_queries=10, batch_size=queryserver.MAX_TEXTS)
    folder, (address, key, server) = serving(model)
    with folder:
        try:
            processes = [
                queryserver.QueryClient(address, key, lambda: pytest.fail("fell back")) for _ in range(3)
            ]
            vectors = [process.embed_queries(["robot manipulation"]) for process in processes]
        finally:
            server.close()
    assert model.ran == ["robot manipulation"]
    for vector in vectors:
        np.testing.assert_allclose(vector, made(["robot manipulation"]), atol=1e-6)
