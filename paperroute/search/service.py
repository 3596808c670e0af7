"""Search, related papers and index upkeep: the only functions other areas call."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from paperroute.catalog.textclean import teaser_text, unicode_text
from paperroute.progress import counter
from paperroute.search.filters import Filters, combine
from paperroute.search.hybrid import FusionParams, fuse
from paperroute.search.index import IndexBusy, SearchIndex, root_dir, writer_lock
from paperroute.search.indexer import SyncReport, update
from paperroute.search.lexical import STEM_NO_STOP, LexicalIndex
from paperroute.search.query import ParsedQuery, parse
from paperroute.search.snippets import snippet, spans
from paperroute.search.vectorstore import Pooling

MODES = ("hybrid", "lexical", "semantic")
MAX_TOTAL = 1000          # results available for paging
MAX_LIMIT = 100
MATCH_CAP = 20_000        # papers a phrase or author filter may pick for the semantic side
STALE_CHECK = 5.0         # seconds between checks that the catalogue moved on
# Vectors shipped for the demo sample, so that `paperroute demo` has semantic search at once
# (embedding its 1,579 papers would take about two minutes on two cores).
PRECOMPUTED = (Path(__file__).resolve().parent.parent / "demo" / "vectors.npz",)
FUSION = FusionParams()
POOLING = Pooling()


class SearchError(Exception):
    """A query that cannot be run; str(exc) is a message fit to show a user."""


@dataclass
class Hit:
    key: str
    score: float
    snippet: str
    highlights: list[tuple[int, int]] = field(default_factory=list)
    title_highlights: list[tuple[int, int]] = field(default_factory=list)
    title: str = ""  # for display: TeX accents made Unicode, as the highlights count it


@dataclass
class Results:
    hits: list[Hit]
    total: int
    mode: str
    message: str = ""


# -- the open index of this process --------------------------------------------------------

_lock = threading.RLock()
_indexes: dict[Path, SearchIndex] = {}
_last_stale_check: dict[Path, float] = {}


def _config() -> tuple[Path, dict]:
    from django.conf import settings

    return root_dir(settings.DATA_DIR), settings.CONFIG


def _embedder():
    from paperroute.search.embedder import shared

    _, config = _config()
    return shared(threads=config["EMBED_THREADS"], batch_size=config["EMBED_BATCH"])


def model_id() -> str:
    from paperroute.search.embedder import model_id as current

    return current()


def _update(*, rebuild: bool, embed: bool, progress=counter, wait: bool = True) -> SyncReport:
    root, config = _config()
    with writer_lock(root, wait=wait):
        report = update(root, model=model_id(), embedder=_embedder if embed else None,
                        progress=progress, rebuild=rebuild, threads=max(1, config["EMBED_THREADS"]),
                        precomputed=PRECOMPUTED)
    _last_stale_check[root] = time.monotonic()
    if root in _indexes:
        _indexes[root].checked = 0.0  # this process changed it: look again at the next query
    return report


def sync(*, embed: bool = True, progress=counter) -> SyncReport:
    """Add new and changed papers to the index (by watermark), then embed those lacking vectors."""
    return _update(rebuild=False, embed=embed, progress=progress)


def rebuild(*, embed: bool = True, progress=counter) -> SyncReport:
    """Rebuild the index from the catalogue, reusing the vectors stored in the database."""
    return _update(rebuild=True, embed=embed, progress=progress)


def import_vectors(path: Path) -> int:
    """Store precomputed vectors (such as the demo's) for the papers whose text they match."""
    from paperroute.search.vectors import import_file

    return import_file(Path(path), model_id())


def _catalogue_moved(index: SearchIndex) -> bool:
    from django.db.models import Max

    from paperroute.catalog.models import Paper

    newest = Paper.objects.aggregate(newest=Max("changed_at"))["newest"]
    mark = index.manifest.get("paper_mark")
    return newest is not None and (mark is None or newest.isoformat() > mark)


def open_index() -> SearchIndex:
    """This process's view of the index: built if missing, synced (keywords) if stale."""
    root, _ = _config()
    with _lock:
        index = _indexes.setdefault(root, SearchIndex(root))
        if not index.refresh():
            _update(rebuild=False, embed=False)
            index.refresh(every=0)
        now = time.monotonic()
        if now - _last_stale_check.get(root, 0) > STALE_CHECK:
            _last_stale_check[root] = now
            if _catalogue_moved(index):
                try:
                    _update(rebuild=False, embed=False, wait=False)
                except IndexBusy:
                    pass  # the process holding the lock is syncing it now
                index.refresh(every=0)
        if not index.ready:
            raise SearchError("the search index could not be opened; run `paperroute index rebuild`")
        return index


# -- retrieval -----------------------------------------------------------------------------

def _semantic(index: SearchIndex, parsed: ParsedQuery, filters: Filters, depth: int,
              vector: np.ndarray) -> tuple[dict[int, float], int]:
    """Nearest papers under the filters, phrases and exclusions; and how many may match."""
    store, lexical = index.vectors, index.lexical
    pids = None
    if parsed.phrases or filters.authors:
        matched, total = lexical.matching(ParsedQuery(phrases=parsed.phrases), filters, MATCH_CAP)
        if total <= MATCH_CAP:
            pids = np.asarray(matched, dtype=np.int64)
    allowed = None
    if not filters.empty or pids is not None or store.dead:
        allowed = store.mask(filters.first_day, filters.last_day, filters.categories, pids)
    available = store.papers
    if allowed is not None:
        # Rows overcount papers with several passages; count exactly only where it is cheap.
        rows = int(allowed.sum())
        available = int(np.unique(store.pid[allowed]).size) if rows <= 5000 else rows
    results: list[tuple[int, float]] = []
    want = depth
    for _ in range(4):
        found = store.search(vector, want, allowed, POOLING)
        results = _verify(lexical, parsed, filters, found, checked=pids is not None)
        if len(results) >= depth or len(found) < want:
            break
        want *= 4  # exclusions or a broad phrase filter rejected many: look deeper
    return dict(results[:depth]), available


def _verify(lexical: LexicalIndex, parsed: ParsedQuery, filters: Filters,
            found: list[tuple[int, float]], checked: bool) -> list[tuple[int, float]]:
    """Drop nearest papers that miss a phrase or author filter or contain an excluded word."""
    if not found or (checked and not parsed.excluded):
        return found
    query = ParsedQuery(phrases=[] if checked else parsed.phrases, excluded=parsed.excluded)
    keep_filters = Filters(authors=[] if checked else filters.authors)
    pids = [pid for pid, _ in found]
    ok, _ = lexical.matching(query, keep_filters, len(pids), within=pids)
    ok = set(ok)
    return [(pid, score) for pid, score in found if pid in ok]


def _retrieve(index: SearchIndex, parsed: ParsedQuery, filters: Filters, mode: str,
              depth: int) -> tuple[list[tuple[int, float]], int, str]:
    lexical = index.lexical
    wordless = not lexical.terms(lexical.scoring_words(parsed))
    if mode == "lexical" or wordless:
        hits, total = lexical.search(parsed, filters, depth)
        return hits, total, ""
    vector = _embedder().embed_queries([parsed.text])[0]
    if mode == "semantic":
        dense, available = _semantic(index, parsed, filters, depth, vector)
        ranked = sorted(dense.items(), key=lambda item: (-item[1], item[0]))
        return ranked, available, ""
    width = max(depth, FUSION.depth)
    lex_hits, _ = lexical.search(parsed, filters, width, count=False)
    # Every paper the filters let through has a place in the semantic ranking, so that is
    # how many a user can page through (up to MAX_TOTAL).
    dense, available = _semantic(index, parsed, filters, width, vector)
    lex = dict(lex_hits)
    # Score every candidate on both sides, so that fusion compares like with like.
    only_dense = [pid for pid in dense if pid not in lex]
    if only_dense:
        filled = lexical.scores_for(parsed, only_dense)
        lex.update({pid: filled.get(pid, 0.0) for pid in only_dense})
    only_lex = np.asarray([pid for pid in lex if pid not in dense], dtype=np.int64)
    if len(only_lex):
        exact = index.vectors.score_papers(vector[None, :], only_lex, POOLING)
        dense.update({int(p): float(s) for p, s in zip(only_lex, exact) if np.isfinite(s)})
    ranked = fuse(lex, dense, FUSION)
    return ranked, max(len(ranked), available), ""


def _hits(ranked: list[tuple[int, float]], parsed: ParsedQuery) -> list[Hit]:
    from paperroute.catalog.models import Paper

    rows = {pid: (key, title, abstract) for pid, key, title, abstract in Paper.objects.filter(
        pk__in=[pid for pid, _ in ranked]).values_list("pk", "key", "title", "abstract")}
    stems = set(STEM_NO_STOP.analyze(" ".join([*parsed.words, *parsed.phrases])))
    hits = []
    for pid, score in ranked:
        if pid not in rows:
            continue  # deleted since the index last synced
        key, title, abstract = rows[pid]
        title, abstract = unicode_text(title), teaser_text(abstract)
        text, marks = snippet(abstract or title, stems)
        hits.append(Hit(key=key, score=round(float(score), 6), snippet=text, highlights=marks,
                        title_highlights=spans(title, stems), title=title))
    return hits


def search(query: str, *, mode: str = "hybrid", limit: int = 20, offset: int = 0,
           since: date | None = None, until: date | None = None,
           categories: list[str] | None = None, authors: list[str] | None = None) -> Results:
    """Ranked papers for a user query; raises SearchError only with a message for the user."""
    if mode not in MODES:
        raise SearchError(f"unknown search mode {mode!r}: use one of {', '.join(MODES)}")
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = max(0, min(int(offset), MAX_TOTAL - limit))
    parsed = parse(query or "")
    filters = combine(parsed, since=since, until=until, categories=categories, authors=authors)
    notes = list(parsed.notes)
    if not parsed.has_text and filters.empty:
        notes.append("type words to search for, or a filter such as cat:cs.CL")
        return Results(hits=[], total=0, mode=mode, message="; ".join(notes))
    if filters.impossible:
        notes.append("the date range is empty")
        return Results(hits=[], total=0, mode=mode, message="; ".join(notes))
    index = open_index()
    ranked, total, note = _retrieve(index, parsed, filters, mode, offset + limit)
    if mode != "lexical" and index.vectors.papers < index.manifest.get("papers", 0):
        missing = index.manifest.get("papers", 0) - index.vectors.papers
        notes.append(f"{missing} papers are not embedded yet, so only keyword search finds them")
    return Results(hits=_hits(ranked[offset:offset + limit], parsed), total=min(total, MAX_TOTAL),
                   mode=mode, message="; ".join(n for n in [*notes, note] if n))


def related(key: str, *, limit: int = 5) -> list[Hit]:
    """The papers nearest to one paper by embedding (by its title's words until it is embedded)."""
    from paperroute.catalog.models import Paper

    paper = Paper.objects.filter(key=key).values_list("pk", "title").first()
    if paper is None:
        raise SearchError(f"no paper with the id {key!r}")
    pid, title = paper
    limit = max(1, min(int(limit), MAX_LIMIT))
    index = open_index()
    vectors = index.vectors.paper_vectors(pid)
    if not len(vectors):
        parsed = parse(title)
        hits, _ = index.lexical.search(parsed, Filters(), limit + 1)
        return _hits([h for h in hits if h[0] != pid][:limit], ParsedQuery())
    centre = vectors.mean(axis=0)
    centre /= np.linalg.norm(centre) or 1.0
    found = index.vectors.search(centre, limit, None if not index.vectors.dead else index.vectors.alive,
                                 POOLING, exclude={pid})
    return _hits(found, ParsedQuery())
