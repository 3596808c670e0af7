"""A collection as a file for reference managers: BibTeX, or CSL-JSON (Zotero, Mendeley, pandoc).

Both carry what an import matches on (arXiv id, DOI, title), so a collection exported here and
imported again, here or on another paperroute, gives back the same papers.
"""

from __future__ import annotations

import json
import re

from django.db.models import Prefetch

from paperroute.catalog import bibtex as catalog_bibtex
from paperroute.catalog.models import Authorship, Paper
from paperroute.catalog.textclean import unicode_text
from paperroute.library.models import Collection, CollectionItem

# Surname particles that belong with the family name in CSL ("Ludwig van Beethoven").
_PARTICLES = {"van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "la", "le", "ter", "zu"}


def _papers(collection: Collection) -> list[Paper]:
    items = (
        CollectionItem.objects.filter(collection=collection)
        .select_related("paper")
        .prefetch_related(
            Prefetch(
                "paper__authorships",  # a join: see listings.annotated
                queryset=Authorship.objects.select_related("author"),
            )
        )
    )
    return [item.paper for item in items]


def _cite_keys(papers: list[Paper]) -> list[str]:
    """One key per paper as catalog.bibtex makes them, with a, b, c… where two would clash."""
    keys: list[str] = []
    used: set[str] = set()
    for paper in papers:
        base = catalog_bibtex.cite_key(paper, paper.author_names)
        key, suffix = base, 0
        while key in used:
            suffix += 1
            key = base + _letters(suffix)
        used.add(key)
        keys.append(key)
    return keys


def _letters(number: int) -> str:
    """1 → a, 26 → z, 27 → aa: suffixes for repeated cite keys."""
    out = ""
    while number:
        number, rest = divmod(number - 1, 26)
        out = chr(ord("a") + rest) + out
    return out


def bibtex(collection: Collection) -> str:
    """The collection's papers, in its order, as one BibTeX file."""
    papers = _papers(collection)
    entries = []
    for paper, key in zip(papers, _cite_keys(papers)):
        entry = catalog_bibtex.entry(paper)
        # The entry's own key, on its first line, is replaced by one unique in this file.
        head = re.match(r"(@\w+\{)[^,\n]*,", entry)
        if head is not None:
            entry = f"{head.group(1)}{key}," + entry[head.end() :]
        entries.append(entry)
    # No comment line with the collection's name: BibTeX reads "@" anywhere outside an entry, so
    # a name could smuggle in an entry of its own.
    return "\n".join(entries)


def csl_json(collection: Collection) -> str:
    """The collection's papers, in its order, as a CSL-JSON array."""
    papers = _papers(collection)
    items = [_csl_item(paper, key) for paper, key in zip(papers, _cite_keys(papers))]
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


def _csl_item(paper: Paper, key: str) -> dict:
    item: dict = {
        "id": key,
        "type": "article-journal" if paper.journal_ref else "article",
        "title": unicode_text(paper.title),
    }
    authors = [_csl_name(name) for name in paper.author_names]
    if authors:
        item["author"] = authors
    when = catalog_bibtex.issued(paper)
    if when:  # to the month when only the arXiv id tells, as the BibTeX export has it
        item["issued"] = {"date-parts": [list(when)]}
    if paper.arxiv_id:
        # As Zotero's arXiv translator writes a preprint.
        item.update(number=f"arXiv:{paper.arxiv_id}", publisher="arXiv", archive="arXiv")
    if paper.doi:
        item["DOI"] = paper.doi
    if paper.journal_ref:
        item["container-title"] = paper.journal_ref
    if paper.abs_link:
        item["URL"] = paper.abs_link
    if paper.abstract:
        item["abstract"] = unicode_text(paper.abstract)
    return item


def _csl_name(name: str) -> dict:
    if catalog_bibtex.is_group(name):  # "NOvA Collaboration" is no one's given name and surname
        return {"literal": " ".join(name.split())}
    if name.count(",") == 1:  # written surname first: "Muñoz, Ana", "van der Berg, Jan"
        family, given = (" ".join(part.split()) for part in name.split(","))
        if family and given and not re.fullmatch(r"(?i)(jr|sr|ii|iii|iv)\.?", given):
            return {"given": given, "family": family}
    words = name.split()
    if len(words) < 2:
        return {"literal": name}
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in _PARTICLES:
        start -= 1
    return {"given": " ".join(words[:start]), "family": " ".join(words[start:])}
