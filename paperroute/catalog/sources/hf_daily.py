"""Hugging Face's `/api/daily_papers` JSON: community-picked arXiv papers with upvotes."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from paperroute.catalog.records import (
    HFInfo,
    Page,
    PaperRecord,
    RecordError,
    UnusableInput,
    optional_int,
    parse_arxiv_id,
    unwrap,
)
from paperroute.catalog.sources import dates

NAME = "hf-daily"
PAGE_SIZE = 100


def parse(data: bytes) -> Page:
    """Papers with their Hugging Face fields; optional fields may be missing in any entry."""
    try:
        payload = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnusableInput(f"not JSON: {exc}") from None
    except RecursionError:  # the decoder stops at Python's recursion limit (about 1,000)
        raise UnusableInput("not a daily-papers response: the JSON is nested too deeply") from None
    if isinstance(payload, dict):
        if "error" in payload:
            raise UnusableInput(f"Hugging Face API error: {payload['error']}")
        payload = payload.get("papers", payload.get("items"))
    if not isinstance(payload, list):
        raise UnusableInput("expected a JSON list of daily-paper entries")
    page = Page(items=[])
    for number, entry in enumerate(payload, 1):
        paper = entry.get("paper") if isinstance(entry, dict) else None
        paper_id = paper.get("id") if isinstance(paper, dict) else None
        where = f"entry {number} ({paper_id})" if paper_id else f"entry {number}"
        try:
            page.items.append(_entry(entry, where))
        except (ValueError, TypeError, AttributeError) as exc:
            page.items.append(RecordError(where, str(exc) or type(exc).__name__))
    return page


def _entry(entry: dict, where: str) -> PaperRecord:
    if not isinstance(entry, dict) or not isinstance(entry.get("paper"), dict):
        raise ValueError("entry has no paper object")
    paper = entry["paper"]
    if not paper.get("id"):
        raise ValueError("missing paper id")
    arxiv_id, version = parse_arxiv_id(str(paper["id"]))
    title = unwrap(paper.get("title") or entry.get("title"))
    if not title:
        raise ValueError("missing title")
    published = paper.get("publishedAt") or entry.get("publishedAt")
    submitted = paper.get("submittedOnDailyAt")
    submitter = paper.get("submittedOnDailyBy") or entry.get("submittedBy") or {}
    github = paper.get("githubRepo") or ""
    record = PaperRecord(
        source=NAME,
        position=where,
        arxiv_id=arxiv_id,
        version=version,
        title=title,
        abstract=unwrap(paper.get("summary") or entry.get("summary")),
        authors=[unwrap(a.get("name")) for a in paper.get("authors") or [] if unwrap(a.get("name"))],
        published=dates.iso_datetime(published) if published else None,
        submitted_on=dates.iso_date(submitted) if submitted else None,
        project_url=paper.get("projectPage") or "",
        hf=HFInfo(
            upvotes=optional_int(paper.get("upvotes")),
            num_comments=optional_int(entry.get("numComments")),
            # The username, which Hugging Face's `submitter` filter and its clients go by; the
            # full name is what its page shows.
            submitted_by=str(submitter.get("user") or submitter.get("name") or ""),
            submitter_name=str(submitter.get("fullname") or ""),
            github_repo=github,
            github_stars=optional_int(paper.get("githubStars")),
            ai_summary=unwrap(paper.get("ai_summary")),
            ai_keywords=[str(k) for k in paper.get("ai_keywords") or []],
        ),
    )
    if github:
        record.code_url = github
    return record


def api_url(base: str, *, day: str = "", week: str = "", month: str = "") -> str:
    """The daily-papers request for one day, ISO week (YYYY-Www) or month (YYYY-MM)."""
    params = {"limit": str(PAGE_SIZE)}
    for key, value in (("date", day), ("week", week), ("month", month)):
        if value:
            params[key] = value
    return f"{base}?{urlencode(params)}"
