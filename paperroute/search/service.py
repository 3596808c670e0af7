"""Search, related papers and index upkeep: the only functions other areas call."""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from paperroute.catalog import latex
from paperroute.catalog.records import pasted_identifier
from paperroute.catalog.textclean import teaser_text
from paperroute.conf import Config
from paperroute.progress import counter
from paperroute.search.filters import Filters, combine
from paperroute.search.hybrid import FusionParams, fuse
from paperroute.search.index import (
    SCHEMA,
    SearchIndex,
    current_generation,
    read_manifest,
    root_dir,
    writer_lock,
)
from paperroute.search.indexer import SyncReport, update
from paperroute.search.lexical import STEM_NO_STOP, LexicalIndex
from paperroute.search.query import ParsedQuery, parse
from paperroute.search.snippets import snippet, spans
from paperroute.search.vectorstore import Pooling

MODES = ("hybrid", "lexical", "semantic")
MAX_TOTAL = 1000  # results available for paging
MAX_LIMIT = 120  # Hugging Face's papers search takes up to 120
MATCH_CAP = 20_000  # papers a phrase or author filter may pick for the semantic side
STALE_CHECK = 5.0  # seconds between checks that the catalogue moved on past the index
# Vectors shipped for the demo sample, so that `paperroute demo` has semantic search at once
# (embedding its 1,579 papers would take about two minutes on two cores).
PRECOMPUTED = (Path(__file__).resolve().parent.parent / "demo" / "vectors.npz",)
FUSION = FusionParams()
POOLING = Pooling()


@dataclass(frozen=True)
class RelevanceFloor:
    """Which candidates count as matching at all (measured in BENCHMARKS.md, "Relevance floor").

    A ranking always has a first result, however unrelated; the floor cuts the tail off it.
    A paper matches a query of a few keywords ("speculative decoding") when it holds every one
    of them or is close to the query in meaning. A longer query describes what is wanted
    ("how do draft models speed up decoding"), and any paper not plainly unrelated may be the
    one sought; but when no paper holds any of its words, it too must be close in meaning.
    """

    dense: float = 0.40  # cosine similarity that matches on its own (nonsense reaches 0.34)
    keywords: int = 3  # queries of up to this many words are keywords ...
    loose: float = 0.10  # ... longer ones match papers of at least this cosine
    unknown: float = 0.50  # when no paper holds any query word, the cosine that matches
    enabled: bool = True


FLOOR = RelevanceFloor()
ESTIMATE_SAMPLE = 4000  # passages (of whole papers) sampled to estimate how many papers pass the floor


class SearchError(Exception):
    """A query that cannot be run; str(exc) is a message fit to show a user."""


class IndexMissing(SearchError):
    """No search index has been built in the data directory yet."""


class IndexUnreadable(IndexMissing):
    """The index on disk cannot be opened (an older paperroute's, or a damaged one)."""


MISSING = (
    "the search index has not been built yet: the worker builds it, or `paperroute index sync`; "
    "until then search finds nothing"
)
UNREADABLE = (
    "the search index cannot be read ({}): the worker's next sync rebuilds it, or "
    "`paperroute index rebuild`; until then search finds nothing"
)
BEHIND = (
    "the search index is behind the catalogue: papers added or changed in the last minutes may "
    "be missing until the worker syncs it"
)


@dataclass
class Hit:
    key: str
    score: float
    snippet: str
    highlights: list[tuple[int, int]] = field(default_factory=list)
    title_highlights: list[tuple[int, int]] = field(default_factory=list)
    title: str = ""  # for display: TeX accents made Unicode, as the highlights count it
    # The catalogue's paper, when the caller had search() load the papers (`load`).
    paper: Any = field(default=None, repr=False, compare=False)


@dataclass
class Results:
    hits: list[Hit]
    total: int
    mode: str
    message: str = ""
    exact: bool = True  # False: `total` is an estimate ("about N")
    corrected: str = ""  # the query these results are for, when a typo was corrected
    original: str = ""  # ... and the query as typed
    suggestion: str = ""  # a correction offered but not applied ("did you mean")
    fewer: str = ""  # when nothing matched: the query without its rarest word
    behind: bool = False  # the index lags the catalogue (or is missing): newest papers may be absent
    missing_arxiv: str = ""  # the query was this arXiv paper's id or link, and it is not here


# -- the open index of this process --------------------------------------------------------

_lock = threading.RLock()
_indexes: dict[Path, SearchIndex] = {}
_last_stale_check: dict[Path, float] = {}
_behind: dict[Path, tuple[tuple, bool]] = {}  # the index's signature when checked, and the answer


def _config() -> tuple[Path, Config]:
    from django.conf import settings

    return root_dir(settings.DATA_DIR), settings.CONFIG


def _embedder():
    from paperroute.search.embedder import shared

    _, config = _config()
    return shared(
        threads=config.embed_threads, batch_size=config.embed_batch, kept_queries=config.query_cache
    )


def _query_service():
    """The host's query service (one model and one spelling dictionary for every web process),
    when `paperroute serve` started this process beside one."""
    from paperroute.search import queryserver

    return queryserver.remote(_embedder)


def _query_embedder():
    """What embeds queries: the host's query service, else the model in this process."""
    return _query_service() or _embedder()


def model_id() -> str:
    from paperroute.search.embedder import model_id as current

    return current()


def _update(*, rebuild: bool, embed: bool, progress=counter) -> SyncReport:
    root, config = _config()
    with writer_lock(root):
        report = update(
            root,
            model=model_id(),
            embedder=_embedder if embed else None,
            progress=progress,
            rebuild=rebuild,
            threads=max(1, config.embed_threads),
            precomputed=PRECOMPUTED,
        )
    with _lock:
        _behind.pop(root, None)  # this process changed it: ask the database again
    if root in _indexes:
        _indexes[root].checked = 0.0  # this process changed it: look again at the next query
    return report


def sync(*, embed: bool = True, progress=counter) -> SyncReport:
    """Add new and changed papers to the index (by watermark), then embed those lacking vectors."""
    return _update(rebuild=False, embed=embed, progress=progress)


def rebuild(*, embed: bool = True, progress=counter) -> SyncReport:
    """Rebuild the index from the catalogue, reusing the vectors stored in the database."""
    return _update(rebuild=True, embed=embed, progress=progress)


def _catalogue_moved(index: SearchIndex) -> bool:
    from django.db.models import Max

    from paperroute.catalog.models import Paper

    newest = Paper.objects.aggregate(newest=Max("changed_at"))["newest"]
    mark = index.manifest.get("paper_mark")
    return newest is not None and (mark is None or newest.isoformat() > mark)


def open_index() -> SearchIndex:
    """This process's view of the index as the last sync or rebuild left it on disk.

    Never builds or syncs it: web requests only read, and the worker (or `paperroute index
    sync`, or an ingest) writes. `is_behind` says whether the catalogue has moved on since.
    """
    root, _ = _config()
    with _lock:
        index = _indexes.setdefault(root, SearchIndex(root))
        if not index.refresh():
            raise IndexUnreadable(UNREADABLE.format(index.error)) if index.error else IndexMissing(MISSING)
        if not index.ready:
            raise SearchError("the search index could not be opened; run `paperroute index rebuild`")
        return index


_versions: dict[Path, tuple[float, tuple, str]] = {}  # root: (checked at, manifest's signature, version)
VERSION_CHECK = 0.5  # seconds between looks at the disk (the open index looks every second)


def version() -> str:
    """Which index this process serves: its generation and what its last sync saw ("" without
    one). For caches of what is made from the index (search pages, related papers): it changes
    with each rebuild and each sync that indexed something, not with a sync that found nothing
    to do (which rewrites the manifest all the same). It reads `CURRENT` and stats the manifest
    at most every VERSION_CHECK seconds (that cost as much as the database's stamp on every
    page), and the manifest only when it changed.

    When the index on disk changed, this process's open index is brought up to it first: a page
    keyed by the new index but rendered from the old, open for up to a second more, was cached
    stale for as long as pages are cached."""
    root, _ = _config()
    now = time.monotonic()
    known = _versions.get(root)
    if known is not None and now - known[0] < VERSION_CHECK:
        return known[2]
    try:
        generation = current_generation(root)
        if generation is None:
            _versions[root] = (now, (), "")
            return ""
        stat = (generation / "manifest.json").stat()
        signature = (generation.name, stat.st_mtime_ns, stat.st_size)
        if known is None or known[1] != signature:
            manifest = read_manifest(generation)
            marks = [manifest.get(k) for k in ("revision", "paper_mark", "vector_mark")]
            known = (now, signature, ":".join([generation.name, *map(str, marks)]))
        _versions[root] = known = (now, signature, known[2])
    except (OSError, ValueError):  # swapped out by a rebuild just now, or unreadable: no index
        return ""
    with _lock:
        index = _indexes.get(root)
        if index is not None and index.signature and index.signature != signature:
            index.refresh(every=0)
    return known[2]


def outdated() -> bool:
    """Whether the index on disk was made by a version that indexed papers differently (the
    next sync rebuilds it; the worker runs that sync at once rather than at its next round)."""
    root, _ = _config()
    try:
        generation = current_generation(root)
        return generation is not None and read_manifest(generation).get("schema") != SCHEMA
    except (OSError, ValueError):
        return False


def unembedded() -> int:
    """How many papers the index on disk holds without vectors, as its last sync left them."""
    root, _ = _config()
    try:
        generation = current_generation(root)
        manifest = read_manifest(generation) if generation is not None else {}
    except (OSError, ValueError):
        return 0
    return max(0, int(manifest.get("papers", 0)) - int(manifest.get("embedded", 0)))


def is_behind(index: SearchIndex | None = None) -> bool:
    """Whether papers were added or changed after the index's last sync (True without an index).

    Asks the database at most every STALE_CHECK seconds per index, and again whenever the
    index on disk changed.
    """
    if index is None:
        try:
            index = open_index()
        except IndexMissing:
            return True
    now = time.monotonic()
    with _lock:
        signature, behind = _behind.get(index.root, ((), False))
        if signature == index.signature and now - _last_stale_check.get(index.root, 0) <= STALE_CHECK:
            return behind
        _last_stale_check[index.root] = now
    behind = _catalogue_moved(index)
    with _lock:
        _behind[index.root] = (index.signature, behind)
    return behind


# -- retrieval -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """Where the nearest papers may come from: the rows the filters allow (None: every row), the
    papers a phrase or author filter matched (None: no such filter, or too many to list, so
    the nearest are checked one by one) and how many papers may match."""

    allowed: np.ndarray | None
    pids: np.ndarray | None
    available: int
    few: np.ndarray | None = None  # the papers the filters allow, when they are few (EXACT_ROWS)


# Filters that allow at most this many rows: their papers are counted, and scored, one by one.
EXACT_ROWS = 5000
# Sampled papers the filters must let through for the sample to estimate their share.
MIN_INSIDE = 30


def _scope(index: SearchIndex, parsed: ParsedQuery, filters: Filters) -> _Scope:
    store, lexical = index.vectors, index.lexical
    pids = None
    if parsed.phrases or filters.authors:
        matched, total = lexical.matching(ParsedQuery(phrases=parsed.phrases), filters, MATCH_CAP)
        if total <= MATCH_CAP:
            pids = np.asarray(matched, dtype=np.int64)
    allowed = None
    # Without filters the store skips the rows of removed and re-embedded papers by itself.
    if not filters.empty or pids is not None:
        allowed = store.mask(filters.first_day, filters.last_day, filters.category_groups, pids)
    if allowed is None:
        return _Scope(allowed, pids, store.papers)
    # Papers have several passages: count them exactly where it is cheap, else from the rows at
    # the catalogue's passages a paper.
    rows = int(np.count_nonzero(allowed))
    if rows <= EXACT_ROWS:
        few = np.unique(store.pid[allowed])
        return _Scope(allowed, pids, int(few.size), few)
    return _Scope(allowed, pids, round(rows * store.papers / max(1, store.rows - store.dead)))


def _vector_later(text: str) -> Callable[[], np.ndarray]:
    """The query's vector, asked for now and read when called: the host's query service runs
    the model while this process does the part of the search that needs no vector (the
    filters' rows, the keyword side; about 1.4 ms of a hybrid search at 1M papers)."""
    embedder = _query_embedder()
    later = getattr(embedder, "embed_later", None)
    if later is None:  # the model in this process: nothing to overlap
        return lambda: embedder.embed_queries([text])[0]
    vectors = later([text])
    return lambda: vectors()[0]


def _semantic(
    index: SearchIndex, parsed: ParsedQuery, filters: Filters, depth: int, vector: np.ndarray, scope: _Scope
) -> dict[int, float]:
    """Nearest papers in the scope, without those missing a phrase or holding an exclusion."""
    store, lexical = index.vectors, index.lexical
    allowed, pids = scope.allowed, scope.pids
    results: list[tuple[int, float]] = []
    want = depth
    for _ in range(4):
        found = store.search(vector, want, allowed, POOLING)
        results = _verify(lexical, parsed, filters, found, checked=pids is not None)
        if len(results) >= depth or len(found) < want:
            break
        want *= 4  # exclusions or a broad phrase filter rejected many: look deeper
    return dict(results[:depth])


def _verify(
    lexical: LexicalIndex,
    parsed: ParsedQuery,
    filters: Filters,
    found: list[tuple[int, float]],
    checked: bool,
) -> list[tuple[int, float]]:
    """Drop nearest papers that miss a phrase or author filter or contain an excluded word."""
    phrases = [] if checked else parsed.phrases
    authors = [] if checked else filters.authors
    if not found or not (phrases or authors or parsed.excluded):
        return found  # nothing to check: most queries, which would pay a pass over the index
    query = ParsedQuery(phrases=phrases, excluded=parsed.excluded)
    keep_filters = Filters(authors=authors)
    pids = [pid for pid, _ in found]
    matched, _ = lexical.matching(query, keep_filters, len(pids), within=pids)
    ok = set(matched)
    return [(pid, score) for pid, score in found if pid in ok]


def _retrieve(
    index: SearchIndex, parsed: ParsedQuery, filters: Filters, mode: str, depth: int
) -> tuple[list[tuple[int, float]], int, bool]:
    """Ranked (pid, score) of the papers that match, how many match, and whether that count
    is exact (otherwise it is an estimate)."""
    lexical = index.lexical
    # Filters alone list the newest papers; words the index cannot hold (tantivy drops those over
    # 40 characters) are words no paper holds, not no words: they listed every paper.
    wordless = not parsed.has_text
    words = len(lexical.word_clauses(parsed))
    keywords = FLOOR.enabled and 0 < words <= FLOOR.keywords
    if mode == "lexical" or wordless:
        hits, total = lexical.search(parsed, filters, depth, every_word=keywords)
        return hits, total, True
    vector_of = _vector_later(parsed.text)
    width = depth if mode == "semantic" else max(depth, FUSION.depth)
    scope = _scope(index, parsed, filters)
    if mode == "hybrid":
        lex_hits, _ = lexical.search(parsed, filters, width, count=False)
    vector = vector_of()
    dense, available = _semantic(index, parsed, filters, width, vector, scope), scope.available
    if mode == "semantic":
        if not FLOOR.enabled:
            return sorted(dense.items(), key=lambda item: (-item[1], item[0])), available, True
        if keywords:
            # Papers holding every word match too: rank them by meaning among the rest.
            lex_hits, _ = lexical.search(parsed, filters, width, count=False, every_word=True)
            _add_cosines(index, vector, dense, [pid for pid, _ in lex_hits])
            words_seen = len(lex_hits) < width
            # The floor asks whether any paper holds any word (else only a clear closeness in
            # meaning matches); none holding every word is not that, and lost papers hybrid finds.
            any_word = lex_hits or lexical.search(parsed, filters, 1, count=False)[0]
        else:
            any_word, _ = lexical.search(parsed, filters, 1, count=False)
            words_seen = True  # words alone never make a longer query match here
        ranked = sorted(dense.items(), key=lambda item: (-item[1], item[0]))
        return _floor(
            index, parsed, filters, ranked, dense, any_word, words_seen, keywords, width, vector, scope
        )
    lex = dict(lex_hits)
    # Score every candidate on both sides, so that fusion compares like with like.
    only_dense = [pid for pid in dense if pid not in lex]
    if only_dense:
        filled = lexical.scores_for(parsed, only_dense)
        lex.update({pid: filled.get(pid, 0.0) for pid in only_dense})
    _add_cosines(index, vector, dense, list(lex))
    ranked = fuse(lex, dense, FUSION)
    if not FLOOR.enabled:
        # Every paper the filters let through has a place in the semantic ranking.
        return ranked, max(len(ranked), available), True
    return _floor(
        index,
        parsed,
        filters,
        ranked,
        dense,
        lex_hits,
        len(lex_hits) < width,
        keywords,
        width,
        vector,
        scope,
    )


def _paged(
    index: SearchIndex, parsed: ParsedQuery, filters: Filters, mode: str, depth: int
) -> tuple[list[tuple[int, float]], int, bool]:
    """_retrieve's ranking, the same for every page of a query, so that paging through it shows
    each paper once.

    A ranking made `depth` deep is not a prefix of a deeper one: fusion and the relevance floor
    see more candidates, and the nearest-neighbour walk goes further. Asked for each page's own
    depth, page 4 repeated papers of page 3 and never showed others. So the ranking is made at
    fixed widths instead, the first one a page of `limit` fits in (FUSION.depth, doubled as
    needed), then doubled: a page deeper than a width keeps the places the pages before it
    showed, and fills the rest from the deeper ranking. Keyword rankings are the same at any
    depth, and are made at the page's own.
    """
    if mode == "lexical":
        return _retrieve(index, parsed, filters, mode, depth)
    width = min(FUSION.depth, MAX_TOTAL)
    ranked, total, exact = _retrieve(index, parsed, filters, mode, width)
    # Deeper while the page lies past this width, or past a ranking that ended before the count
    # of papers that match (the floor counts papers the candidates did not reach).
    while width < MAX_TOTAL and (depth > width or len(ranked) < min(depth, total)):
        shown = ranked[:width]
        width = min(width * 2, MAX_TOTAL)
        deeper, total, exact = _retrieve(index, parsed, filters, mode, width)
        seen = {pid for pid, _ in shown}
        ranked = shown + [item for item in deeper if item[0] not in seen]
    return ranked, total, exact


def _add_cosines(index: SearchIndex, vector: np.ndarray, dense: dict[int, float], pids: list[int]) -> None:
    """Give `dense` the cosine of each of `pids` it lacks (those with vectors)."""
    missing = np.asarray([pid for pid in pids if pid not in dense], dtype=np.int64)
    if len(missing):
        exact = index.vectors.score_papers(vector[None, :], missing, POOLING)
        dense.update({int(p): float(s) for p, s in zip(missing, exact) if np.isfinite(s)})


def _floor(
    index: SearchIndex,
    parsed: ParsedQuery,
    filters: Filters,
    ranked: list[tuple[int, float]],
    dense: dict[int, float],
    lex_hits: list[tuple[int, float]],
    words_seen: bool,
    keywords: bool,
    width: int,
    vector: np.ndarray,
    scope: _Scope,
) -> tuple[list[tuple[int, float]], int, bool]:
    """The ranked candidates that pass the relevance floor, how many papers pass it in all,
    and whether that count is exact. `dense` has the cosine of every candidate that has a
    vector; `lex_hits` are the keyword side's candidates (the first one at least), and
    `words_seen` says whether they were all the papers that words alone could match."""
    lexical = index.lexical
    if not lex_hits:
        # Words no paper holds: nonsense, typos, or a meaning put in words the papers do not
        # use. Only a clear closeness in meaning makes a match.
        cut, holding = FLOOR.unknown, set()
    elif keywords:
        cut = FLOOR.dense
        holding = lexical.holding_all(parsed, [pid for pid, _ in ranked])
    else:
        cut = FLOOR.loose
        holding = {pid for pid, score in lex_hits if score > 0}

    def matches(pid: int) -> bool:
        cosine = dense.get(pid)
        if cosine is None:  # not embedded yet: judged by its words alone
            return pid in holding
        return cosine >= cut or (keywords and pid in holding)

    kept = [(pid, score) for pid, score in ranked if matches(pid)]
    near = sum(1 for score in dense.values() if score >= cut)
    if near < width and words_seen:
        return kept, len(kept), True  # every paper either side could match was seen
    if keywords and near < width:
        # All papers close in meaning were seen; those holding every word are counted.
        close_only = sum(1 for pid, _ in kept if pid not in holding)
        return kept, max(len(kept), lexical.count_all(parsed, filters) + close_only), True
    estimate = _estimate(index, vector, scope, cut)
    if keywords:
        # Papers close in meaning or holding every word: the close ones, and those holding every
        # word less the share of them that are close too, as among the candidates seen. At
        # least those holding every word and the close ones seen that do not.
        seen_holding = [pid for pid in holding if pid in dense]
        both = sum(1 for pid in seen_holding if dense[pid] >= cut) / len(seen_holding) if seen_holding else 0
        every_word = lexical.count_all(parsed, filters)
        close_only = sum(1 for pid, _ in kept if pid not in holding)
        estimate = max(estimate + round(every_word * (1 - both)), every_word + close_only)
    return kept, max(len(kept), estimate), False


def _estimate(index: SearchIndex, vector: np.ndarray, scope: _Scope, cut: float) -> int:
    """About how many of the papers the filters let through are at least `cut` close in
    meaning: each of them when they are few, else the share of the sampled papers among them
    that are.

    The share of all sampled papers was no share of a category's: "how do agents use tools to
    solve tasks" in cs.AI said about 71 where 148 could be paged to."""
    store = index.vectors
    if scope.few is not None:
        return int(np.count_nonzero(store.score_papers(vector[None, :], scope.few, POOLING) >= cut))
    sample = _estimate_sample(index)
    if not sample.papers:
        return 0
    close = POOLING.pool(sample.vectors @ vector, sample.offsets, sample.counts) >= cut
    if scope.allowed is not None:
        inside = scope.allowed[sample.first_rows]
        if np.count_nonzero(inside) >= MIN_INSIDE:
            close = close[inside]
    return int(round(float(close.mean()) * scope.available))


@dataclass(frozen=True)
class _Sample:
    """Whole papers' passage vectors, each paper's rows together from its offset."""

    vectors: np.ndarray
    offsets: np.ndarray
    counts: np.ndarray
    first_rows: np.ndarray  # each paper's first row in the store, for the filters' row masks

    @property
    def papers(self) -> int:
        return len(self.offsets)


_samples: dict[tuple, _Sample] = {}


def _estimate_sample(index: SearchIndex) -> _Sample:
    """A fixed random sample of the embedded papers, with every live passage of each, kept
    while the index is unchanged (read once: a sample scattered over a large memory-mapped
    file is slow to gather).

    Whole papers, scored as searches score them: a paper matches by its best passage, and the
    share of single passages that pass was about half the share of papers (43 of the demo's
    1,578 papers estimated, where 74 are that close)."""
    store = index.vectors
    key = (index.root, index.generation, store.rows, store.dead)
    sample = _samples.get(key)
    if sample is None:
        pids = np.flatnonzero(store.count > 0)
        rng = np.random.default_rng(len(pids))  # the same sample for the same index
        # Each paper has a passage at least, so ESTIMATE_SAMPLE papers drawn hold enough; of
        # those, as many as fit in ESTIMATE_SAMPLE passages, and one at least. (Shuffling every
        # paper took a quarter of a second at 3M, on the first search after each update.)
        pids = rng.choice(pids, min(len(pids), ESTIMATE_SAMPLE), replace=False)
        fit = max(1, int(np.searchsorted(np.cumsum(store.count[pids]), ESTIMATE_SAMPLE, side="right")))
        _, rows, offsets, counts = store.rows_of(np.sort(pids[:fit]))
        vectors = np.asarray(store.vectors[rows], dtype=np.float32)
        sample = _Sample(vectors, offsets, counts, rows[offsets])
        with _lock:
            _samples.clear()  # one index per process in practice; never let them pile up
            _samples[key] = sample
    return sample


Loader = Callable[[list[int]], Mapping[int, Any]]


def _rows(
    pids: list[int], load: Loader | None = None, teasers: bool = True
) -> dict[int, tuple[str, str, str, Any]]:
    """Each paper's key, display title, teaser (its whole abstract on one line; "" without
    `teasers`) and, with `load`, the object it gave for the paper (one with key, title and
    abstract), by id.

    From the database, not the index: the index kept a copy of every abstract for this, 973 MiB
    of its 1,385 at 1M papers, which the searches paged in bit by bit until every web process
    had mapped nearly all of it; the pages that show results read these papers' rows anyway.
    """
    teaser = teaser_text if teasers else lambda abstract: ""
    if load is not None:
        return {
            pid: (p.key, latex.title_unicode(p.title, p.key), teaser(p.abstract), p)
            for pid, p in load(pids).items()
        }
    from paperroute.catalog.models import Paper

    found = Paper.objects.filter(pk__in=pids).values_list("pk", "key", "title", "abstract")
    return {
        pid: (key, latex.title_unicode(title, key), teaser(abstract), None)
        for pid, key, title, abstract in found
    }


def _hits(
    ranked: list[tuple[int, float]],
    parsed: ParsedQuery,
    load: Loader | None = None,
    snippets: bool = True,
) -> list[Hit]:
    """Result rows in the ranking's order, with their snippets and highlights unless not wanted."""
    rows = _rows([pid for pid, _ in ranked], load, teasers=snippets) if ranked else {}
    stems = set(STEM_NO_STOP.analyze(" ".join([*parsed.words, *parsed.phrases]))) if snippets else set()
    hits = []
    for pid, score in ranked:
        row = rows.get(pid)
        if row is None:
            continue  # removed from the catalogue since it was ranked
        key, title, teaser, paper = row
        text, marks = snippet(teaser or title, stems) if snippets else ("", [])
        hits.append(
            Hit(
                key=key,
                score=round(float(score), 6),
                snippet=text,
                highlights=marks,
                title_highlights=spans(title, stems),
                title=title,
                paper=paper,
            )
        )
    return hits


def search(
    query: str,
    *,
    mode: str = "hybrid",
    limit: int = 20,
    offset: int = 0,
    since: date | None = None,
    until: date | None = None,
    categories: list[str] | None = None,
    authors: list[str] | None = None,
    correct: bool = True,
    load: Loader | None = None,
    snippets: bool = True,
) -> Results:
    """Ranked papers for a user query; raises SearchError only with a message for the user.

    With `correct`, a query holding words no paper contains is corrected from the index's
    vocabulary: the corrected query's results are shown when they are closer in meaning (or
    the query found nothing); otherwise, or without `correct`, it is offered as a suggestion.

    `load(ids)` gives the papers to show by id, each with key, title and abstract: the hits are
    made from them and carry them (Hit.paper), so that a page reads its papers once.

    Without `snippets` the hits have no snippet or highlights, for callers that show none (the
    API, MCP, feeds): making them took about 1.5 ms of a search at 1M papers.
    """
    if mode not in MODES:
        raise SearchError(f"unknown search mode {mode!r}: use one of {', '.join(MODES)}")
    limit = max(1, min(int(limit), MAX_LIMIT))
    # Past the last result there is nothing to show (it showed the last page again).
    offset = max(0, min(int(offset), MAX_TOTAL))
    depth = min(offset + limit, MAX_TOTAL)
    # Only without dates: a followed topic, the feed of a search and the digest ask for a
    # period's papers, and a paper named by its id is not news every day.
    named = pasted_identifier(query or "") if since is None and until is None else None
    if named is not None:
        return _identified(*named, mode=mode, offset=offset, load=load, snippets=snippets)
    parsed = parse(query or "")
    filters = combine(parsed, since=since, until=until, categories=categories, authors=authors)
    notes = list(parsed.notes)
    if not parsed.has_text and filters.empty:
        notes.append("type words to search for, or a filter such as cat:cs.CL")
        return Results(hits=[], total=0, mode=mode, message="; ".join(notes))
    if filters.impossible:
        notes.append("the date range is empty")
        return Results(hits=[], total=0, mode=mode, message="; ".join(notes))
    try:
        index = open_index()
    except IndexMissing as exc:
        notes.append(str(exc))
        return Results(hits=[], total=0, mode=mode, message="; ".join(notes), behind=True)
    behind = is_behind(index)
    if behind:
        notes.append(BEHIND)
    ranked, total, exact = _paged(index, parsed, filters, mode, depth)
    corrected, suggestion = "", ""
    fixed = _corrected(index, query or "", parsed)
    if fixed:
        other = parse(fixed)
        other_ranked, other_total, other_exact = _paged(index, other, filters, mode, depth)
        if correct and other_ranked and (not ranked or _closer(other_ranked, ranked, mode)):
            ranked, total, exact, parsed, corrected = other_ranked, other_total, other_exact, other, fixed
        elif other_ranked:
            suggestion = fixed
    if mode != "lexical" and index.vectors.papers < index.manifest.get("papers", 0):
        missing = index.manifest.get("papers", 0) - index.vectors.papers
        notes.append(f"{missing} papers are not embedded yet, so only keyword search finds them")
    fewer = _without_rarest_word(index, corrected or query or "", parsed, filters) if not ranked else ""
    words = list(dict.fromkeys(parsed.words))
    unknown = [w for w in words if not index.lexical.known(w)]
    # As web search says "Missing: …": these words played no part. When nothing matched, a
    # query of one word already says so.
    if unknown and (ranked or len(words) > 1):
        notes.append("no paper contains " + ", ".join(f"“{w}”" for w in unknown[:5]))
    if unknown and not ranked and not any(_latin(w) for w in words):
        notes.append(OTHER_SCRIPT)
    if not ranked:  # a mistyped category is why nothing matched, not the words
        strange = [c for c in filters.categories if not index.lexical.has_category(c)]
        if strange:
            codes = ", ".join(f"“{c}”" for c in strange[:3])
            notes.append(
                f"no paper here is in the category {codes}: try one such as cs.CL, or an archive such as cs"
            )
    return Results(
        hits=_hits(ranked[offset : offset + limit], parsed, load, snippets),
        total=min(total, MAX_TOTAL),
        mode=mode,
        message="; ".join(n for n in notes if n),
        exact=exact and total <= MAX_TOTAL,
        corrected=corrected,
        original=query if corrected else "",
        suggestion=suggestion,
        fewer=fewer,
        behind=behind,
    )


def _identified(
    kind: str, value: str, *, mode: str, offset: int = 0, load: Loader | None = None, snippets: bool = True
) -> Results:
    """The paper a query names by its arXiv id or DOI (or a link to it), alone: whatever the
    categories, and found from the catalogue, so that a paper ingested a minute ago, which the
    index does not hold yet, is found too. Its words would have matched other papers instead."""
    from django.db.models.functions import Lower

    from paperroute.catalog.models import Paper

    if kind == "arxiv":
        papers = Paper.objects.filter(key=value)
    else:  # DOIs ignore case; an index on the lower-cased column answers this
        papers = Paper.objects.alias(doi_lower=Lower("doi")).filter(doi_lower=value.lower())
    pid = papers.order_by("pk").values_list("pk", flat=True).first()
    if pid is None:
        what = f"the arXiv id {value}" if kind == "arxiv" else f"the DOI {value}"
        return Results(
            hits=[],
            total=0,
            mode=mode,
            message=f"no paper with {what} is here",
            missing_arxiv=value if kind == "arxiv" else "",
        )
    hits = _hits([(pid, 1.0)], ParsedQuery(), load, snippets) if offset == 0 else []
    return Results(hits=hits, total=1, mode=mode)


OTHER_SCRIPT = (
    "titles and abstracts here are in English, and the model that matches meaning reads English"
    " only: try the query in English"
)


def _latin(word: str) -> bool:
    """Whether a word has a letter of the Latin script (or none at all, as a number): "café" and
    "β-VAE" do, "нейронные" and "大语言模型" don't."""
    letters = [ch for ch in word if ch.isalpha()]
    return not letters or any(ch.isascii() or unicodedata.name(ch, "").startswith("LATIN") for ch in letters)


def _without_rarest_word(index: SearchIndex, query: str, parsed: ParsedQuery, filters: Filters) -> str:
    """The query without the free word the fewest papers hold, when it has two or more and
    some paper holds all the others."""
    words = [w for w in dict.fromkeys(parsed.words) if w.isalpha()]
    if len(words) < 2:
        return ""
    rarest = min(words, key=index.lexical.papers_with)
    shorter = " ".join(
        re.sub(rf"(?<![\w:]){re.escape(rarest)}(?!\w)", "", query, count=1, flags=re.I).split()
    )
    if shorter.count('"') % 2:
        # The quote the query left open was ignored; offered again, it would be ignored again.
        at = shorter.rindex('"')
        shorter = " ".join((shorter[:at] + shorter[at + 1 :]).split())
    return shorter if index.lexical.count_all(parse(shorter), filters) else ""


def _corrected(index: SearchIndex, query: str, parsed: ParsedQuery) -> str:
    """The query with each word that no paper contains replaced by its likeliest correction;
    "" unless every such word has one."""
    if index.speller is None or index.generation is None:
        return ""
    unknown = [
        word
        for word in dict.fromkeys(index.lexical.scoring_words(parsed))
        if word.isalpha() and not index.lexical.known(word)
    ]
    if not unknown:
        return ""
    client = _query_service()
    if client is not None:
        corrections = client.correct(index.generation, unknown, index.speller)
    else:
        corrections = [index.speller.correct(word) for word in unknown]
    fixed = query
    for word, better in zip(unknown, corrections):
        if not (better and index.lexical.papers_with(better)):
            return ""  # a word that cannot be corrected: nonsense stays nonsense, not half-words
        # Whole words only, and never inside a filter (author:name).
        fixed = re.sub(rf"(?<![\w:]){re.escape(word)}(?!\w)", better, fixed, flags=re.I)
    return fixed if fixed != query else ""


def _closer(corrected: list[tuple[int, float]], original: list[tuple[int, float]], mode: str) -> bool:
    """Whether the corrected query's best results score higher than the original's."""

    def strength(ranked):
        top = [score for _, score in ranked[:5]]
        return sum(top) / len(top) if top else 0.0

    if mode == "lexical":
        return len(corrected) > len(original) or strength(corrected) > strength(original)
    return strength(corrected) > strength(original)


SUGGEST_WORDS = 8


def suggest(text: str, *, limit: int = 5) -> list[Hit]:
    """Papers for a query being typed: the words so far, the last one as a prefix (keywords only,
    so that it answers between keystrokes), within the query's filters and exclusions (they were
    read as words: "cat:cs" found nothing, and "-diffusion" offered diffusion papers)."""
    named = pasted_identifier(text or "")
    if named is not None:
        return _identified(*named, mode="lexical").hits
    parsed = parse(text or "")
    words = [w for word in parsed.words for w in re.findall(r"[^\W_]+", word.lower())][:SUGGEST_WORDS]
    if not words or len(words[-1]) < 2 and len(words) == 1:
        return []
    filters = combine(parsed)
    if filters.impossible:
        return []
    try:
        index = open_index()
    except IndexMissing:
        return []
    hits = index.lexical.prefix_search(words, max(1, min(int(limit), 10)), parsed, filters)
    return _hits(hits, ParsedQuery(words=words))


def paper_matrix(pids) -> tuple[np.ndarray, np.ndarray]:
    """One unit vector per paper (the mean of its passages' vectors) for those of `pids` that
    are embedded: (vectors (n, dim) float32, their pids (n,)), in the order given (none
    before the index is built)."""
    pids = np.asarray(list(pids), dtype=np.int64)
    try:
        store = open_index().vectors
    except IndexMissing:
        return np.zeros((0, 0), np.float32), pids[:0]
    present, rows, offsets, _ = store.rows_of(pids)
    kept = pids[present]
    if not len(kept):
        return np.zeros((0, store.vectors.shape[1] if store.rows else 0), np.float32), kept
    sums = np.add.reduceat(np.asarray(store.vectors[rows], dtype=np.float32), offsets, axis=0)
    sums /= np.clip(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12, None)
    return sums, kept


def papers_about(topic: str, pids) -> set[int]:
    """Of the given papers, those whose title or abstract holds every word of a followed topic,
    under its phrases, exclusions and filters. The embedding misses names it never learnt, such
    as "LoRA" or "Mamba", which the words find. No paper before the index is built."""
    parsed = parse(topic)
    filters = combine(parsed)
    if filters.impossible:
        return set()
    try:
        index = open_index()
    except IndexMissing:
        return set()
    return index.lexical.holding_words(parsed, filters, list(pids))


def embed_texts(texts: list[str]) -> np.ndarray:
    """Query vectors for short texts (followed topics), by the index's model."""
    return np.asarray(_query_embedder().embed_queries(list(texts)), dtype=np.float32)


def related(
    key: str,
    *,
    limit: int = 5,
    load: Loader | None = None,
    snippets: bool = True,
    known: tuple[int, str] | None = None,
) -> list[Hit]:
    """The papers nearest to one paper by embedding (by its title's words until it is embedded);
    `load` and `snippets` as for search(). `known` is the paper's (id, title) when the caller
    has read them (a paper's page has)."""
    from paperroute.catalog.models import Paper

    paper = known or Paper.objects.filter(key=key).values_list("pk", "title").first()
    if paper is None:
        raise SearchError(f"no paper with the id {key!r}")
    pid, title = paper
    limit = max(1, min(int(limit), MAX_LIMIT))
    index = open_index()
    vectors = index.vectors.paper_vectors(pid)
    if not len(vectors):
        parsed = parse(title)
        hits, _ = index.lexical.search(parsed, Filters(), limit + 1)
        return _hits([h for h in hits if h[0] != pid][:limit], ParsedQuery(), load, snippets)
    centre = vectors.mean(axis=0)
    centre /= np.linalg.norm(centre) or 1.0
    found = index.vectors.search(
        centre, limit, None if not index.vectors.dead else index.vectors.alive, POOLING, exclude={pid}
    )
    return _hits(found, ParsedQuery(), load, snippets)
