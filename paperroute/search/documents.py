"""What the index knows of a paper, and reading it from the catalogue in batches."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from paperroute.catalog.textclean import display_name, unicode_text
from paperroute.search import spelling

EPOCH = date(1970, 1, 1)
NO_DAY = -1_000_000  # papers with neither a listing day nor a publication date


@dataclass
class IndexDoc:
    """The searchable part of one paper."""

    pid: int
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    day: int  # listing day (else publication day) as days since 1970-01-01, or NO_DAY


def day_number(day: date | None) -> int:
    return NO_DAY if day is None else (day - EPOCH).days


def category_terms(codes: Iterable[str]) -> list[str]:
    """Lower-cased codes plus their archives, so that cat:cs finds cs.CL and cs.LG."""
    terms = []
    for code in codes:
        code = code.lower()
        terms.append(code)
        if "." in code:
            terms.append(code.split(".", 1)[0])
    return list(dict.fromkeys(terms))


@dataclass(frozen=True)
class Entry:
    """A paper as the keyword index takes it: title and abstract in Unicode (as readers type
    them: Schr\\"odinger becomes Schrödinger), its authors' names as written and as displayed,
    and its category terms."""

    pid: int
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    day: int


def entry(doc: IndexDoc) -> Entry:
    return Entry(
        pid=doc.pid,
        title=unicode_text(doc.title),
        abstract=unicode_text(doc.abstract),
        authors=tuple(dict.fromkeys([*doc.authors, *(display_name(n) for n in doc.authors)])),
        categories=tuple(category_terms(doc.categories)),
        day=doc.day,
    )


def prepare(docs: list[IndexDoc]) -> tuple[list[Entry], Counter]:
    """Each paper's entry, and how often each word occurs in the titles and abstracts (for
    spelling corrections); counted a batch at a time, which is quicker than adding each paper's
    words to the index's large count."""
    entries = [entry(doc) for doc in docs]
    words: Counter = Counter()
    for e in entries:
        words.update(spelling.words_of(f"{e.title} {e.abstract}"))
    return entries, words


def _among(field: str, ids: list[int]) -> dict:
    """A filter for rows whose `field` is among `ids`, or between the least and the greatest
    when the ids are nearly consecutive, as a rebuild reads them: the database reads a range as
    fast, and Django prepares it far quicker than a list of thousands (the caller skips the rows
    it did not ask for)."""
    low, high = min(ids), max(ids)
    if high - low < 2 * len(ids):
        return {f"{field}__gte": low, f"{field}__lte": high}
    return {f"{field}__in": ids}


def load_docs(pids: list[int], batch: int = 2000) -> Iterator[IndexDoc]:
    """IndexDocs for the given paper ids (those that still exist), in batches."""
    from paperroute.catalog.models import Authorship, Paper

    through = Paper.categories.through
    for start in range(0, len(pids), batch):
        chunk = pids[start : start + batch]
        wanted = set(chunk)
        rows = Paper.objects.filter(**_among("pk", chunk)).values_list(
            "pk", "title", "abstract", "listed_on", "published", "primary_category"
        )
        authors: dict[int, list[str]] = {}
        for pid, name in (
            Authorship.objects.filter(**_among("paper_id", chunk))
            .order_by("paper_id", "position")
            .values_list("paper_id", "author__name")
        ):
            authors.setdefault(pid, []).append(name)
        categories: dict[int, list[str]] = {}
        for pid, code in through.objects.filter(**_among("paper_id", chunk)).values_list(
            "paper_id", "category__code"
        ):
            categories.setdefault(pid, []).append(code)
        for pid, title, abstract, listed_on, published, primary in rows:
            if pid not in wanted:
                continue
            day = listed_on or (published.date() if published else None)
            codes = categories.get(pid) or ([primary] if primary else [])
            yield IndexDoc(
                pid=pid,
                title=title,
                abstract=abstract,
                authors=authors.get(pid, []),
                categories=codes,
                day=day_number(day),
            )
