"""Store parsed records in the catalogue: merge by identity, keep history, count what changed.

How a record changes a paper is decided in `paperroute.catalog.merge`; this module loads the
papers a batch touches, merges, and writes back what changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.dispatch import Signal
from django.utils import timezone

from paperroute.catalog.merge import COLUMN_NAMES, Columns, PaperState, merge, prepare
from paperroute.catalog.models import (
    Announcement,
    Author,
    Authorship,
    Category,
    Paper,
    Sighting,
    Version,
)
from paperroute.catalog.records import Item, PaperRecord, RecordError, title_key
from paperroute.catalog.textclean import author_key
from paperroute.catalog.validate import drop_bad_links, validate

# Sent after an ingest batch that added or changed papers is committed.
papers_changed = Signal()

# PostgreSQL advisory lock held by a batch's transaction while it reads, merges and writes its
# papers (SQLite's IMMEDIATE transactions already write one at a time).
BATCH_LOCK = 0x70617065_72726F75 & 0x7FFF_FFFF_FFFF_FFFF  # "paperrou"


@dataclass
class Summary:
    """What one ingest did, record by record."""

    source: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[RecordError] = field(default_factory=list)
    # Links that were not stored (not http or https), each with the record it came from.
    dropped: list[RecordError] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.new + self.updated + self.unchanged + len(self.skipped)

    def line(self) -> str:
        dropped = f", {len(self.dropped)} links dropped" if self.dropped else ""
        return (
            f"{self.source}: {self.total} records: {self.new} new, {self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.skipped)} skipped{dropped}"
        )

    def add(self, other: Summary) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.skipped.extend(other.skipped)
        self.dropped.extend(other.dropped)


@contextmanager
def _bulk_page_cache() -> Iterator[None]:
    """SQLite's larger page cache while records are stored, then the usual one again.

    A batch looks up and writes index pages for random keys all over the tables: at 100k
    papers the 2 MiB cache made the store re-read them (BENCHMARKS.md, "Ingest"). Shrinking it
    afterwards frees the pages, so that a web process storing a submitted paper does not keep
    64 MiB of them.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA cache_size=-{settings.SQLITE_BULK_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size=-{settings.SQLITE_CACHE_KIB}")


class Importer:
    """Stores records in batches, each batch in one transaction."""

    def __init__(
        self, source: str, *, batch_size: int = 500, progress: Callable[[int], None] | None = None
    ) -> None:
        self.summary = Summary(source)
        self.batch_size = batch_size
        self.progress = progress or (lambda count: None)

    def store(self, items: Iterable[Item]) -> Summary:
        """Store all items; returns the summary of this call (also added to `self.summary`)."""
        with _bulk_page_cache():
            return self._store(items)

    def _store(self, items: Iterable[Item]) -> Summary:
        summary = Summary(self.summary.source)
        batch: list[PaperRecord] = []
        for item in items:
            if isinstance(item, RecordError):
                summary.skipped.append(item)
                self.progress(1)
                continue
            summary.dropped.extend(RecordError(item.position, note) for note in drop_bad_links(item))
            problem = validate(item)
            if problem:
                summary.skipped.append(RecordError(item.position, problem))
                self.progress(1)
                continue
            batch.append(prepare(item))
            if len(batch) >= self.batch_size:
                self._store_batch(batch, summary)
                batch = []
        if batch:
            self._store_batch(batch, summary)
        self.summary.add(summary)
        return summary

    def _store_batch(self, records: list[PaperRecord], summary: Summary) -> None:
        # Another process may insert the same paper between our read and our write; the unique
        # constraint catches it, and the batch is simply merged again against the new state.
        for attempt in range(3):
            counts = Summary(summary.source)
            try:
                with transaction.atomic():
                    _BatchWriter(records, counts).run()
                break
            except IntegrityError:
                if attempt < 2:
                    continue
                counts = self._store_each(records, summary.source)
            except DatabaseError:
                # The database refused something that passed validation: store the records
                # one by one, so that only the one it refuses is lost.
                counts = self._store_each(records, summary.source)
                break
        summary.add(counts)
        self.progress(len(records))

    def _store_each(self, records: list[PaperRecord], source: str) -> Summary:
        counts = Summary(source)
        for record in records:
            for attempt in range(2):  # a second try for a paper inserted by someone else meanwhile
                one = Summary(source)
                try:
                    with transaction.atomic():
                        _BatchWriter([record], one).run()
                    counts.add(one)
                    break
                except DatabaseError as exc:
                    if isinstance(exc, IntegrityError) and attempt == 0:
                        continue
                    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                    counts.skipped.append(RecordError(record.position, f"the database refused it: {reason}"))
                    break
        return counts


class _Stored(NamedTuple):
    """A paper as the database holds it when the batch starts."""

    paper_id: int
    state: PaperState


class _ChildTable(NamedTuple):
    """A table of rows that belong to one paper, rewritten whenever its part of the state changes."""

    model: type[models.Model]
    columns: tuple[str, ...]
    part: str  # the PaperState attribute the rows hold
    rows: Callable[[int, PaperState], list[tuple[Any, ...]]]  # (paper id, state) -> rows


class _BatchWriter:
    """Merges one batch of records with what is stored, then writes what changed."""

    def __init__(self, records: list[PaperRecord], counts: Summary) -> None:
        self.records = records
        self.counts = counts
        self.now = timezone.now()  # again once the batch has its turn (run)
        # By record key (a seed taken over by an arXiv record is held under the arXiv id).
        self.states: dict[str, PaperState] = {}
        self.stored: dict[str, _Stored] = {}

    def run(self) -> None:
        """Merge and write the batch; the caller's transaction commits it."""
        # Two ingests at once (the worker and a backfill, or two hosts) each merged a paper from
        # the rows as they read them, and the later write undid the other's: a paper lost its
        # Hugging Face day and sighting. Batches now take turns, each reading what the last wrote.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [BATCH_LOCK])
        self.now = timezone.now()
        self._load()
        for record in self.records:
            state, outcome = merge(self.states.get(record.key), record, self.now)
            self.states[record.key] = state
            if outcome == "new":
                self.counts.new += 1
            elif outcome == "updated":
                self.counts.updated += 1
            else:
                self.counts.unchanged += 1
        self._write()
        if self.counts.new or self.counts.updated:
            # Once committed, say so: the page cache's key (the community's site stamp) changes,
            # as the latest `changed_at` alone misses a batch that commits after a later-stamped one.
            transaction.on_commit(lambda: papers_changed.send(sender=_BatchWriter))

    def _load(self) -> None:
        papers = self._find_papers()
        if not papers:
            return
        children = _stored_children([p.pk for p in papers.values()])
        # Two record keys may name one paper (an id-less record and an arXiv record with its
        # title); the rows of its children go to the last of them, as they always have.
        owners = {p.pk: key for key, p in papers.items()}
        for key, paper in papers.items():
            state = _stored_state(paper, children if owners[paper.pk] == key else {})
            self.stored[key] = _Stored(paper.pk, state)
            self.states[key] = state

    def _find_papers(self) -> dict[str, Paper]:
        """The stored papers the batch's records are about, by record key."""
        # An id-less record and an arXiv record with its title in one batch (one file) are one
        # paper too, whichever comes first, as they are from two batches.
        arxiv_titles = {title_key(r.title): r.key for r in self.records if r.arxiv_id}
        for record in self.records:
            if not record.arxiv_id:
                record.key = arxiv_titles.get(title_key(record.title), record.key)
        keys = {r.key for r in self.records}
        papers = {p.key: p for p in Paper.objects.filter(key__in=keys)}
        # A paper known only by its title (a seed, a URL) is the same paper as an arXiv record
        # with that title; an id-less record joins whatever paper already has its title.
        missing = [r for r in self.records if r.key not in papers]
        if not missing:
            return papers
        by_title: dict[str, Paper] = {}
        for paper in Paper.objects.filter(title_key__in={title_key(r.title) for r in missing}):
            by_title.setdefault(paper.title_key, paper)
        for record in missing:
            same_title = by_title.get(title_key(record.title))
            if same_title is None or record.key in papers:
                continue
            if not record.arxiv_id:
                record.key = same_title.key
                papers[same_title.key] = same_title
            elif not same_title.arxiv_id:
                papers[record.key] = same_title  # merge() gives it the arXiv id as its key
        return papers

    def _write(self) -> None:
        changed = {
            key: state
            for key, state in self.states.items()
            if key not in self.stored or state != self.stored[key].state
        }
        if not changed:
            return
        paper_ids = {key: stored.paper_id for key, stored in self.stored.items()}
        new = {key: state for key, state in changed.items() if key not in self.stored}
        if new:
            paper_ids.update(self._insert_papers(new))
        existing = {key: state for key, state in changed.items() if key in self.stored}
        if existing:
            self._update_papers(existing)
        for table in self._child_tables(changed.values()):
            self._replace_children(table, changed, paper_ids)

    def _insert_papers(self, new: Mapping[str, PaperState]) -> dict[str, int]:
        """Insert new papers; returns their ids by record key."""
        _insert_rows(
            Paper,
            (*COLUMN_NAMES, "created_at", "changed_at"),
            [(*s.columns, self.now, self.now) for s in new.values()],
        )
        ids = _lookup(Paper, "key", {s.columns.key for s in new.values()})
        return {key: ids[s.columns.key] for key, s in new.items()}

    def _update_papers(self, existing: Mapping[str, PaperState]) -> None:
        """Update stored papers, writing only the columns that changed in one of them."""
        update_fields = {"changed_at"}
        for key, state in existing.items():
            before = self.stored[key].state.columns
            update_fields.update(n for n in COLUMN_NAMES if getattr(state.columns, n) != getattr(before, n))
        objs = [
            Paper(
                pk=self.stored[key].paper_id,
                changed_at=self.now,
                **{name: getattr(state.columns, name) for name in COLUMN_NAMES},
            )
            for key, state in existing.items()
        ]
        Paper.objects.bulk_update(objs, sorted(update_fields), batch_size=200)

    def _child_tables(self, states: Iterable[PaperState]) -> tuple[_ChildTable, ...]:
        states = list(states)
        authors = _ids(Author, "name", {n for s in states for n in s.authors}, extra={"key": author_key})
        categories = _ids(Category, "code", {c for s in states for c in s.categories})
        return (
            _ChildTable(
                Authorship,
                ("paper_id", "author_id", "position"),
                "authors",
                lambda pid, s: [(pid, authors[n], i) for i, n in enumerate(s.authors)],
            ),
            _ChildTable(
                Paper.categories.through,
                ("paper_id", "category_id"),
                "categories",
                lambda pid, s: [(pid, categories[c]) for c in s.categories],
            ),
            _ChildTable(
                Version,
                ("paper_id", "number", "date"),
                "versions",
                lambda pid, s: [(pid, n, d) for n, d in sorted(s.versions.items())],
            ),
            _ChildTable(
                Announcement,
                ("paper_id", "date", "kind"),
                "announcements",
                lambda pid, s: [(pid, d, k) for d, k in sorted(s.announcements.items())],
            ),
            _ChildTable(
                Sighting,
                ("paper_id", "source", "first_seen"),
                "sightings",
                lambda pid, s: [(pid, src, seen) for src, seen in sorted(s.sightings.items())],
            ),
        )

    def _replace_children(
        self, table: _ChildTable, changed: Mapping[str, PaperState], paper_ids: Mapping[str, int]
    ) -> None:
        """Rewrite the table's rows of each changed paper whose part of the state changed."""
        stale = [
            key
            for key, state in changed.items()
            if key not in self.stored
            or getattr(state, table.part) != getattr(self.stored[key].state, table.part)
        ]
        if not stale:
            return
        table.model._default_manager.filter(
            paper_id__in=[paper_ids[key] for key in stale if key in self.stored]
        ).delete()
        _insert_rows(
            table.model,
            table.columns,
            [row for key in stale for row in table.rows(paper_ids[key], changed[key])],
        )


def _stored_children(paper_ids: list[int]) -> dict[str, dict[int, list[tuple[Any, ...]]]]:
    """The child rows of stored papers: by PaperState attribute, then by paper id."""

    def rows(model: type[models.Model], *columns: str, order: tuple[str, ...] = ()) -> dict[int, list]:
        query = model._default_manager.filter(paper_id__in=paper_ids).order_by(*order)
        return _grouped(query.values_list("paper_id", *columns))

    return {
        "authors": rows(Authorship, "author__name", order=("paper_id", "position")),
        "categories": rows(Paper.categories.through, "category__code", order=("id",)),
        "versions": rows(Version, "number", "date"),
        "announcements": rows(Announcement, "date", "kind"),
        "sightings": rows(Sighting, "source", "first_seen"),
    }


def _stored_state(paper: Paper, children: Mapping[str, Mapping[int, list[tuple[Any, ...]]]]) -> PaperState:
    """A stored paper as merge() takes it."""

    def part(name: str) -> list[tuple[Any, ...]]:
        return list(children.get(name, {}).get(paper.pk, []))

    return PaperState(
        columns=Columns(**{name: getattr(paper, name) for name in COLUMN_NAMES}),
        authors=tuple(name for (name,) in part("authors")),
        categories=tuple(code for (code,) in part("categories")),
        versions=dict(part("versions")),
        announcements=dict(part("announcements")),
        sightings=dict(part("sightings")),
    )


def _grouped(rows: Iterable[tuple[Any, ...]]) -> dict[int, list[tuple[Any, ...]]]:
    """Rows grouped by their first value (a paper id), the rest of each row kept in order."""
    groups: dict[int, list[tuple[Any, ...]]] = {}
    for paper_id, *rest in rows:
        groups.setdefault(paper_id, []).append(tuple(rest))
    return groups


def _insert_rows(
    model: type[models.Model],
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    ignore_conflicts: bool = False,
) -> None:
    """Insert plain rows with one executemany: child rows need none of the ORM's per-object work."""
    if rows:
        sql = f"INSERT INTO {{table}} ({{columns}}) VALUES ({', '.join(['%s'] * len(columns))})"
        if ignore_conflicts:
            sql += " ON CONFLICT DO NOTHING"
        _sql(sql, model, columns, _adapted(model, columns, rows), many=True)


def _sql(
    template: str, model: type[models.Model], columns: tuple[str, ...], params: list[Any], many: bool = False
) -> list[tuple[Any, ...]]:
    """Run one statement on a model's table, the only raw SQL of the import: the id lookups and
    the inserts of a batch are tens of thousands of values, which the ORM would take one by one.

    `template` names the table as {table} and the columns as {columns}, both quoted here.
    """
    quote = connection.ops.quote_name
    sql = template.format(table=quote(model._meta.db_table), columns=", ".join(quote(c) for c in columns))
    with connection.cursor() as cursor:
        if many:
            cursor.executemany(sql, params)
            return []
        cursor.execute(sql, params)
        return cursor.fetchall()


def _adapted(model: type[models.Model], columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[Any]:
    """The rows with each value as the database driver wants it (dates and JSON need Django's help)."""
    by_column = {f.column: f for f in model._meta.concrete_fields}
    adapters = [(index, adapter) for index, c in enumerate(columns) if (adapter := _adapter(by_column[c]))]
    if not adapters:
        return rows
    adapted = [list(row) for row in rows]
    for index, adapter in adapters:
        for row in adapted:
            if row[index] is not None:
                row[index] = adapter(row[index])
    return adapted


def _adapter(f: models.Field) -> Callable[[Any], Any] | None:
    """Django's conversion of a column's Python values for the database driver, where one is needed."""
    if isinstance(f, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value
    if isinstance(f, models.DateField):
        return connection.ops.adapt_datefield_value
    if isinstance(f, models.JSONField):
        return lambda value: f.get_db_prep_save(value, connection)
    return None


def _lookup(model: type[models.Model], column: str, values: Iterable[str]) -> dict[str, int]:
    """Primary keys by a unique column, in chunks that keep under SQLite's parameter limit."""
    ordered = sorted(values)
    found: dict[str, int] = {}
    columns = (column, str(model._meta.pk.column))
    for start in range(0, len(ordered), 900):
        chunk = ordered[start : start + 900]
        where = f"{connection.ops.quote_name(column)} IN ({', '.join(['%s'] * len(chunk))})"
        found.update(_sql(f"SELECT {{columns}} FROM {{table}} WHERE {where}", model, columns, chunk))
    return found


def _ids(
    model: type[models.Model],
    column: str,
    values: set[str],
    extra: Mapping[str, Callable[[str], str]] | None = None,
) -> dict[str, int]:
    """Primary keys for names or codes, creating the missing ones (with `extra` columns, each
    computed from the value)."""
    extra = extra or {}
    found = _lookup(model, column, values)
    missing = values - found.keys()
    if missing:
        _insert_rows(
            model,
            (column, *extra),
            [(v, *(make(v) for make in extra.values())) for v in sorted(missing)],
            ignore_conflicts=True,
        )
        found.update(_lookup(model, column, missing))
    return found
