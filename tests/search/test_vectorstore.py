"""The vector store: graph plus exact tail, filters inside the search, updates, and fusion."""

import numpy as np
import pytest

from paperroute.search import vectorstore
from paperroute.search.hybrid import FusionParams, fuse
from paperroute.search.vectorstore import Pooling, VectorStore


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


@pytest.fixture
def store(tmp_path, monkeypatch):
    """600 papers in 6 clusters, two passages each for every third; the graph covers most."""
    monkeypatch.setattr(vectorstore, "TAIL_ROWS", 200)
    rng = np.random.default_rng(3)
    centres = unit(rng.standard_normal((6, 384)))
    store = VectorStore(tmp_path / "vectors")
    store.begin()
    for pid in range(1, 601):
        passages = 2 if pid % 3 == 0 else 1
        vectors = unit(centres[pid % 6] + 0.5 * rng.standard_normal((passages, 384)) / 20)
        store.put(pid, vectors, day=pid, categories=["cs.CL" if pid % 2 else "math.PR"])
        if pid in (400, 580):
            store.commit()  # the graph is built and extended as the tail grows
            store.begin()
    store.commit()
    store.centres = centres
    return store


def exact_top(store: VectorStore, query: np.ndarray, k: int, keep=lambda pid: True) -> list[int]:
    pids = [p for p in range(1, 601) if store.has(p) and keep(p)]
    scores = store.score_papers(query[None, :], np.array(pids), Pooling())
    return [pids[i] for i in np.argsort(-scores)[:k]]


def test_graph_and_tail_find_what_an_exact_scan_finds(store):
    assert store.graph is not None and 0 < store.graph_rows < store.rows
    query = store.centres[2]
    found = [pid for pid, _ in store.search(query, 10)]
    assert found == exact_top(store, query, 10)
    assert all(pid % 6 == 2 for pid in found)


def test_the_graph_keeps_a_byte_a_dimension_not_a_second_copy_of_the_vectors(store):
    """Every web process maps the graph: with fp16 codes it held the vectors twice over."""
    graph_bytes = (store.path / "graph.faiss").stat().st_size
    links = 2 * vectorstore.HNSW_M * 4  # level 0's neighbours, 4 bytes each
    assert graph_bytes < store.graph_rows * (vectorstore.DIM + links) * 1.25
    assert graph_bytes < (store.path / "vectors.f16").stat().st_size


def test_papers_of_a_topic_the_graph_never_saw_are_still_found(store):
    """A topic the first graph never saw, far outside the range of every dimension so far, joins
    the graph; its best papers must still be found (8-bit codes trained on the first papers
    clipped these, and the walk found 1 of the best 20). The 300 are near ties (scores within
    0.02), where the walk may swap the 20th for the 21st."""
    far = np.zeros(384)
    far[:4] = 1.0
    far = unit(far)
    rng = np.random.default_rng(8)
    store.begin()
    for pid in range(601, 901):
        store.put(pid, unit(far + 0.05 * rng.standard_normal((1, 384))), day=pid, categories=["q-bio.NC"])
    store.commit()
    assert store.graph_rows == store.rows  # the new topic is in the graph, not the exact tail
    found = [pid for pid, _ in store.search(far, 20)]
    pids = np.arange(601, 901)
    scores = store.score_papers(far[None, :], pids, Pooling())
    best = [int(pids[i]) for i in np.argsort(-scores)[:20]]
    assert found[:5] == best[:5]
    assert len(set(found) & set(best)) >= 18


def test_filters_restrict_the_search_itself(store):
    query = store.centres[1]  # its papers (pid % 6 == 1) are all odd, so all cs.CL
    allowed = store.mask(100, 300, [["math.PR"]])
    found = store.search(query, 10, allowed)
    assert len(found) == 10
    assert all(pid % 2 == 0 and 100 <= pid <= 300 for pid, _ in found)
    assert [p for p, _ in found] == exact_top(store, query, 10, lambda p: p % 2 == 0 and 100 <= p <= 300)
    archive = store.search(query, 5, store.mask(None, None, [["math"]]))
    assert all(pid % 2 == 0 for pid, _ in archive)


def scanned(store: VectorStore, codes: list[str]) -> set[int]:
    """The papers in any of the categories, read from every row's codes."""
    ids = store.category_ids(codes)
    return set(store.pid[np.isin(store.cats, ids).any(axis=1) & store.alive].tolist())


def filtered(store: VectorStore, codes: list[str]) -> set[int]:
    return set(store.pid[store.mask(None, None, [codes])].tolist())


def test_category_filters_read_the_writers_lists_and_follow_changes(store, tmp_path):
    """Every process maps each category's rows (row_by_category.npy, written with the other
    row arrays) instead of scanning every row's codes for each category it is asked."""
    assert (store.path / "row_by_category.npy").exists()
    assert filtered(store, ["cs.CL"]) == scanned(store, ["cs.CL"]) == set(range(1, 601, 2))
    assert filtered(store, ["math"]) == set(range(2, 601, 2))
    store.begin()
    store.describe(3, day=3, categories=["math.PR", "q-bio.NC"])  # recategorised in place
    store.put(5, unit(store.centres[5][None, :]), day=5, categories=["q-bio.NC"])  # re-embedded
    store.put(601, unit(store.centres[0][None, :]), day=601, categories=["cs.CL", "q-bio.NC"])
    store.commit()
    reader = VectorStore(tmp_path / "vectors")
    for codes in (["cs.CL"], ["math.PR"], ["q-bio.NC"], ["q-bio"], ["cs.CL", "q-bio.NC"]):
        assert filtered(reader, codes) == scanned(reader, codes), codes
    assert filtered(reader, ["q-bio.NC"]) == {3, 5, 601}
    assert 3 in filtered(reader, ["math.PR"]) and 3 not in filtered(reader, ["cs.CL"])


def test_a_reader_of_an_older_commit_ignores_the_rows_a_newer_list_adds(store, tmp_path):
    """The writer replaces the lists before state.json: a reader that opened the store just
    before may map lists that already name rows it does not have."""
    reader = VectorStore(tmp_path / "vectors")
    store.begin()
    store.put(601, unit(store.centres[0][None, :]), day=601, categories=["cs.CL"])
    store.commit()
    reader.by_category = np.load(tmp_path / "vectors" / "row_by_category.npy", mmap_mode="r")
    assert filtered(reader, ["cs.CL"]) == set(range(1, 601, 2))


def test_an_index_written_before_the_lists_still_filters(store, tmp_path):
    (store.path / "row_by_category.npy").unlink()
    reader = VectorStore(tmp_path / "vectors")
    assert reader.by_category is None
    assert filtered(reader, ["math.PR"]) == scanned(reader, ["math.PR"]) == set(range(2, 601, 2))


def tail_files(store: VectorStore) -> list[str]:
    return sorted(p.name for p in store.path.glob("tail_from_*.npy"))


def test_every_process_maps_the_rows_the_graph_lacks_from_one_file(store, tmp_path):
    """The tail (up to TAIL_ROWS rows) was copied to float32 by every web process: 12 MiB each."""
    reader = VectorStore(tmp_path / "vectors")
    assert 0 < reader.graph_rows < reader.rows
    assert tail_files(store) == [f"tail_from_{reader.graph_rows}.npy"]
    assert isinstance(reader.tail, np.memmap) and reader.tail.dtype == np.float32
    np.testing.assert_array_equal(reader.tail, np.asarray(reader.vectors[reader.graph_rows :], np.float32))
    query = store.centres[3]
    assert [pid for pid, _ in reader.search(query, 10)] == exact_top(reader, query, 10)


def test_readers_of_an_older_state_still_search_their_whole_tail(store, tmp_path):
    older = VectorStore(tmp_path / "vectors")  # opened, its tail not yet read
    store.begin()
    store.put(601, unit(store.centres[1][None, :]), day=601, categories=["cs.CL"])
    store.commit()  # the same graph: the file is replaced by a longer one
    assert len(older.tail) == older.rows - older.graph_rows
    np.testing.assert_array_equal(older.tail, np.asarray(older.vectors[older.graph_rows :], np.float32))
    oldest = VectorStore(tmp_path / "vectors")
    store.begin()
    for pid in range(602, 602 + vectorstore.TAIL_ROWS):
        store.put(pid, unit(store.centres[pid % 6][None, :]), day=pid, categories=["cs.CL"])
    store.commit()  # the graph takes the tail in: the file goes, and a reader copies its own
    assert tail_files(store) == [] and store.graph_rows == store.rows
    assert not isinstance(oldest.tail, np.memmap) and len(oldest.tail) == oldest.rows - oldest.graph_rows
    query = store.centres[5]
    assert [pid for pid, _ in oldest.search(query, 10)] == exact_top(oldest, query, 10)


def test_new_vectors_replace_old_ones_and_readers_see_commits(store, tmp_path):
    query = store.centres[4]
    store.begin()
    store.put(7, unit(query[None, :]), day=7, categories=["cs.CL"])  # pid 7 moves to cluster 4
    store.remove(8)
    store.commit()
    reader = VectorStore(tmp_path / "vectors")
    found = [pid for pid, _ in reader.search(query, 3, reader.alive)]
    assert found[0] == 7
    assert not reader.has(8) and 8 not in [p for p, _ in reader.search(store.centres[2], 600, reader.alive)]
    assert reader.dead == 2  # pid 7's old row and pid 8's
    # Without filters the store skips those rows by itself, search after search.
    for _ in range(2):
        assert reader.search(store.centres[2], 600) == reader.search(store.centres[2], 600, reader.alive)
    assert 8 not in [p for p, _ in reader.search(store.centres[2], 600)]
    assert [p for p, _ in reader.search(query, 3)][0] == 7


def test_a_set_of_papers_keeps_their_live_passages_only(store, tmp_path):
    """A phrase or author filter hands the semantic side a set of papers: their passages, and
    none of a re-embedded paper's old ones or a removed paper's, are what may be searched."""
    store.begin()
    store.put(9, unit(store.centres[3][None, :]), day=9, categories=["cs.CL"])  # pid 9 re-embedded
    store.remove(12)
    store.commit()
    reader = VectorStore(tmp_path / "vectors")
    allowed = reader.mask(None, None, None, np.array([3, 9, 12, 599, 10_000, -1]))
    assert sorted(set(reader.pid[allowed].tolist())) == [3, 9, 599]
    assert np.count_nonzero(allowed) == 2 + 1 + 1  # 3's two passages, 599's one, 9's new one
    assert sorted(p for p, _ in reader.search(store.centres[0], 10, allowed)) == [3, 9, 599]
    # With a day range as well, the set narrows further.
    assert sorted(set(reader.pid[reader.mask(5, 100, None, np.array([3, 9, 599]))].tolist())) == [9]


def test_fusion_rewards_agreement():
    lexical = {1: 10.0, 2: 9.0, 3: 1.0}
    dense = {1: 0.2, 2: 0.9, 3: 0.8}
    assert [pid for pid, _ in fuse(lexical, dense, FusionParams(dense_weight=0.5))][0] == 2
    assert [pid for pid, _ in fuse(lexical, dense, FusionParams(dense_weight=0.0))][:2] == [1, 2]
    assert [pid for pid, _ in fuse(lexical, dense, FusionParams(method="rrf"))][0] == 2


@pytest.mark.parametrize("rows", [0, 1, 7, 3000])
def test_the_best_float16_rows_are_the_ones_numpy_ranks_first(rows):
    """A narrow filter is answered by scoring its rows exactly (faiss reads the float16)."""
    rng = np.random.default_rng(rows)
    vectors = unit(rng.standard_normal((rows, 384))).astype(np.float16)
    query = unit(rng.standard_normal(384)).astype(np.float32)
    expected = np.argsort(-(vectors.astype(np.float32) @ query), kind="stable")[:40]
    assert vectorstore._best_of(vectors, query, 40).tolist() == expected.tolist()
    assert vectorstore._best_of(vectors, query, 0).tolist() == []


def test_the_passages_of_removed_papers_take_no_place_in_a_search(store, tmp_path):
    """Every paper of cluster 2 is removed: the rows nearest its centre are all dead. A search
    without filters must walk past them and still bring as many papers as asked for, search
    after search."""
    store.begin()
    for pid in range(601, 601 + vectorstore.TAIL_ROWS):  # enough new rows that the graph takes all
        store.put(pid, unit(store.centres[0][None, :]), day=pid, categories=["cs.CL"])
    for pid in range(2, 601, 6):
        store.remove(pid)
    store.commit()
    reader = VectorStore(tmp_path / "vectors")
    assert reader.dead >= 100 and reader.graph_rows == reader.rows  # no tail scanned beside the walk
    for _ in range(2):
        found = [pid for pid, _ in reader.search(store.centres[2], 10)]
        assert len(found) == 10 and not any(pid % 6 == 2 for pid in found)
