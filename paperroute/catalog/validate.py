"""Checks a record must pass before it is stored; each failure is a reason to skip it."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from paperroute.catalog.records import PaperRecord

_CATEGORY = re.compile(r"^[A-Za-z][\w.\-]{0,63}$")
_LIMITS = {"title": 2000, "doi": 255, "license": 300, "journal_ref": 2000, "comments": 5000,
           "abstract": 50000}


def validate(record: PaperRecord) -> str:
    """Why the record cannot be stored, or '' when it can."""
    if not record.title.strip():
        return "missing title"
    for name, limit in _LIMITS.items():
        if len(getattr(record, name)) > limit:
            return f"{name} longer than {limit} characters"
    for name in ("abs_url", "pdf_url", "code_url", "project_url"):
        url = getattr(record, name)
        if url and (not url.startswith(("http://", "https://")) or len(url) > 500):
            return f"bad URL in {name.removesuffix('_url')} link: {url[:80]!r}"
    for author in record.authors:
        if len(author) > 300:
            return f"author name longer than 300 characters: {author[:40]!r}…"
    for code in record.categories:
        if not _CATEGORY.match(code):
            return f"bad category {code[:40]!r}"
    latest_year = datetime.now(timezone.utc).year + 1
    moments = [record.published, record.updated, *record.versions.values()]
    for moment in moments:
        if moment is not None and not 1980 <= moment.year <= latest_year:
            return f"implausible date {moment.date().isoformat()}"
    if any(n < 1 or n > 1000 for n in record.versions) or not 0 <= record.version <= 1000:
        return "bad version number"
    if record.published and record.updated and record.updated < record.published:
        return "updated before published"
    return ""
