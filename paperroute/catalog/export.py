"""Write the catalogue as JSON Lines in the schema that `ingest jsonl` reads back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO

from django.db.models import Prefetch

from paperroute.catalog.models import Authorship, Paper


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def paper_to_json(paper: Paper) -> dict:
    """One paper in the JSONL schema; every stored field is kept so a round trip loses nothing."""
    obj = {
        "id": paper.key,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": [a.author.name for a in paper.bylines],
        "categories": [c.code for c in paper.ordered_categories],
        "published": _iso(paper.published),
        "updated": _iso(paper.updated),
        "versions": [{"version": v.number, "date": _iso(v.date)} for v in paper.versions.all()],
        "comments": paper.comments,
        "journal_ref": paper.journal_ref,
        "doi": paper.doi,
        "license": paper.license,
        "links": {
            "abs": paper.abs_url,
            "pdf": paper.pdf_url,
            "code": paper.code_url,
            "project": paper.project_url,
        },
        "announcements": [{"date": a.date.isoformat(), "type": a.kind} for a in paper.announcements.all()],
        "announced_on": _iso(paper.announced_on),
        "submitted_on": _iso(paper.submitted_on),
        "sources": {s.source: s.first_seen.isoformat() for s in paper.sightings.all()},
    }
    hf = {
        "upvotes": paper.hf_upvotes,
        "num_comments": paper.hf_num_comments,
        "submitted_by": paper.hf_submitted_by,
        "submitter_name": paper.hf_submitter_name,
        "github_repo": paper.github_repo,
        "github_stars": paper.github_stars,
        "ai_summary": paper.ai_summary,
        "ai_keywords": paper.ai_keywords,
    }
    if any(value not in (None, "", []) for value in hf.values()):
        obj["hf"] = hf
    return obj


def iter_papers() -> Iterator[Paper]:
    """Every paper with its related rows, in a stable order, without loading all at once."""
    return (
        Paper.objects.order_by("key")
        .prefetch_related(
            # A join rather than a second prefetch: one chunk of papers can name thousands of
            # authors, more than SQLite accepts in one query.
            Prefetch("authorships", queryset=Authorship.objects.select_related("author")),
            "versions",
            "announcements",
            "sightings",
            "categories",
        )
        .iterator(chunk_size=500)
    )


def export_jsonl(stream: IO[str]) -> int:
    """Write every paper as one JSON line; returns how many were written."""
    count = 0
    for paper in iter_papers():
        stream.write(json.dumps(paper_to_json(paper), ensure_ascii=False) + "\n")
        count += 1
    return count
