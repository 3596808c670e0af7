"""Bring the index up to date with the catalogue: by watermark (sync) or from scratch (rebuild).

The watermark is Paper.changed_at. Ingest stamps changed_at when a batch starts and commits
later, so a batch can become visible with a changed_at older than the newest one a sync already
saw. Every sync therefore re-reads a safety window before its watermark and compares each
paper's changed_at with the one it was indexed at (changed.npy), re-indexing only real changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from paperroute import stopping
from paperroute.search import spelling
from paperroute.search import vectors as vector_db
from paperroute.search.documents import IndexDoc, load_docs, prepare
from paperroute.search.embedder import Embedder, text_hash
from paperroute.search.index import (
    SCHEMA,
    current_generation,
    load_stamps,
    new_generation,
    publish,
    read_manifest,
    save_stamps,
    write_manifest,
)
from paperroute.search.lexical import LexicalIndex
from paperroute.search.vectorstore import VectorStore

# Longer than any ingest transaction and any clock skew between the hosts that ingest.
SAFETY_WINDOW = timedelta(hours=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BATCH = 2000  # papers read from the database at a time
EMBED_CHUNK = 64  # papers embedded per round trip to the database
COMMIT_EVERY = 30.0  # seconds between commits while embedding, so progress is kept
# PostgreSQL advisory locks that claim papers for embedding are keyed CLAIMS + paper id: a range
# of their own, should anything else take advisory locks on the same database.
CLAIMS = 0x7072_0000 << 32


def micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


@dataclass
class SyncReport:
    """What a sync or rebuild did."""

    papers: int = 0  # papers in the index afterwards
    indexed: int = 0  # papers (re)indexed for keyword search
    removed: int = 0
    embedded: int = 0  # papers embedded by the model in this run
    reused: int = 0  # papers whose stored vectors were (re)loaded
    pending: int = 0  # papers still without vectors
    rebuilt: bool = False
    stopped: bool = False  # asked to stop (SIGTERM, Ctrl-C) before every paper was embedded
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        verb = "rebuilt" if self.rebuilt else "synced"
        text = (
            f"search index {verb}: {self.papers} papers; {self.indexed} indexed, "
            f"{self.removed} removed, {self.embedded} embedded, {self.reused} vectors loaded"
            f"{f', {self.pending} waiting to be embedded' if self.pending else ''} "
            f"({self.seconds:.1f} s)"
        )
        if self.stopped:
            text += f"; stopped by {stopping.reason()}, the next sync embeds the rest"
        return text


Progress = Callable[..., AbstractContextManager[Any]]  # paperroute.progress.counter


def _grow(stamps: np.ndarray, size: int) -> np.ndarray:
    if size <= len(stamps):
        return stamps
    return np.concatenate([stamps, np.zeros(size - len(stamps), np.int64)])


class Writer:
    """One generation opened for writing; the caller holds the writer lock."""

    def __init__(self, generation: Path, manifest: dict, model: str) -> None:
        self.generation = generation
        self.manifest = manifest
        self.model = model
        self.lexical = LexicalIndex(generation / "lexical")
        self.vectors = VectorStore(generation / "vectors")
        self.changed = load_stamps(generation, "changed")
        self.vstamp = load_stamps(generation, "vstamp")
        self.words = spelling.load_counts(generation)
        self.report = SyncReport()

    # -- keyword side and metadata -----------------------------------------------------------

    def index_docs(self, docs: list[IndexDoc], changed: dict[int, int], writer) -> None:
        """Replace these papers in the keyword index and refresh their filter fields."""
        entries, words = prepare(docs)
        self.lexical.delete(writer, [d.pid for d in docs])
        for doc, entry in zip(docs, entries, strict=True):
            LexicalIndex.add(writer, entry)
            self.vectors.describe(doc.pid, doc.day, doc.categories)
        self.words.update(words)
        top = max(changed, default=0) + 1
        self.changed = _grow(self.changed, top)
        self.vstamp = _grow(self.vstamp, top)
        for pid, stamp in changed.items():
            self.changed[pid] = stamp
        self.report.indexed += len(docs)

    def attach_vectors(self, docs: list[IndexDoc]) -> list[IndexDoc]:
        """Load stored vectors that match the papers' text; returns the papers still lacking them."""
        found = vector_db.stored([d.pid for d in docs], self.model, half=True)
        missing = []
        for doc in docs:
            entry = found.get(doc.pid)
            digest = text_hash(doc.title, doc.abstract)
            if entry is None or entry[0] != digest:
                if self.vectors.has(doc.pid):
                    self.vectors.remove(doc.pid)  # the text changed: old vectors mislead
                    self.vstamp[doc.pid] = 0
                missing.append(doc)
                continue
            stamp = micros(entry[2])
            if self.vstamp[doc.pid] != stamp or not self.vectors.has(doc.pid):
                self.vectors.put(doc.pid, entry[1], doc.day, doc.categories)
                self.vstamp[doc.pid] = stamp
                self.report.reused += 1
        return missing

    def commit(self, writer, marks: dict, *, graph: bool = True) -> None:
        writer.commit()
        self.vectors.commit(graph=graph)
        self.vectors.begin()
        save_stamps(self.generation, "changed", self.changed)
        save_stamps(self.generation, "vstamp", self.vstamp)
        spelling.save_counts(self.generation, self.words)
        self.manifest.update(marks)
        report = self.report
        if report.rebuilt or report.indexed or report.removed or report.embedded or report.reused:
            # What the index holds changed: caches of what was made from it key on this
            # (search.version). A sync with nothing to do rewrites the manifest without it.
            self.manifest["revision"] = int(self.manifest.get("revision", 0)) + 1
        self.manifest["papers"] = int((self.changed > 0).sum())
        self.manifest["embedded"] = self.vectors.papers
        write_manifest(self.generation, self.manifest)

    def pending(self) -> list[int]:
        """Indexed papers that have no vectors yet."""
        indexed = np.flatnonzero(self.changed > 0)
        have = np.zeros(len(indexed), bool)
        inside = indexed < len(self.vectors.count)
        have[inside] = self.vectors.count[indexed[inside]] > 0
        return [int(p) for p in indexed[~have]]


def _scan_changes(since: datetime | None) -> list[tuple[int, datetime]]:
    from paperroute.catalog.models import Paper

    rows = Paper.objects.all()
    if since is not None:
        rows = rows.filter(changed_at__gte=since - SAFETY_WINDOW)
    return list(rows.values_list("pk", "changed_at").iterator(chunk_size=10_000))


def _scan_vectors(since: datetime | None, model: str) -> list[tuple[int, datetime]]:
    from paperroute.search.models import PaperVector

    rows = PaperVector.objects.filter(model=model)
    if since is not None:
        rows = rows.filter(embedded_at__gte=since - SAFETY_WINDOW)
    return list(rows.values_list("paper_id", "embedded_at").iterator(chunk_size=10_000))


def _parse(mark: str | None) -> datetime | None:
    return datetime.fromisoformat(mark) if mark else None


def _changes(writer: Writer, since: datetime | None) -> tuple[dict[int, int], datetime | None]:
    """Papers whose changed_at differs from the one indexed, and the newest changed_at seen."""
    todo, newest = {}, since
    indexed = writer.changed
    for pid, moment in _scan_changes(since):
        stamp = micros(moment)
        if pid >= len(indexed) or indexed[pid] != stamp:
            todo[pid] = stamp
        if newest is None or moment > newest:
            newest = moment
    return todo, newest


def _vector_changes(writer: Writer, since: datetime | None) -> tuple[set[int], datetime | None]:
    """Papers whose stored vectors are newer than the ones indexed (embedded elsewhere)."""
    found, newest = set(), since
    for pid, moment in _scan_vectors(since, writer.model):
        if pid >= len(writer.vstamp) or writer.vstamp[pid] != micros(moment):
            found.add(pid)
        if newest is None or moment > newest:
            newest = moment
    return found, newest


def _gone(writer: Writer, todo: dict[int, int]) -> list[int]:
    """Indexed papers that are no longer in the catalogue."""
    from paperroute.catalog.models import Paper

    indexed = writer.changed > 0
    new = sum(1 for pid in todo if pid >= len(indexed) or not indexed[pid])
    if Paper.objects.count() >= int(indexed.sum()) + new:
        return []  # nothing was deleted (the usual case, told by one count)
    alive = np.fromiter(
        Paper.objects.values_list("pk", flat=True).iterator(chunk_size=20_000), dtype=np.int64
    )
    known = np.flatnonzero(writer.changed > 0)
    return [int(p) for p in known[~np.isin(known, alive)]]


def update(
    root: Path,
    *,
    model: str,
    embedder: Callable[[], Embedder] | None,
    progress: Progress,
    rebuild: bool = False,
    threads: int = 1,
    precomputed: tuple[Path, ...] = (),
) -> SyncReport:
    """Sync the index (or rebuild it), then embed what lacks vectors when `embedder` is given."""
    started = time.monotonic()
    generation = None if rebuild else current_generation(root)
    notes = []
    if generation is not None:
        manifest = read_manifest(generation)
        stale = manifest.get("schema") != SCHEMA or manifest.get("model") != model
        if stale:
            notes.append("the index was made by another version or model: rebuilt it")
            generation = None
    fresh = generation is None
    if generation is None:
        generation = new_generation(root)
        manifest = {"schema": SCHEMA, "model": model}
    w = Writer(generation, manifest, model)
    w.report.rebuilt, w.report.notes = fresh, notes
    w.vectors.begin()
    todo, paper_mark = _changes(w, _parse(manifest.get("paper_mark")))
    revectored, vector_mark = _vector_changes(w, _parse(manifest.get("vector_mark")))
    gone = [] if fresh else _gone(w, todo)
    pids = sorted(set(todo) | revectored)
    writer = w.lexical.writer(threads)
    old_marks = {"paper_mark": manifest.get("paper_mark"), "vector_mark": manifest.get("vector_mark")}
    with progress("indexing papers", total=len(pids), unit="papers") as bar:
        for start in range(0, len(pids), BATCH):
            docs = list(load_docs(pids[start : start + BATCH]))
            w.index_docs(
                [d for d in docs if d.pid in todo],
                {d.pid: todo[d.pid] for d in docs if d.pid in todo},
                writer,
            )
            w.attach_vectors(docs)
            bar(len(pids[start : start + BATCH]))
            if (start // BATCH) % 50 == 49:
                # Flush now and then (old watermarks: a crash re-reads this stretch), so memory
                # stays flat; the graph is built once, at the end.
                w.commit(writer, old_marks, graph=False)
    if gone:
        w.lexical.delete(writer, gone)
        for pid in gone:
            w.vectors.remove(pid)
            w.changed[pid] = w.vstamp[pid] = 0
        w.report.removed = len(gone)
    marks = {
        "paper_mark": paper_mark.isoformat() if paper_mark else None,
        "vector_mark": vector_mark.isoformat() if vector_mark else None,
    }
    w.commit(writer, marks)
    if fresh:
        publish(root, generation)
    _embed_pending(w, embedder, progress, writer, marks, precomputed)
    writer.wait_merging_threads()
    w.report.pending = len(w.pending())
    w.report.papers = w.manifest["papers"]
    w.report.seconds = time.monotonic() - started
    return w.report


@contextmanager
def _claimed(pids: list[int], *, wait: bool = False) -> Iterator[list[int]]:
    """The papers of `pids` this run may embed now, held until the block's vectors are committed.

    On PostgreSQL, several hosts may sync against one database at once: each paper is claimed
    by a transaction-level advisory lock, taken with the transaction that stores its vectors, so
    no two runs embed it at the same time and a killed run's claims end with its connection.
    With `wait`, blocks until runs that hold some of them are done. SQLite is one host's, whose
    writer lock already lets one sync run at a time: every paper is ours.
    """
    from django.db import connection, transaction

    if connection.vendor != "postgresql" or not pids:
        yield pids
        return
    keys = [CLAIMS + pid for pid in sorted(pids)]  # one order for all runs: no lock cycles
    with transaction.atomic(), connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k", [keys])
            mine = sorted(pids)
        else:
            cursor.execute(
                "SELECT k FROM unnest(%s::bigint[]) AS k WHERE pg_try_advisory_xact_lock(k)", [keys]
            )
            mine = [key - CLAIMS for (key,) in cursor.fetchall()]
        yield mine


class _Vectorizer:
    """Gives papers vectors: stored ones (another run's, or shipped), else the model's."""

    def __init__(
        self, w: Writer, make_embedder: Callable[[], Embedder] | None, precomputed: tuple[Path, ...]
    ) -> None:
        self.w = w
        self.make_embedder = make_embedder
        self.embedder: Embedder | None = None  # loaded only if something is not shipped
        self.shipped = vector_db.Precomputed(list(precomputed), w.model)

    def __call__(self, pids: list[int]) -> None:
        w = self.w
        docs = list(load_docs(pids))
        missing = w.attach_vectors(docs)  # another host may have embedded them meanwhile
        if not missing:
            return
        digests = [text_hash(d.title, d.abstract) for d in missing]
        arrays = [self.shipped.get(digest) for digest in digests]
        todo = [i for i, array in enumerate(arrays) if array is None]
        if self.make_embedder is None:
            keep = [i for i, array in enumerate(arrays) if array is not None]
            missing = [missing[i] for i in keep]
            digests, arrays = [digests[i] for i in keep], [arrays[i] for i in keep]
            todo = []
        if todo and self.make_embedder is not None:
            self.embedder = self.embedder or self.make_embedder()
            # Asked to stop, the model ends after the batch it is on (a chunk takes 5-20 s on
            # two cores) and this chunk is made again by the next sync.
            made = self.embedder.embed_papers(
                [(missing[i].title, missing[i].abstract) for i in todo], stop=stopping.requested
            )
            for i, array in zip(todo, made):
                arrays[i] = array
        vectors = [array for array in arrays if array is not None]
        assert len(vectors) == len(missing)  # shipped, or made just now
        w.report.embedded += len(todo)
        w.report.reused += len(missing) - len(todo)
        stamps = vector_db.save(
            w.model, [(d.pid, digest, a) for d, digest, a in zip(missing, digests, vectors)]
        )
        for doc, array in zip(missing, vectors):
            w.vectors.put(doc.pid, array, doc.day, doc.categories)
            if doc.pid in stamps:
                w.vstamp[doc.pid] = micros(stamps[doc.pid])


def _embed_pending(
    w: Writer,
    make_embedder: Callable[[], Embedder] | None,
    progress: Progress,
    writer,
    marks: dict,
    precomputed: tuple[Path, ...],
) -> None:
    """Give vectors to indexed papers lacking them: shipped ones, else (with an embedder) new ones.

    Vectors are stored in the database a chunk at a time, so an interrupted run loses at most
    the chunk it was embedding, and the index is committed every half minute. Papers another
    run (on another host) is embedding are left to it and taken from the database afterwards.
    Asked to stop, it ends after the model's batch it is on and commits what it embedded.
    """
    pending = w.pending()
    if not pending or (make_embedder is None and not any(p.exists() for p in precomputed)):
        return
    if make_embedder is None and len(pending) > 5000:
        return  # a keyword-only sync (as from a web request) must stay quick; sync embeds them
    vectorize = _Vectorizer(w, make_embedder, precomputed)
    last_commit = time.monotonic()
    others: list[int] = []  # claimed by another run when this one came to them
    with progress("embedding papers", total=len(pending), unit="papers") as bar:
        for wait, todo in ((False, pending), (True, others)):
            for start in range(0, len(todo), EMBED_CHUNK):
                if stopping.requested():
                    w.report.stopped = True
                    break
                chunk = todo[start : start + EMBED_CHUNK]
                try:
                    with _claimed(chunk, wait=wait) as mine:
                        vectorize(mine)
                except stopping.Stopped:
                    w.report.stopped = True
                    break
                if not wait:
                    taken = set(mine)
                    others.extend(pid for pid in chunk if pid not in taken)
                bar(len(mine))
                if time.monotonic() - last_commit > COMMIT_EVERY:
                    w.commit(writer, marks)
                    last_commit = time.monotonic()
    w.commit(writer, marks)
