"""Finding the catalogue's paper for each imported entry: by arXiv id, then DOI, then title."""

from __future__ import annotations

import re

from django.db.models import Q

from paperroute.catalog.models import Paper
from paperroute.catalog.records import title_key
from paperroute.library.importing.entries import Entry

BY_ARXIV, BY_DOI, BY_TITLE = "arXiv id", "DOI", "title"
# A title this short matches too many papers to be trusted alone.
_MIN_TITLE_WORDS = 3


def chunks(values: list, size: int = 500):
    """The values in slices, so that no query has more parameters than a database takes."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def match_entries(entries: list[Entry]) -> list[tuple[Entry, Paper | None, str]]:
    """Each entry with its paper and how it was found (BY_*), or None and why not."""
    by_id: dict[str, Paper] = {}
    for chunk in chunks(sorted({e.arxiv_id for e in entries if e.arxiv_id})):
        by_id.update((p.key, p) for p in Paper.objects.filter(key__in=chunk))
    by_doi = _papers_by_doi({e.doi: e.doi_as_written for e in entries if e.doi and e.arxiv_id not in by_id})
    wanted_titles = {
        key for e in entries if e.arxiv_id not in by_id and e.doi not in by_doi for key in title_keys(e)
    }
    by_title: dict[str, list[Paper]] = {}
    for chunk in chunks(sorted(wanted_titles)):
        for paper in Paper.objects.filter(title_key__in=chunk):
            by_title.setdefault(paper.title_key, []).append(paper)

    results: list[tuple[Entry, Paper | None, str]] = []
    for entry in entries:
        titled = [p for key in title_keys(entry) for p in by_title.get(key, [])]
        if entry.arxiv_id in by_id:
            results.append((entry, by_id[entry.arxiv_id], BY_ARXIV))
        elif entry.doi in by_doi:
            results.append((entry, _prefer(by_doi[entry.doi]), BY_DOI))
        elif titled:
            results.append((entry, _prefer(titled), BY_TITLE))
        else:
            results.append((entry, None, why_unmatched(entry)))
    return results


def _papers_by_doi(wanted: dict[str, str]) -> dict[str, list[Paper]]:
    """Papers by lower-case DOI, for these DOIs (lower-case: as written)."""
    found: dict[str, list[Paper]] = {}
    for chunk in chunks(sorted(wanted)):
        # The catalogue keeps a DOI as its source wrote it, and keys DOI-only papers "doi:<lower>".
        forms = {form for doi in chunk for form in (doi, wanted[doi], doi.upper())}
        query = Q(doi__in=forms) | Q(key__in=[f"doi:{doi}" for doi in chunk])
        for paper in Paper.objects.filter(query):
            found.setdefault((paper.doi or paper.key.removeprefix("doi:")).lower(), []).append(paper)
    missing = [doi for doi in wanted if doi not in found]
    for chunk in chunks(missing):  # DOIs stored in yet another case: one scan per chunk
        query = Q()
        for doi in chunk:
            query |= Q(doi__iexact=doi)
        for paper in Paper.objects.filter(query):
            found.setdefault(paper.doi.lower(), []).append(paper)
    return found


def _prefer(papers: list[Paper]) -> Paper:
    """Of several papers that fit, the arXiv one, else the oldest."""
    return min(papers, key=lambda p: (not p.arxiv_id, p.pk))


def title_keys(entry: Entry) -> list[str]:
    """The catalogue's title keys to look the entry up by: none when its title is too short."""
    keys = [
        title_key(title)
        for title in (entry.title, entry.title_as_written)
        if len(re.findall(r"\w+", title)) >= _MIN_TITLE_WORDS
    ]
    return list(dict.fromkeys(keys))


def why_unmatched(entry: Entry) -> str:
    """Why no paper was found for the entry, in words for the reader."""
    if entry.arxiv_id:
        return f"arXiv:{entry.arxiv_id} is not in this site's catalogue yet; it can be fetched from arXiv"
    titled = bool(title_keys(entry))
    if entry.doi and titled:
        return "no paper here has this DOI or this title"
    if entry.doi:
        return "no paper here has this DOI"
    if titled:
        return "no paper here has this title"
    if entry.title:
        return "the title is too short to match on its own, and there is no arXiv id or DOI"
    return "no arXiv id, DOI or title was found in this entry"
