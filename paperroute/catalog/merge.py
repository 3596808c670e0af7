"""How a record folds into a paper: which source may set or overwrite which field.

Pure: a paper's state goes in with a record and a new state comes out; nothing here reads or
writes the database (that is `paperroute.catalog.ingest`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Literal, NamedTuple

from paperroute.catalog.announce import listing_day
from paperroute.catalog.records import PaperRecord, classify_links, find_urls, title_key

# Sources whose bibliographic data is arXiv's own (or a faithful copy of it): they may overwrite
# a title or abstract. Hugging Face and content-only seeds only fill what is missing.
AUTHORITATIVE = frozenset({"arxiv-oai", "arxiv-api", "arxiv-rss", "jsonl", "submit"})
# Sources whose publication time is arXiv's submission time, so the listing day can be estimated.
SUBMISSION_TIMES = frozenset({"arxiv-oai", "arxiv-api"})

TEXT_FIELDS = ("title", "abstract", "comments", "journal_ref", "doi", "license")
LINK_FIELDS = ("abs_url", "pdf_url", "code_url", "project_url")
# Links an arXiv record always sets, even over links another source gave first.
ARXIV_LINKS = frozenset({"abs_url", "pdf_url"})
# HFInfo attribute -> Paper column.
HF_COLUMNS = {
    "upvotes": "hf_upvotes",
    "num_comments": "hf_num_comments",
    "submitted_by": "hf_submitted_by",
    "submitter_name": "hf_submitter_name",
    "github_repo": "github_repo",
    "github_stars": "github_stars",
    "ai_summary": "ai_summary",
    "ai_keywords": "ai_keywords",
}

Outcome = Literal["new", "updated", "unchanged"]


class Columns(NamedTuple):
    """A paper's own columns (`catalog.models.Paper`); the defaults are a paper nobody described.

    A named tuple rather than a dataclass: an import builds one per record and compares them,
    and a tuple does both at C speed.
    """

    key: str
    arxiv_id: str = ""
    doi: str = ""
    title_key: str = ""
    title: str = ""
    abstract: str = ""
    primary_category: str = ""
    published: datetime | None = None
    updated: datetime | None = None
    latest_version: int = 0
    comments: str = ""
    journal_ref: str = ""
    license: str = ""
    abs_url: str = ""
    pdf_url: str = ""
    code_url: str = ""
    project_url: str = ""
    announced_on: date | None = None
    submitted_on: date | None = None
    listed_on: date | None = None
    hf_upvotes: int | None = None
    hf_num_comments: int | None = None
    hf_submitted_by: str = ""
    hf_submitter_name: str = ""
    github_repo: str = ""
    github_stars: int | None = None
    ai_summary: str = ""
    # Never changed in place (a record's list replaces it), so the shared default is safe.
    ai_keywords: list[str] = []


COLUMN_NAMES: tuple[str, ...] = Columns._fields


@dataclass(frozen=True, slots=True)
class PaperState:
    """Everything stored about one paper. Never changed in place: merge() returns a new one."""

    columns: Columns
    authors: tuple[str, ...] = ()
    # The primary category first, then the others alphabetically.
    categories: tuple[str, ...] = ()
    versions: Mapping[int, datetime | None] = field(default_factory=dict)
    announcements: Mapping[date, str] = field(default_factory=dict)
    # The first time each source saw the paper.
    sightings: Mapping[str, datetime] = field(default_factory=dict)

    @classmethod
    def empty(cls, key: str) -> PaperState:
        return cls(Columns(key=key))


class _Policy(NamedTuple):
    """What one record may do to a paper."""

    authoritative: bool  # arXiv's own data: wins a disagreement about a date
    incoming_version: int  # the newest version the record describes, 0 if it does not say
    overwrite: bool  # may replace texts, authors and categories that are already set

    @classmethod
    def of(cls, record: PaperRecord, latest_version: int, versions: Mapping[int, datetime | None]) -> _Policy:
        authoritative = record.source in AUTHORITATIVE
        if record.source == "jsonl" and record.sightings:
            # A line of an export says where its paper was seen: one seen only on Hugging Face
            # holds Hugging Face's title and abstract, which must not overwrite arXiv's.
            authoritative = bool(AUTHORITATIVE.intersection(record.sightings))
        incoming = max([record.version, *record.versions]) if (record.version or record.versions) else 0
        older = bool(incoming and latest_version and incoming < latest_version)
        latest_date = versions.get(latest_version)
        if (
            older
            and not record.version
            and record.updated
            and latest_date
            and record.updated.date() >= latest_date.date()
        ):
            # It names no version of its own (OAI-PMH's arXiv format lists the first version's
            # date only, and describes the paper as it is now), but it was updated no earlier
            # than the day of the latest version known: it describes that one.
            incoming, older = latest_version, False
        return cls(authoritative, incoming, authoritative and not older)


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


def merge(state: PaperState | None, record: PaperRecord, now: datetime) -> tuple[PaperState, Outcome]:
    """Fold a record (already prepare()d) into a paper's state, None for a paper not yet known.

    Returns the new state and whether the paper is new, changed or unchanged. `now` is when the
    record's source saw the paper, unless the record says (a sighting already on file wins).
    """
    if state is None:
        return fold(PaperState.empty(record.key), record, now), "new"
    merged = fold(state, record, now)
    if merged == state:
        return state, "unchanged"
    return merged, "updated"


def fold(state: PaperState, record: PaperRecord, now: datetime) -> PaperState:
    """The paper's state once the record is folded in."""
    old = state.columns
    policy = _Policy.of(record, old.latest_version, state.versions)
    categories = state.categories
    changes: dict[str, Any] = {}
    if _replaces(record.categories, state.categories, policy.overwrite):
        categories = _canonical_categories(record.categories)
        changes["primary_category"] = categories[0]
    latest = max(old.latest_version, policy.incoming_version)
    announcements = _merge_announcements(state.announcements, record)
    changes.update(_identity(record), latest_version=latest)
    changes.update(_texts(old, record, policy.overwrite))
    changes.update(_links(old, record))
    changes.update(_days(old, record, policy, announcements))
    changes.update(_hf_columns(record))
    return PaperState(
        columns=old._replace(**changes),
        authors=_merge_authors(state.authors, record, policy.overwrite),
        categories=categories,
        versions=_merge_versions(state.versions, record, policy.authoritative, latest),
        announcements=announcements,
        sightings=_merge_sightings(state.sightings, record, now),
    )


def _replaces(incoming: object, current: object, overwrite: bool) -> bool:
    """Whether a record's value replaces the paper's: it has one, and may overwrite or fills a gap."""
    return bool(incoming) and (overwrite or not current)


def _identity(record: PaperRecord) -> dict[str, Any]:
    # An arXiv record gives the paper its id as its key (a seed with the same title gets it too).
    return {"key": record.key, "arxiv_id": record.arxiv_id} if record.arxiv_id else {}


def _texts(old: Columns, record: PaperRecord, overwrite: bool) -> dict[str, Any]:
    changes = {
        name: getattr(record, name)
        for name in TEXT_FIELDS
        if _replaces(getattr(record, name), getattr(old, name), overwrite)
    }
    changes["title_key"] = title_key(changes.get("title", old.title))
    return changes


def _links(old: Columns, record: PaperRecord) -> dict[str, Any]:
    """Links fill gaps, except that an arXiv record's own abstract and PDF pages always win."""
    changes = {}
    for name in LINK_FIELDS:
        value = getattr(record, name)
        if value and (not getattr(old, name) or (name in ARXIV_LINKS and record.arxiv_id)):
            changes[name] = value
    return changes


def _merge_authors(current: tuple[str, ...], record: PaperRecord, overwrite: bool) -> tuple[str, ...]:
    if _replaces(record.authors, current, overwrite):
        return tuple(dict.fromkeys(record.authors))
    return current


def _canonical_categories(codes: list[str]) -> tuple[str, ...]:
    """The primary category (the first), then the others alphabetically, each once."""
    primary, *others = dict.fromkeys(codes)
    return (primary, *sorted(set(others) - {primary}))


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


def _merge_versions(
    current: Mapping[int, datetime | None], record: PaperRecord, authoritative: bool, latest: int
) -> dict[int, datetime | None]:
    """Each version's date, and the latest version listed even when its date is unknown."""
    versions = dict(current)
    for number, when in record.versions.items():
        versions[number] = better_time(versions.get(number), when, authoritative)
    if latest and latest not in versions:
        versions[latest] = None
    return versions


def _merge_announcements(current: Mapping[date, str], record: PaperRecord) -> dict[date, str]:
    """Announcements add up; the first kind seen for a day stays, except that "new" beats
    "cross": a new paper is "cross" in the feeds of the categories it is cross-listed in, the
    same day, and only its "new" announcement lists it."""
    announcements = dict(current)
    for day, kind in record.announcements:
        if day not in announcements or (kind == "new" and announcements[day] == "cross"):
            announcements[day] = kind
    return announcements


def _days(
    old: Columns, record: PaperRecord, policy: _Policy, announcements: Mapping[date, str]
) -> dict[str, Any]:
    """Publication, update, announcement, submission and listing days."""
    published = better_time(old.published, record.published, policy.authoritative)
    updated = old.updated
    if record.updated and (updated is None or record.updated > updated):
        updated = record.updated
    submitted_on = old.submitted_on
    if record.submitted_on and (submitted_on is None or record.submitted_on < submitted_on):
        submitted_on = record.submitted_on
    announced_on = _announced_on(old.announced_on, announcements, record, published, old.published)
    return {
        "published": published,
        "updated": updated,
        "announced_on": announced_on,
        "submitted_on": submitted_on,
        "listed_on": submitted_on or announced_on,
    }


def _announced_on(
    current: date | None,
    announcements: Mapping[date, str],
    record: PaperRecord,
    published: datetime | None,
    was_published: datetime | None = None,
) -> date | None:
    """The first "new" announcement seen; else the day the record gives or arXiv's schedule implies."""
    first_new = min((day for day, kind in announcements.items() if kind == "new"), default=None)
    if first_new:
        return first_new
    if current is not None:
        # A day implied by the schedule from a rough time (an OAI record's midnight) follows the
        # exact time when one comes: the paper's day depended on which record came first.
        if (
            published
            and was_published
            and published != was_published
            and not record.announced_on
            and current == listing_day(was_published)
        ):
            return listing_day(published)
        return current
    if record.announced_on:
        return record.announced_on
    if record.source in SUBMISSION_TIMES and published:
        return listing_day(published)
    return None


def _hf_columns(record: PaperRecord) -> dict[str, Any]:
    """Hugging Face's counts and links: each response's values replace the last ones it gave."""
    if record.hf is None:
        return {}
    values = {column: getattr(record.hf, name) for name, column in HF_COLUMNS.items()}
    return {column: value for column, value in values.items() if value not in (None, "", [])}


def _merge_sightings(
    current: Mapping[str, datetime], record: PaperRecord, now: datetime
) -> dict[str, datetime]:
    """The earliest time each source saw the paper."""
    sightings = dict(current)
    for source, when in (record.sightings or {record.source: now}).items():
        if source not in sightings or when < sightings[source]:
            sightings[source] = when
    return sightings
