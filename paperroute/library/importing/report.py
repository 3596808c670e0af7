"""What an import did, entry by entry, and its summary in words for the reader."""

from __future__ import annotations

from dataclasses import dataclass, field

from paperroute.catalog.models import Paper
from paperroute.library import shelf
from paperroute.library.importing.entries import FORMAT_NAMES, Entry, Skipped
from paperroute.library.models import Collection

# What happened to a matched paper, and to a fetched one.
ADDED, ALREADY, REPEATED, FULL = "added", "already", "repeated", "full"
FAILED, NOT_TRIED = "failed", "not tried"


@dataclass
class Matched:
    entry: Entry
    paper: Paper
    by: str  # matching.BY_ARXIV, BY_DOI or BY_TITLE
    # ADDED to the collection now, ALREADY there before, REPEATED (an earlier entry of this
    # import is the same paper), or not added because the collection is FULL.
    status: str = ""


@dataclass
class Unmatched:
    entry: Entry
    reason: str


@dataclass
class ImportReport:
    format: str
    collection: Collection
    matched: list[Matched] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def _count(self, *statuses: str) -> int:
        return sum(1 for m in self.matched if m.status in statuses)

    @property
    def format_name(self) -> str:
        return FORMAT_NAMES[self.format]

    @property
    def added(self) -> int:
        return self._count(ADDED)

    @property
    def already(self) -> int:
        """Entries whose paper was in the collection before (or earlier in this import)."""
        return self._count(ALREADY, REPEATED)

    @property
    def not_added_full(self) -> int:
        return self._count(FULL)

    @property
    def fetchable_ids(self) -> list[str]:
        """The arXiv ids of unmatched entries, once each, in the order of the input."""
        return list(dict.fromkeys(u.entry.arxiv_id for u in self.unmatched if u.entry.arxiv_id))

    @property
    def summary(self) -> str:
        """One paragraph for the reader: what was read, found, added, and left."""
        total = len(self.matched) + len(self.unmatched)
        parts = [
            f"Read {plural(total, 'entry', 'entries')} from the {self.format_name}"
            + (f" ({plural(len(self.skipped), 'part')} could not be read)" if self.skipped else "")
            + "."
        ]
        if self.matched:
            found = f"{plural(len(self.matched), 'entry', 'entries')} matched papers here"
            if self.added:
                found += f": {self.added:,} added to {self.collection.name}"
                if self.already:
                    found += f", {self.already:,} already there"
            elif self.already:
                found += f"; nothing new: all were already in {self.collection.name}"
            if self.not_added_full:
                found += (
                    f"; {self.not_added_full:,} not added because a collection holds at most "
                    f"{shelf.MAX_ITEMS:,} papers"
                )
            parts.append(found + ".")
        if self.unmatched:
            left = f"{plural(len(self.unmatched), 'entry', 'entries')} matched nothing here"
            if self.fetchable_ids:
                left += f" ({plural(len(self.fetchable_ids), 'arXiv id')} can be fetched from arXiv)"
            parts.append(left + ".")
        return " ".join(parts)


@dataclass
class Fetched:
    """What fetch_unmatched did with one arXiv id."""

    arxiv_id: str
    status: str  # ADDED, ALREADY, FAILED or NOT_TRIED
    message: str = ""
    paper: Paper | None = None


def plural(count: int, singular: str, plural_form: str = "") -> str:
    return f"{count:,} {singular if count == 1 else (plural_form or singular + 's')}"
