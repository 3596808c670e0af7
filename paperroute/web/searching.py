"""Running a reader's search: validated options in, papers with their highlights out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from paperroute.catalog.models import Paper
from paperroute.community import listings

MODES = ("hybrid", "lexical", "semantic")


class BadSearch(ValueError):
    """Search options that cannot be used; the message says which and why, in the parameters'
    names. `fields` are the parameters at fault, and `reader` says it with the search page's
    labels (From and To for since and until)."""

    def __init__(self, message: str, *, fields: tuple[str, ...] = (), reader: str = "") -> None:
        super().__init__(message)
        self.fields = fields
        self.reader = reader or message


@dataclass
class Options:
    q: str = ""
    mode: str = "hybrid"
    since: date | None = None
    until: date | None = None
    category: str = ""
    correct: bool = True  # spell=0 searches exactly what was typed

    def params(self) -> dict[str, str]:
        """The query parameters that ask for this search (what `options` reads), defaults left out."""
        pairs = (
            ("q", self.q),
            ("mode", self.mode if self.mode != "hybrid" else ""),
            ("cat", self.category),
            ("since", self.since.isoformat() if self.since else ""),
            ("until", self.until.isoformat() if self.until else ""),
            ("spell", "" if self.correct else "0"),
        )
        return {name: value for name, value in pairs if value}

    @property
    def label(self) -> str:
        """The search as a title says it: its words, and its filters after them."""
        filters = [
            self.category,
            f"since {self.since.isoformat()}" if self.since else "",
            f"until {self.until.isoformat()}" if self.until else "",
            f"{self.mode} search" if self.mode != "hybrid" else "",
        ]
        return " · ".join([self.q, *(f for f in filters if f)])


@dataclass
class Found:
    papers: list[Paper] = field(default_factory=list)
    total: int = 0
    mode: str = "hybrid"
    message: str = ""
    exact: bool = True
    corrected: str = ""
    original: str = ""
    suggestion: str = ""
    fewer: str = ""
    behind: bool = False  # the search index lags the catalogue: the newest papers may be missing
    missing_arxiv: str = ""  # the query named this arXiv paper, which is not here


def options(params) -> Options:
    """Search options from query parameters (q, mode, since, until, cat)."""
    q = (params.get("q") or "").strip()
    mode = params.get("mode") or "hybrid"
    if mode not in MODES:
        raise BadSearch(f"mode must be one of {', '.join(MODES)}", fields=("mode",))
    since, until = _day(params.get("since"), "since"), _day(params.get("until"), "until")
    if since and until and since > until:
        raise BadSearch(
            "'since' is after 'until'", fields=("since", "until"), reader="The From date is after the To date"
        )
    category = (params.get("cat") or "").strip()[:64]
    return Options(
        q=q, mode=mode, since=since, until=until, category=category, correct=params.get("spell") != "0"
    )


def run(opts: Options, *, limit: int, offset: int = 0, snippets: bool = True) -> Found:
    """The papers matching, with `hit` set on each: its snippet and highlight spans, unless
    `snippets` is False (for callers that show none)."""
    from paperroute.search import SearchError, search

    try:
        results = search(
            opts.q,
            mode=opts.mode,
            limit=limit,
            offset=offset,
            since=opts.since,
            until=opts.until,
            categories=[opts.category] if opts.category else None,
            correct=opts.correct,
            load=listings.by_id,
            snippets=snippets,
        )
    except SearchError as exc:
        raise BadSearch(str(exc)) from None
    papers = []
    for hit in results.hits:
        hit.paper.hit = hit
        papers.append(hit.paper)
    return Found(
        papers=papers,
        total=results.total,
        mode=results.mode,
        message=results.message,
        exact=results.exact,
        corrected=results.corrected,
        original=results.original,
        suggestion=results.suggestion,
        fewer=results.fewer,
        behind=results.behind,
        missing_arxiv=results.missing_arxiv,
    )


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        label = {"since": "From", "until": "To"}.get(name, name)
        raise BadSearch(
            f"'{name}' must be a date such as 2024-11-28",
            fields=(name,),
            reader=f"The {label} date must be a date such as 2024-11-28",
        ) from None
