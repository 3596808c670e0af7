"""What the index knows of a paper, and reading it from the catalogue in batches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

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


def load_docs(pids: list[int], batch: int = 2000) -> Iterator[IndexDoc]:
    """IndexDocs for the given paper ids (those that still exist), in batches."""
    from paperroute.catalog.models import Authorship, Paper

    through = Paper.categories.through
    for start in range(0, len(pids), batch):
        chunk = pids[start : start + batch]
        rows = Paper.objects.filter(pk__in=chunk).values_list(
            "pk", "title", "abstract", "listed_on", "published", "primary_category"
        )
        authors: dict[int, list[str]] = {}
        for pid, name in (
            Authorship.objects.filter(paper_id__in=chunk)
            .order_by("paper_id", "position")
            .values_list("paper_id", "author__name")
        ):
            authors.setdefault(pid, []).append(name)
        categories: dict[int, list[str]] = {}
        for pid, code in through.objects.filter(paper_id__in=chunk).values_list("paper_id", "category__code"):
            categories.setdefault(pid, []).append(code)
        for pid, title, abstract, listed_on, published, primary in rows:
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
