"""Checks a record must pass before it is stored; each failure is a reason to skip it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from paperroute.catalog.links import http_url
from paperroute.catalog.records import PaperRecord, hidden_character

_CATEGORY = re.compile(r"^[A-Za-z][\w.\-]{0,63}$")
_SURROGATE = re.compile("[\ud800-\udfff]")
_LIMITS = {
    "title": 2000,
    "doi": 255,
    "license": 300,
    "journal_ref": 2000,
    "comments": 5000,
    "abstract": 50000,
}


def validate(record: PaperRecord) -> str:
    """Why the record cannot be stored, or '' when it can."""
    if not record.title.strip():
        return "missing title"
    problem = _identity(record)
    if problem:
        return problem
    for name, limit in _LIMITS.items():
        if len(getattr(record, name)) > limit:
            return f"{name} longer than {limit} characters"
    if record.hf is not None:
        hf = record.hf
        for name, value in (
            ("upvotes", hf.upvotes),
            ("comment count", hf.num_comments),
            ("GitHub stars", hf.github_stars),
        ):
            if value is not None and not 0 <= value < 2**31:
                return f"implausible {name}: {value}"
        if len(hf.submitted_by) > 200:
            return "submitter's username longer than 200 characters"
        if len(hf.submitter_name) > 200:
            return "submitter's name longer than 200 characters"
    if any("\x00" in text for text in _texts(record)):
        # No database column can hold it, and on PostgreSQL it would fail the whole batch.
        return "holds a NUL character"
    if any(_SURROGATE.search(text) for text in _texts(record)):
        # JSON may hold one ("\ud83d": an emoji cut in two); no database driver can encode it,
        # and its error is no database error: the whole run stopped.
        return "holds a lone surrogate, half of a character (text cut inside an emoji?)"
    for author in record.authors:
        if len(author) > 300:
            return f"author name longer than 300 characters: {author[:40]!r}…"
    for code in record.categories:
        if not _CATEGORY.fullmatch(code):  # match() would take "cs.LG\n", its $ before a last \n
            return f"bad category {code[:40]!r}"
    latest_year = datetime.now(UTC).year + 1
    # Days too: a listing day of 9999-12-31 became the home page's newest day, and no period
    # after it can be computed.
    moments = [
        record.published,
        record.updated,
        *record.versions.values(),
        record.submitted_on,
        record.announced_on,
        *(day for day, _ in record.announcements),
    ]
    for moment in moments:
        if moment is not None and not 1980 <= moment.year <= latest_year:
            day = moment.date() if isinstance(moment, datetime) else moment
            return f"implausible date {day.isoformat()}"
    if any(n < 1 or n > 1000 for n in record.versions) or not 0 <= record.version <= 1000:
        return "bad version number"
    if record.published and record.updated and record.updated < record.published:
        return "updated before published"
    return ""


_CHARACTER_NAMES = {
    "\t": "a tab",
    "\n": "a line break",
    "\r": "a carriage return",
    "\x00": "a NUL",
    "\u2028": "a line separator",
    "\u2029": "a paragraph separator",
}


def _identity(record: PaperRecord) -> str:
    """Why the record's identity (its id, DOI or URL, from which its key is made) is unusable.

    A key holding a line break has no address (no page, no link, and every list holding the paper
    failed with a 500), and the API and MCP refuse ids with control characters. An arXiv id is
    parsed strictly; these come as written, from JSON Lines.
    """
    for label, value in (("id", record.key), ("DOI", record.doi), ("URL", record.url)):
        holds = _holds_hidden(value)
        if holds:
            return f"the {label} {value[:80]!r} {holds}, which a paper's id cannot hold"
    return ""


def _holds_hidden(value: str) -> str:
    """'holds a tab (U+0009)' for text with a control or invisible character in it, else ''."""
    ch = hidden_character(value)
    return f"holds {_CHARACTER_NAMES.get(ch, 'an invisible character')} (U+{ord(ch):04X})" if ch else ""


LINKS = {"abs_url": "arXiv page", "pdf_url": "PDF", "code_url": "code", "project_url": "project page"}


def drop_bad_links(record: PaperRecord) -> list[str]:
    """Blank every link of the record that is not an http(s) URL, and an arXiv paper's DOI holding
    a control character; says what was dropped.

    A `javascript:` or `data:` URL would run in a reader's browser when clicked; the rest of the
    record is fine, so only the link goes.
    """
    dropped: dict[str, list[str]] = {}
    for name, label in LINKS.items():
        url = getattr(record, name)
        if url and not http_url(url):
            setattr(record, name, "")
            dropped.setdefault(url, []).append(label)
    if record.hf is not None and record.hf.github_repo and not http_url(record.hf.github_repo):
        dropped.setdefault(record.hf.github_repo, []).append("GitHub repository")
        record.hf.github_repo = ""
    notes = [
        f"dropped the {' and '.join(labels)} link {url[:80]!r}: not an http(s) URL"
        for url, labels in dropped.items()
    ]
    holds = _holds_hidden(record.doi) if record.arxiv_id else ""
    if holds:
        # An arXiv paper's id is its arXiv id: only the DOI (a doi.org link, a pasted id) goes,
        # where a paper known by its DOI is skipped (validate).
        notes.append(f"dropped the DOI {record.doi[:80]!r}: it {holds}")
        record.doi = ""
    return notes


def _texts(record: PaperRecord):
    yield from (
        record.title,
        record.abstract,
        record.comments,
        record.journal_ref,
        record.doi,
        record.license,
        record.key,
        record.url,
        record.arxiv_id,
        record.abs_url,
        record.pdf_url,
        record.code_url,
        record.project_url,
    )
    yield from record.authors
    yield from record.categories
    yield from (kind for _, kind in record.announcements)
    yield from record.sightings
    if record.hf is not None:
        yield from (
            record.hf.submitted_by,
            record.hf.submitter_name,
            record.hf.github_repo,
            record.hf.ai_summary,
        )
        yield from record.hf.ai_keywords
