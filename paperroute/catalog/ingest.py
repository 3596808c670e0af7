"""Store parsed records in the catalogue: merge by identity, keep history, count what changed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.utils import timezone

from paperroute.catalog.announce import listing_day
from paperroute.catalog.models import (
    Announcement,
    Author,
    Authorship,
    Category,
    Paper,
    Sighting,
    Version,
)
from paperroute.catalog.records import (
    Item,
    PaperRecord,
    RecordError,
    classify_links,
    find_urls,
    title_key,
)
from paperroute.catalog.textclean import author_key
from paperroute.catalog.validate import drop_bad_links, validate

# Sources whose bibliographic data is arXiv's own (or a faithful copy of it): they may overwrite
# a title or abstract. Hugging Face and content-only seeds only fill what is missing.
AUTHORITATIVE = {"arxiv-oai", "arxiv-api", "arxiv-rss", "jsonl", "submit"}
# Sources whose publication time is arXiv's submission time, so the listing day can be estimated.
SUBMISSION_TIMES = {"arxiv-oai", "arxiv-api"}

TEXT_FIELDS = ("title", "abstract", "comments", "journal_ref", "doi", "license")
# HFInfo attribute -> Paper column.
HF_COLUMNS = {
    "upvotes": "hf_upvotes",
    "num_comments": "hf_num_comments",
    "submitted_by": "hf_submitted_by",
    "github_repo": "github_repo",
    "github_stars": "github_stars",
    "ai_summary": "ai_summary",
    "ai_keywords": "ai_keywords",
}
PAPER_FIELDS = (
    "key",
    "arxiv_id",
    "doi",
    "title_key",
    "title",
    "abstract",
    "primary_category",
    "published",
    "updated",
    "latest_version",
    "comments",
    "journal_ref",
    "license",
    "abs_url",
    "pdf_url",
    "code_url",
    "project_url",
    "announced_on",
    "submitted_on",
    "listed_on",
    "hf_upvotes",
    "hf_num_comments",
    "hf_submitted_by",
    "github_repo",
    "github_stars",
    "ai_summary",
    "ai_keywords",
)


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


@dataclass
class _State:
    """A paper as it stands in the database, or will once the batch is written."""

    fields: dict
    authors: list[str]
    categories: list[str]
    versions: dict[int, datetime | None]
    announcements: dict[date, str]
    sightings: dict[str, datetime]
    paper_id: int | None = None

    def signature(self) -> tuple:
        """Everything stored about the paper, for telling whether a record changed it."""
        fields = self.fields
        return (
            tuple([fields[name] for name in PAPER_FIELDS]),
            tuple(self.authors),
            tuple(self.categories),
            tuple(sorted(self.versions.items())),
            tuple(sorted(self.announcements.items())),
            tuple(sorted(self.sightings.items())),
        )


def paper_key(record: PaperRecord) -> str:
    """The catalogue identity of a record: arXiv id, else DOI, else URL, else its title."""
    if record.arxiv_id:
        return record.arxiv_id
    if record.key:
        return record.key
    if record.doi:
        return f"doi:{record.doi.lower()}"
    if record.url:
        return f"url:{title_key(record.url)[:16]}"
    return f"seed:{title_key(record.title)[:16]}"


def prepare(record: PaperRecord) -> PaperRecord:
    """Fill in what follows from the record itself: identity, arXiv links, code links."""
    record.key = paper_key(record)
    if record.arxiv_id:
        record.abs_url = f"https://arxiv.org/abs/{record.arxiv_id}"
        record.pdf_url = f"https://arxiv.org/pdf/{record.arxiv_id}"
    urls = [u for u in find_urls(record.abstract) + find_urls(record.comments) if len(u) <= 500]
    found_code, found_project = classify_links(urls)
    record.code_url = record.code_url or found_code
    record.project_url = record.project_url or found_project
    return record


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


class _BatchWriter:
    def __init__(self, records: list[PaperRecord], counts: Summary) -> None:
        self.records = records
        self.counts = counts
        self.now = timezone.now()
        self.states: dict[str, _State] = {}
        self.original: dict[str, tuple] = {}

    def run(self) -> None:
        self._load()
        for record in self.records:
            key = record.key
            state = self.states.get(key)
            if state is None:
                state = self.states[key] = _new_state(record)
                before = None
            else:
                before = state.signature()
            merge(state, record, self.now)
            if before is None:
                self.counts.new += 1
            elif state.signature() != before:
                self.counts.updated += 1
            else:
                self.counts.unchanged += 1
        self._write()

    def _load(self) -> None:
        keys = {r.key for r in self.records}
        papers = {p.key: p for p in Paper.objects.filter(key__in=keys)}
        # A paper known only by its title (a seed, a URL) is the same paper as an arXiv record
        # with that title; an id-less record joins whatever paper already has its title.
        missing = [r for r in self.records if r.key not in papers]
        if missing:
            by_title: dict[str, Paper] = {}
            for paper in Paper.objects.filter(title_key__in={title_key(r.title) for r in missing}):
                by_title.setdefault(paper.title_key, paper)
            for record in missing:
                paper = by_title.get(title_key(record.title))
                if paper is None or record.key in papers:
                    continue
                if not record.arxiv_id:
                    record.key = paper.key
                    papers[paper.key] = paper
                elif not paper.arxiv_id:
                    papers[record.key] = paper  # merge() gives it the arXiv id as its key
        if not papers:
            return
        ids = {p.pk: key for key, p in papers.items()}
        states = {
            key: _State(
                fields={name: getattr(p, name) for name in PAPER_FIELDS},
                authors=[],
                categories=[],
                versions={},
                announcements={},
                sightings={},
                paper_id=p.pk,
            )
            for key, p in papers.items()
        }
        for paper_id, name in (
            Authorship.objects.filter(paper_id__in=ids)
            .order_by("paper_id", "position")
            .values_list("paper_id", "author__name")
        ):
            states[ids[paper_id]].authors.append(name)
        through = Paper.categories.through
        for paper_id, code in (
            through.objects.filter(paper_id__in=ids).order_by("id").values_list("paper_id", "category__code")
        ):
            states[ids[paper_id]].categories.append(code)
        for paper_id, number, when in Version.objects.filter(paper_id__in=ids).values_list(
            "paper_id", "number", "date"
        ):
            states[ids[paper_id]].versions[number] = when
        for paper_id, day, kind in Announcement.objects.filter(paper_id__in=ids).values_list(
            "paper_id", "date", "kind"
        ):
            states[ids[paper_id]].announcements[day] = kind
        for paper_id, source, seen in Sighting.objects.filter(paper_id__in=ids).values_list(
            "paper_id", "source", "first_seen"
        ):
            states[ids[paper_id]].sightings[source] = seen
        self.states.update(states)
        self.original = {key: state.signature() for key, state in states.items()}

    def _write(self) -> None:
        signatures = {key: state.signature() for key, state in self.states.items()}
        changed = {
            key: s
            for key, s in self.states.items()
            if s.paper_id is None or signatures[key] != self.original.get(key)
        }
        if not changed:
            return
        authors = _ids(
            Author, "name", {n for s in changed.values() for n in s.authors}, extra=(("key", author_key),)
        )
        categories = _ids(Category, "code", {c for s in changed.values() for c in s.categories})

        new = [s for s in changed.values() if s.paper_id is None]
        if new:
            columns = (*PAPER_FIELDS, "created_at", "changed_at")
            _insert_rows(
                Paper, columns, [(*(s.fields[n] for n in PAPER_FIELDS), self.now, self.now) for s in new]
            )
            ids = _lookup(Paper, "key", [s.fields["key"] for s in new])
            for state in new:
                state.paper_id = ids[state.fields["key"]]

        existing = [(k, s) for k, s in changed.items() if k in self.original]
        if existing:
            update_fields = sorted(
                {
                    name
                    for key, _ in existing
                    for index, name in enumerate(PAPER_FIELDS)
                    if signatures[key][0][index] != self.original[key][0][index]
                }
                | {"changed_at"}
            )
            objs = [Paper(pk=s.paper_id, changed_at=self.now, **s.fields) for _, s in existing]
            Paper.objects.bulk_update(objs, update_fields, batch_size=200)

        self._replace_children(changed, signatures, authors, categories)

    def _replace_children(self, changed, signatures, authors, categories) -> None:
        through = Paper.categories.through
        # (table, columns, position in the signature, rows of one paper)
        tables = (
            (
                Authorship,
                ("paper_id", "author_id", "position"),
                1,
                lambda s: [(s.paper_id, authors[n], i) for i, n in enumerate(s.authors)],
            ),
            (
                through,
                ("paper_id", "category_id"),
                2,
                lambda s: [(s.paper_id, categories[c]) for c in s.categories],
            ),
            (
                Version,
                ("paper_id", "number", "date"),
                3,
                lambda s: [(s.paper_id, n, d) for n, d in sorted(s.versions.items())],
            ),
            (
                Announcement,
                ("paper_id", "date", "kind"),
                4,
                lambda s: [(s.paper_id, d, k) for d, k in sorted(s.announcements.items())],
            ),
            (
                Sighting,
                ("paper_id", "source", "first_seen"),
                5,
                lambda s: [(s.paper_id, src, seen) for src, seen in sorted(s.sightings.items())],
            ),
        )
        for model, columns, index, rows_of in tables:
            stale = [
                (k, s)
                for k, s in changed.items()
                if k not in self.original or self.original[k][index] != signatures[k][index]
            ]
            if not stale:
                continue
            model.objects.filter(paper_id__in=[s.paper_id for k, s in stale if k in self.original]).delete()
            _insert_rows(model, columns, [row for _, s in stale for row in rows_of(s)])


def _insert_rows(model, columns: tuple[str, ...], rows: list[tuple], ignore_conflicts: bool = False) -> None:
    """Insert plain rows with one executemany: child rows need none of the ORM's per-object work."""
    if not rows:
        return
    by_column = {field.column: field for field in model._meta.concrete_fields}
    fields = [by_column[c] for c in columns]
    adapted = [(index, adapter) for index, adapter in enumerate(map(_adapter, fields)) if adapter]
    if adapted:
        rows = [list(row) for row in rows]
        for index, adapter in adapted:
            for row in rows:
                if row[index] is not None:
                    row[index] = adapter(row[index])
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _sqlite_datetime(value: datetime) -> str:
    # What Django's SQLite backend stores for an aware datetime (naive UTC, ISO format), without
    # its per-value settings lookups: a batch adapts tens of thousands of these.
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ")


def _adapter(field):
    """How the database driver wants a column's Python values (dates need it on SQLite)."""
    if isinstance(field, models.DateTimeField):
        if connection.vendor == "sqlite":
            return _sqlite_datetime
        return connection.ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return connection.ops.adapt_datefield_value
    if isinstance(field, models.JSONField):
        return lambda value: field.get_db_prep_save(value, connection)
    return None


def _lookup(model, column: str, values) -> dict[str, int]:
    """Primary keys by a unique column, in chunks that keep under SQLite's parameter limit."""
    values = sorted(values)
    found: dict[str, int] = {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for start in range(0, len(values), 900):
            chunk = values[start : start + 900]
            cursor.execute(
                f"SELECT {quote(column)}, {quote(model._meta.pk.column)} "
                f"FROM {quote(model._meta.db_table)} "
                f"WHERE {quote(column)} IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
            found.update(cursor.fetchall())
    return found


def _ids(model, column: str, values: set[str], extra: tuple = ()) -> dict[str, int]:
    """Primary keys for names or codes, creating the missing ones (with `extra` columns, each
    computed from the value)."""
    found = _lookup(model, column, values)
    missing = values - found.keys()
    if missing:
        columns = (column, *(name for name, _ in extra))
        _insert_rows(
            model,
            columns,
            [(v, *(make(v) for _, make in extra)) for v in sorted(missing)],
            ignore_conflicts=True,
        )
        found.update(_lookup(model, column, missing))
    return found


def _new_state(record: PaperRecord) -> _State:
    fields = {name: None for name in PAPER_FIELDS}
    fields.update(
        {
            name: ""
            for name in (
                "arxiv_id",
                "doi",
                "title",
                "abstract",
                "primary_category",
                "comments",
                "journal_ref",
                "license",
                "abs_url",
                "pdf_url",
                "code_url",
                "project_url",
                "hf_submitted_by",
                "github_repo",
                "ai_summary",
            )
        }
    )
    fields.update(key=record.key, latest_version=0, ai_keywords=[], title_key="")
    return _State(fields=fields, authors=[], categories=[], versions={}, announcements={}, sightings={})


def _precise(moment: datetime | None) -> bool:
    return moment is not None and moment.time() != time(0, 0)


def better_time(current: datetime | None, incoming: datetime | None, authoritative: bool) -> datetime | None:
    """Pick between two timestamps of the same event, preferring arXiv's and the more precise."""
    if incoming is None:
        return current
    if current is None:
        return incoming
    if current.date() == incoming.date():
        return incoming if _precise(incoming) and not _precise(current) else current
    return incoming if authoritative else current


def merge(state: _State, record: PaperRecord, now: datetime) -> None:
    """Fold one record into a paper's state."""
    f = state.fields
    authoritative = record.source in AUTHORITATIVE
    incoming_version = max([record.version, *record.versions]) if (record.version or record.versions) else 0
    older = bool(incoming_version and f["latest_version"] and incoming_version < f["latest_version"])
    overwrite = authoritative and not older

    if record.arxiv_id:
        f["key"] = record.key
        f["arxiv_id"] = record.arxiv_id
    for name in TEXT_FIELDS:
        value = getattr(record, name)
        if value and (overwrite or not f[name]):
            f[name] = value
    f["title_key"] = title_key(f["title"])
    if record.authors and (overwrite or not state.authors):
        state.authors = list(dict.fromkeys(record.authors))
    if record.categories and (overwrite or not state.categories):
        # Canonical order: the primary category, then the others alphabetically.
        primary, *others = dict.fromkeys(record.categories)
        state.categories = [primary, *sorted(set(others) - {primary})]
        f["primary_category"] = primary
    for name in ("abs_url", "pdf_url", "code_url", "project_url"):
        value = getattr(record, name)
        if value and (not f[name] or (name in ("abs_url", "pdf_url") and record.arxiv_id)):
            f[name] = value

    f["published"] = better_time(f["published"], record.published, authoritative)
    if record.updated and (f["updated"] is None or record.updated > f["updated"]):
        f["updated"] = record.updated
    for number, when in record.versions.items():
        state.versions[number] = better_time(state.versions.get(number), when, authoritative)
    if incoming_version > f["latest_version"]:
        f["latest_version"] = incoming_version
    if f["latest_version"] and f["latest_version"] not in state.versions:
        state.versions[f["latest_version"]] = None

    for day, kind in record.announcements:
        state.announcements.setdefault(day, kind)
    first_new = min((d for d, k in state.announcements.items() if k == "new"), default=None)
    if first_new:
        f["announced_on"] = first_new
    elif f["announced_on"] is None:
        if record.announced_on:
            f["announced_on"] = record.announced_on
        elif record.source in SUBMISSION_TIMES and f["published"]:
            f["announced_on"] = listing_day(f["published"])
    if record.submitted_on and (f["submitted_on"] is None or record.submitted_on < f["submitted_on"]):
        f["submitted_on"] = record.submitted_on
    f["listed_on"] = f["submitted_on"] or f["announced_on"]

    if record.hf is not None:
        for name, column in HF_COLUMNS.items():
            value = getattr(record.hf, name)
            if value not in (None, "", []):
                f[column] = value

    seen = record.sightings or {record.source: now}
    for source, when in seen.items():
        if source not in state.sightings or when < state.sightings[source]:
            state.sightings[source] = when
