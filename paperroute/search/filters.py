"""Restrictions on which papers may match, applied inside both retrievers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from paperroute.search.documents import NO_DAY, day_number
from paperroute.search.query import ParsedQuery


@dataclass
class Filters:
    """Listing-day range (inclusive day numbers), categories (one of each group's), authors (all of)."""

    first_day: int | None = None
    last_day: int | None = None
    category_groups: list[list[str]] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)

    @property
    def categories(self) -> list[str]:
        """Every category named, in any group."""
        return list(dict.fromkeys(code for group in self.category_groups for code in group))

    @property
    def empty(self) -> bool:
        return (
            self.first_day is None and self.last_day is None and not self.category_groups and not self.authors
        )

    @property
    def impossible(self) -> bool:
        return self.first_day is not None and self.last_day is not None and self.first_day > self.last_day


def combine(
    parsed: ParsedQuery,
    *,
    since: date | None = None,
    until: date | None = None,
    categories: list[str] | None = None,
    authors: list[str] | None = None,
) -> Filters:
    """The filters of a query's syntax and of the caller's options, all of which must hold."""
    first = day_number(since) if since else None
    last = day_number(until) if until else None
    if parsed.years:
        low, high = parsed.years
        if low is not None:
            year_first = day_number(date(low, 1, 1))
            first = year_first if first is None else max(first, year_first)
        if high is not None:
            year_last = day_number(date(high, 12, 31))
            last = year_last if last is None else min(last, year_last)
    if last is not None and first is None:
        first = NO_DAY + 1  # papers without any date do not pass a date filter
    # Several categories of the options (the search form's, --category repeated) are any of
    # them, and so are several cat: terms of the query; but the two narrow each other, as every
    # other filter does: the form's cs.CL with the query's cat:cs.LG is papers in both. Authors
    # narrow (every named author).
    cats = [c.strip().lower() for c in (categories or []) if c and c.strip()]
    names = [a.strip().lower() for a in (authors or []) if a and a.strip()] + parsed.authors
    return Filters(
        first_day=first,
        last_day=last,
        category_groups=[list(dict.fromkeys(group)) for group in (cats, parsed.categories) if group],
        authors=list(dict.fromkeys(names)),
    )
