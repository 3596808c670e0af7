"""Passage vectors on disk, served from a faiss HNSW graph plus an exactly-scanned tail.

Rows are passages; each row knows its paper (pid), listing day and categories, so that
filters restrict the search itself. New rows are appended to `vectors.f16` and scanned exactly
until the tail is long enough to be worth adding to the graph; a paper whose text changed gets
new rows and its old ones are marked dead. Files are replaced atomically, so readers in other
processes see either the old or the new state.

Readers memory-map the graph as well as the vectors, so every process on a host shares one copy
of their pages (the page cache's) however many web processes it runs. A mapping keeps the file
it was opened on, so a reader goes on with the old graph until it reloads; the writer never
changes a published file in place, it writes a new one and swaps it in.
"""

from __future__ import annotations

import json
import os
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

DIM = 384
TAIL_ROWS = 8192  # rows scanned exactly before they are added to the graph
EXACT_ROWS = 20_000  # a filter this selective is answered by an exact scan
HNSW_M = 32  # graph degree: recall 0.95+ at efSearch 64 on 1M synthetic rows
EF_CONSTRUCTION = 64
EF_SEARCH = 64
# Rows the walk returns for each paper wanted. Its 8-bit scores are approximate, and the exact
# rescoring picks from these: at 100k papers, 4 took recall@10 from 0.991 (2) to 0.997, for
# 0.05 ms a semantic query and 0.17 ms a hybrid one (bench/hnsw_recall.py --rows).
GRAPH_ROWS = 4
FIRST, COUNT = np.int32, np.int16  # where a paper's rows start, and how many it has
MAX_CATS = 16  # categories kept per row for filtering (arXiv papers have at most ~10)
# Maps the graph's links and codes from the file instead of copying them (faiss 1.15 does: HNSW
# and flat-code storage, which IndexHNSWSQ is). At 100k papers, 8 web processes came to 3.8 GiB
# of PSS with a copy each and 2.9 GiB mapped, at the same latency (bench/serve_memory.py).
MMAP = getattr(faiss, "IO_FLAG_MMAP_IFC", 0)


ROLES = ("web", "worker", "cli")


def configure_threads(role: str) -> None:
    """Set this process's BLAS and OpenMP threads for what it does; importing sets nothing.

    Every role gets one BLAS thread: a query multiplies one vector by at most a few thousand
    rows, and BLAS threads cost more than they save there (40 ms against 0.7 ms a query on two
    busy cores). faiss's own OpenBLAS is built on OpenMP, so that limit also leaves faiss one
    OpenMP thread: the worker and the commands, which build HNSW graphs, get every core back;
    web processes only query (one vector at a time, which OpenMP does not split) and keep one,
    so that a server's many processes hold no idle OpenMP pools.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
    faiss.omp_set_num_threads(1 if role == "web" else os.cpu_count() or 1)


def _atomic_save(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        np.save(handle, array)
    os.replace(tmp, path)


def rows_by_category(cats: np.ndarray, codes: int) -> np.ndarray:
    """Each category's rows, for the filters: [codes, start of each (codes + 1), rows...].

    Written by the writer with the other row arrays and mapped by every process, so that a
    category filter marks its rows (0.3 ms at 1M papers) instead of scanning every row's codes
    (30 ms, in each web process, for each category, again after every sync).
    """
    rows, columns = np.nonzero(cats >= 0)
    held = cats[rows, columns].astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(np.bincount(held, minlength=codes))])
    # A stable sort keeps each category's rows in row order.
    return np.concatenate([[codes], starts, rows[np.argsort(held, kind="stable")]]).astype(np.int32)


def _tail_file(graph_rows: int | str) -> str:
    """The float32 copy of the rows from `graph_rows` on (those the graph lacks)."""
    return f"tail_from_{graph_rows}.npy"


def _atomic_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def _best_of(vectors: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    """The positions of the `k` float16 rows whose inner product with `query` is largest, best
    first. faiss reads float16 with the CPU's conversion instructions, where numpy converts one
    number at a time: scoring 20,000 rows took 1.6 ms here against 20 ms with numpy."""
    if not len(vectors) or k < 1:
        return np.zeros(0, np.int64)
    flat = faiss.IndexScalarQuantizer(DIM, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    codes = np.ascontiguousarray(vectors, dtype=np.float16).view(np.uint8).ravel()
    faiss.copy_array_to_vector(codes, flat.codes)
    flat.ntotal = len(vectors)
    _, positions = flat.search(np.asarray(query, dtype=np.float32)[None, :], min(k, len(vectors)))
    return positions[0][positions[0] >= 0]


def open_graph(path: Path):
    """The HNSW graph, read-only, with its pages shared by every process that opens the file."""
    with open(path, "rb") as handle:
        # faiss asks the kernel for random access (no read-ahead): fetch the file now, in the
        # background, so that the first queries after a boot don't fault it in page by page.
        os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_WILLNEED)
    graph = faiss.read_index(str(path), MMAP)
    # faiss's bundled stubs leave out much of its SWIG API: .hnsw, SearchParametersHNSW, ...
    graph.hnsw.efSearch = EF_SEARCH  # type: ignore[attr-defined]
    return graph


@dataclass
class Pooling:
    """A paper's score from its passages' scores: max, plus `mean_weight` × mean."""

    mean_weight: float = 0.0

    def pool(self, sims: np.ndarray, offsets: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Papers' scores from their passages' (each paper's together, from `offsets`)."""
        pooled = np.maximum.reduceat(sims, offsets)
        if self.mean_weight:
            pooled = pooled + self.mean_weight * np.add.reduceat(sims, offsets) / counts
        return pooled


class VectorStore:
    """The vector side of one index generation."""

    _papers: int | None = None
    _dead: int | None = None
    _alive_bits: tuple[np.ndarray, int] | None = None

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.load()

    # -- loading ---------------------------------------------------------------------------

    def load(self) -> None:
        state_file = self.path / "state.json"
        state = json.loads(state_file.read_text()) if state_file.exists() else {}
        self.rows = state.get("rows", 0)
        self.graph_rows = state.get("graph_rows", 0)
        self.codes: list[str] = state.get("categories", [])
        self.version = state.get("version", 0)
        self.code_ids = {code: i for i, code in enumerate(self.codes)}
        if self.rows:
            # Mapped, like the vectors and the graph: every process on the host shares their
            # pages. A writer replaces these files whole (_atomic_save), never writes into them.
            self.pid = np.load(self.path / "row_pid.npy", mmap_mode="r")[: self.rows]
            self.day = np.load(self.path / "row_day.npy", mmap_mode="r")[: self.rows]
            self.cats = np.load(self.path / "row_cats.npy", mmap_mode="r")[: self.rows]
            self.alive = np.load(self.path / "row_alive.npy", mmap_mode="r")[: self.rows]
            # An index written before it has none: its filters scan the codes (_category_rows).
            by_category = self.path / "row_by_category.npy"
            self.by_category = np.load(by_category, mmap_mode="r") if by_category.exists() else None
            self.vectors: np.ndarray = self._mapped(self.rows)
        else:
            self.pid = np.zeros(0, np.int64)
            self.day = np.zeros(0, np.int32)
            self.cats = np.full((0, 4), -1, np.int16)
            self.alive = np.zeros(0, bool)
            self.by_category = None
            self.vectors = np.zeros((0, DIM), np.float16)
        self.graph = None
        if self.graph_rows:
            self.graph = open_graph(self.path / "graph.faiss")
            if self.graph.ntotal < self.graph_rows:
                # Not the graph state.json speaks of: open the store again (SearchIndex.refresh
                # does). One with more rows is a newer one, whose extra rows searches skip.
                raise ValueError("the graph changed while the store was being opened")
        self._tail: np.ndarray | None = None
        self._by_category: dict[int, np.ndarray] = {}
        self._changed()
        self._index_pids()

    def _mapped(self, rows: int) -> np.ndarray:
        """The first `rows` passage vectors, mapped from vectors.f16 (as a plain array: a
        np.memmap spends more in Python on a small slice than the slice itself takes)."""
        mapped = np.memmap(self.path / "vectors.f16", dtype=np.float16, mode="r", shape=(rows, DIM))
        return np.asarray(mapped)

    @property
    def tail(self) -> np.ndarray:
        """The rows not yet in the graph, as float32: mapped from the file the writer made of
        them (up to TAIL_ROWS rows, 12 MiB, that every process would otherwise copy), or made
        on the first search where there is no such file."""
        if self._tail is None:
            want = self.rows - self.graph_rows
            mapped = None
            if want:
                try:
                    mapped = np.load(self.path / _tail_file(self.graph_rows), mmap_mode="r")
                except (OSError, ValueError):
                    mapped = None  # none yet (an index written before), or a rebuild removed it
            if mapped is not None and mapped.shape[1:] == (DIM,) and len(mapped) >= want:
                # A newer commit's file may hold more rows; rows are only appended, never changed.
                self._tail = mapped[:want]
            else:
                self._tail = np.asarray(self.vectors[self.graph_rows :], dtype=np.float32)
        return self._tail

    def _index_pids(self) -> None:
        """Where each live paper's rows start and how many there are (rows are contiguous)."""
        live = np.flatnonzero(self.alive)
        size = int(self.pid.max()) + 1 if len(self.pid) else 1
        # Every web process holds these two: 6 bytes a paper (int32 rows, int16 passages: a paper
        # has a few), not the 12 of int64 and int32.
        self.first = np.full(size, -1, FIRST)
        self.count = np.zeros(size, COUNT)
        if len(live):
            pids, starts, counts = np.unique(self.pid[live], return_index=True, return_counts=True)
            self.first[pids] = live[starts]
            self.count[pids] = counts

    @property
    def papers(self) -> int:
        """Papers with vectors (counted once per change: a scan at 1M papers takes a millisecond)."""
        if self._papers is None:
            self._papers = int((self.count > 0).sum())
        return self._papers

    @property
    def dead(self) -> int:
        """Rows of removed or re-embedded papers, still in the files (counted once per change)."""
        if self._dead is None:
            self._dead = int(self.rows - self.alive.sum())
        return self._dead

    def _changed(self) -> None:
        self._papers = self._dead = self._alive_bits = None

    def has(self, pid: int) -> bool:
        return 0 <= pid < len(self.count) and self.count[pid] > 0

    def paper_vectors(self, pid: int) -> np.ndarray:
        if not self.has(pid):
            return np.zeros((0, DIM), np.float32)
        start = self.first[pid]
        return np.asarray(self.vectors[start : start + self.count[pid]], dtype=np.float32)

    # -- filtering -------------------------------------------------------------------------

    def category_ids(self, terms: list[str]) -> list[int]:
        """Row category ids matching codes ("cs.cl") or archives ("cs")."""
        wanted = {term.lower() for term in terms}
        return [i for code, i in self.code_ids.items() if code in wanted or code.split(".", 1)[0] in wanted]

    def _category_rows(self, code: int) -> np.ndarray:
        """Rows in one category, from the writer's lists (row_by_category.npy).

        An index written before them scans every row's codes and keeps the result, as bits (a
        byte for eight rows: as booleans, the twenty categories of a day's queries held 26 MB
        in every web process at 1M papers).
        """
        listed = self.by_category
        if listed is not None and code < listed[0]:
            codes = int(listed[0])
            start, end = int(listed[1 + code]), int(listed[2 + code])
            rows = listed[2 + codes + start : 2 + codes + end]
            keep = np.zeros(self.rows, bool)
            # A writer may have replaced the file since state.json was read: its rows past ours
            # are not this store's (rows are only appended; their categories may be newer).
            keep[rows[rows < self.rows]] = True
            return keep
        if code not in self._by_category:
            self._by_category[code] = np.packbits((self.cats == code).any(axis=1))
        return np.unpackbits(self._by_category[code], count=self.rows).view(bool)

    def mask(
        self,
        first_day: int | None,
        last_day: int | None,
        category_groups: list[list[str]] | None,
        pids: np.ndarray | None = None,
    ) -> np.ndarray:
        """Live rows passing a day range, any of each group of categories, and a set of papers."""
        keep = self.alive.copy()
        if first_day is not None:
            keep &= self.day >= first_day
        if last_day is not None:
            keep &= self.day <= last_day
        for categories in category_groups or []:
            for_any = np.zeros(self.rows, bool)
            for code in self.category_ids(categories):
                for_any |= self._category_rows(code)
            keep &= for_any
        if pids is not None:
            # From each paper's span of rows, not np.isin over every row: 4-9 ms at 1M papers.
            rows = self.rows_of(pids)[1]
            chosen = np.zeros(self.rows, bool)
            chosen[rows[rows < self.rows]] = True
            keep &= chosen
        return keep

    # -- searching -------------------------------------------------------------------------

    def _graph_search(self, query: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple:
        assert self.graph is not None
        params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]  # see open_graph
        params.efSearch = max(EF_SEARCH, k)
        if allowed is not None:
            if allowed is self.alive:
                # Every search without filters, once papers were re-embedded or removed: their
                # old rows are skipped. Packed once per change, not at each search (0.5 ms at 1M).
                if self._alive_bits is None:
                    graph_alive = self.alive[: self.graph_rows]
                    self._alive_bits = (
                        np.packbits(graph_alive, bitorder="little"),
                        int(np.count_nonzero(graph_alive)),
                    )
                bits, kept = self._alive_bits
            else:
                bits = np.packbits(allowed[: self.graph_rows], bitorder="little")
                # count_nonzero, not mean() or sum(): those are ten times slower on booleans.
                kept = int(np.count_nonzero(allowed[: self.graph_rows]))
            selector = faiss.IDSelectorBitmap(self.graph_rows, faiss.swig_ptr(bits))
            params.sel = selector
            share = max(kept / self.graph_rows, 1e-6)
            # A filter that keeps few rows leaves the graph walk fewer hits per hop: widen it.
            params.efSearch = int(min(1024, params.efSearch / min(1.0, share * 4)))
        scores, rows = self.graph.search(query[None, :], k, params=params)
        # A graph swapped in after state.json was read may hold rows past ours.
        keep = (rows[0] >= 0) & (rows[0] < self.graph_rows)
        return rows[0][keep], scores[0][keep]

    def candidates(self, query: np.ndarray, k: int, allowed: np.ndarray | None) -> np.ndarray:
        """Rows likely to hold the best `k` papers (unordered, may repeat papers)."""
        if allowed is not None and np.count_nonzero(allowed) <= EXACT_ROWS:
            rows = np.flatnonzero(allowed)
            return rows[_best_of(self.vectors[rows], query, k * 2)]
        found = []
        if self.graph is not None:
            graph_allowed = allowed if allowed is not None else (self.alive if self.dead else None)
            rows, _ = self._graph_search(query, k * GRAPH_ROWS, graph_allowed)
            found.append(rows)
        if len(self.tail):
            scores = self.tail @ query
            tail_keep = self.alive[self.graph_rows :] if allowed is None else allowed[self.graph_rows :]
            scores = np.where(tail_keep, scores, -np.inf)
            best = np.argsort(-scores)[: k * 2]
            found.append(best[np.isfinite(scores[best])] + self.graph_rows)
        return np.concatenate(found) if found else np.zeros(0, np.int64)

    def rows_of(self, pids) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Which of the papers have live rows; those rows, each paper's together and in the
        papers' order; where each of them starts in those rows; and how many it has."""
        pids = np.asarray(pids, dtype=np.int64)
        inside = (pids >= 0) & (pids < len(self.count))
        present = np.zeros(len(pids), bool)
        present[inside] = self.count[pids[inside]] > 0
        starts = self.first[pids[present]]
        counts = self.count[pids[present]].astype(np.int64)
        offsets = np.cumsum(counts) - counts
        return present, np.repeat(starts - offsets, counts) + np.arange(counts.sum()), offsets, counts

    def score_papers(self, queries: np.ndarray, pids: np.ndarray, pooling: Pooling) -> np.ndarray:
        """Exact pooled scores of papers for (q, dim) queries (a passage counts by its best query)."""
        scores = np.full(len(pids), -np.inf, dtype=np.float32)
        present, rows, offsets, counts = self.rows_of(pids)
        if not present.any():
            return scores
        sims = (np.asarray(self.vectors[rows], dtype=np.float32) @ queries.T).max(axis=1)
        scores[present] = pooling.pool(sims, offsets, counts)
        return scores

    def search(
        self,
        query: np.ndarray,
        k: int,
        allowed: np.ndarray | None = None,
        pooling: Pooling | None = None,
        exclude: AbstractSet[int] = frozenset(),
    ) -> list[tuple[int, float]]:
        """The `k` papers nearest to a query vector, best first; fewer only when there are no more.

        Candidates are passages, and a paper has several: rows for k papers can hold fewer, and
        a short answer read as "no more papers" made counts exact that were not (178 of an
        'about 708'). The walk is widened until it brings k papers or no new ones."""
        if not self.rows or k <= 0:
            return []
        want, found = k + len(exclude), -1
        while True:
            rows = self.candidates(query, want, allowed)
            pids = np.unique(self.pid[rows])
            pids = pids[[int(p) not in exclude for p in pids]] if exclude else pids
            if len(pids) >= k or len(pids) <= found or want >= self.rows:
                break
            found, want = len(pids), want * 2
        scores = self.score_papers(query[None, :], pids, pooling or Pooling())
        order = np.argsort(-scores)[:k]
        return [(int(pids[i]), float(scores[i])) for i in order if np.isfinite(scores[i])]

    # -- writing (one writer at a time: the caller holds the index lock) ---------------------

    def _category_row(self, codes: list[str]) -> np.ndarray:
        row = np.full(MAX_CATS, -1, np.int16)
        ids = []
        for code in dict.fromkeys(c.lower() for c in codes):
            if code not in self.code_ids:
                self.code_ids[code] = len(self.codes)
                self.codes.append(code)
            ids.append(self.code_ids[code])
        row[: min(len(ids), MAX_CATS)] = ids[:MAX_CATS]
        return row

    def _grow_pid_index(self, pid: int) -> None:
        if pid >= len(self.first):
            size = max(pid + 1, int(len(self.first) * 1.5))
            self.first = np.concatenate([self.first, np.full(size - len(self.first), -1, FIRST)])
            self.count = np.concatenate([self.count, np.zeros(size - len(self.count), COUNT)])

    def begin(self) -> None:
        """Start a batch of changes: arrays become growable lists of new rows."""
        self._new_vectors: list[np.ndarray] = []
        self._new_meta: list[tuple[int, int, np.ndarray, int]] = []
        self.pid, self.day = self.pid.copy(), self.day.copy()
        self.cats, self.alive = self.cats.copy(), self.alive.copy()
        if self.cats.shape[1] != MAX_CATS:
            wide = np.full((len(self.cats), MAX_CATS), -1, np.int16)
            wide[:, : self.cats.shape[1]] = self.cats[:, :MAX_CATS]
            self.cats = wide
        self._pending = self.rows
        self._changed()

    def remove(self, pid: int) -> None:
        """Mark a paper's rows dead."""
        if self.has(pid):
            start = self.first[pid]
            self.alive[start : start + self.count[pid]] = False
            self.first[pid], self.count[pid] = -1, 0
            self._changed()

    def put(self, pid: int, vectors: np.ndarray, day: int, categories: list[str]) -> None:
        """Give a paper new vectors (its old rows die)."""
        self.remove(pid)
        self._grow_pid_index(pid)
        self._new_vectors.append(np.asarray(vectors, dtype=np.float16))
        self._new_meta.append((pid, day, self._category_row(categories), len(vectors)))
        self.first[pid], self.count[pid] = self._pending, len(vectors)
        self._pending += len(vectors)
        self._changed()

    def describe(self, pid: int, day: int, categories: list[str]) -> None:
        """Update the day and categories of a paper whose vectors are unchanged."""
        if self.has(pid) and self.first[pid] < self.rows:
            start = self.first[pid]
            rows = slice(start, start + self.count[pid])
            self.day[rows] = day
            self.cats[rows] = self._category_row(categories)

    def commit(self, *, graph: bool = True) -> None:
        """Write the batch: append vectors, rewrite row arrays, and (if `graph`) grow the graph."""
        added = sum(len(v) for v in self._new_vectors)
        if added:
            with open(self.path / "vectors.f16", "ab") as handle:
                # Rows a crashed writer appended past the committed count are dropped first.
                handle.truncate(self.rows * DIM * 2)
                for block in self._new_vectors:
                    handle.write(np.ascontiguousarray(block, dtype="<f2").tobytes())
                handle.flush()
                os.fsync(handle.fileno())
            pids = np.concatenate([np.full(n, pid, np.int64) for pid, _, _, n in self._new_meta])
            days = np.concatenate([np.full(n, day, np.int32) for _, day, _, n in self._new_meta])
            cats = np.concatenate([np.repeat(row[None, :], n, axis=0) for _, _, row, n in self._new_meta])
            self.pid = np.concatenate([self.pid, pids])
            self.day = np.concatenate([self.day, days])
            self.cats = np.concatenate([self.cats, cats])
            self.alive = np.concatenate([self.alive, np.ones(added, bool)])
        rows = self.rows + added
        for name, array in (
            ("row_pid", self.pid),
            ("row_day", self.day),
            ("row_cats", self.cats),
            ("row_alive", self.alive),
            ("row_by_category", rows_by_category(self.cats, len(self.codes))),
        ):
            _atomic_save(self.path / f"{name}.npy", array)
        graph_rows = self.graph_rows
        if graph and rows - graph_rows >= TAIL_ROWS:
            graph_rows = self._extend_graph(rows)
        self._write_tail(graph_rows, rows)
        _atomic_json(
            self.path / "state.json",
            {
                "rows": rows,
                "graph_rows": graph_rows,
                "categories": self.codes,
                "dim": DIM,
                "version": self.version + 1,
            },
        )
        self.load()

    def _write_tail(self, graph_rows: int, rows: int) -> None:
        """Write the rows the graph lacks as float32, for every process to map (see `tail`);
        a reader still on an older state whose file is gone makes its own copy. A long sync's
        flushes, which leave the graph for the end, write none."""
        name = _tail_file(graph_rows)
        if 0 < rows - graph_rows <= TAIL_ROWS:
            vectors = self._mapped(rows)
            _atomic_save(self.path / name, np.asarray(vectors[graph_rows:rows], dtype=np.float32))
        for old in self.path.glob(_tail_file("*")):
            if old.name != name:
                old.unlink(missing_ok=True)

    def _extend_graph(self, rows: int) -> int:
        """Add the tail to the HNSW graph and write it; returns the rows it now covers."""
        vectors = self._mapped(rows)
        graph = None
        if self.graph_rows:
            # A copy of our own: a mapped graph can't grow (faiss aborts the process on add).
            graph = faiss.read_index(str(self.path / "graph.faiss"))
            if graph.ntotal != self.graph_rows:
                # Left by a writer that died between writing the graph and state.json: its row
                # numbers can't be trusted, so the graph is made again.
                graph, self.graph_rows = None, 0
        if graph is None:
            graph = _new_graph()
        step = 65_536
        for start in range(self.graph_rows, rows, step):
            graph.add(np.asarray(vectors[start : min(rows, start + step)], dtype=np.float32))
        tmp = self.path / f".graph.faiss.{os.getpid()}.tmp"
        faiss.write_index(graph, str(tmp))
        os.replace(tmp, self.path / "graph.faiss")
        return rows


def _new_graph(qtype: int = faiss.ScalarQuantizer.QT_8bit):
    """An empty HNSW graph that keeps each vector as 8-bit codes over [-1, 1] in every dimension.

    The walk only picks candidates, which are then scored exactly from vectors.f16, so the graph
    keeps a byte a dimension instead of fp16's two: at 1M papers (1.3M passages) the graph's file,
    which every web process maps, is about 480 MiB smaller. The range is a unit vector's, not one
    learnt from the first papers: codes trained on those clipped the papers of a topic that came
    later, and the walk then missed 19 of their best 20 (tests/search/test_vectorstore.py).
    At 100k papers, walking for 2 rows a paper as before, recall@10 was 0.991 against fp16's
    0.992; GRAPH_ROWS' 4 give 0.997 (bench/hnsw_recall.py --graph-codes).
    `qtype` QT_fp16 makes the graphs of before, for bench/hnsw_recall.py's comparison.
    """
    # The stubs want a ScalarQuantizer where faiss takes its QT_ code (see open_graph).
    graph = faiss.IndexHNSWSQ(DIM, qtype, HNSW_M, faiss.METRIC_INNER_PRODUCT)  # type: ignore[arg-type]
    graph.hnsw.efConstruction = EF_CONSTRUCTION
    # Trained on the corners of the range: each dimension's minimum -1 and maximum 1.
    graph.train(np.vstack([np.eye(DIM), -np.eye(DIM)]).astype(np.float32))
    return graph
