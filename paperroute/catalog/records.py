"""The record every source parser produces, and the errors a parser reports."""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime


class UnusableInput(Exception):
    """Input that cannot be used at all: not the expected format, or an error from the service."""


@dataclass
class RecordError:
    """A record that was skipped: where it was in the input and why."""

    position: str
    reason: str


@dataclass
class HFInfo:
    """What the Hugging Face daily-papers feed adds to a paper."""

    upvotes: int | None = None
    num_comments: int | None = None
    submitted_by: str = ""  # the Hugging Face username of who put the paper on the daily page
    submitter_name: str = ""  # their full name, as the page shows it
    github_repo: str = ""
    github_stars: int | None = None
    ai_summary: str = ""
    ai_keywords: list[str] = field(default_factory=list)


@dataclass
class PaperRecord:
    """One paper as a source describes it; empty fields mean the source did not say."""

    source: str
    position: str
    title: str
    arxiv_id: str = ""
    doi: str = ""
    url: str = ""
    key: str = ""
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    published: datetime | None = None
    updated: datetime | None = None
    version: int = 0
    versions: dict[int, datetime | None] = field(default_factory=dict)
    comments: str = ""
    journal_ref: str = ""
    license: str = ""
    abs_url: str = ""
    pdf_url: str = ""
    code_url: str = ""
    project_url: str = ""
    # (date, kind) pairs of arXiv announcements this source saw.
    announcements: list[tuple[date, str]] = field(default_factory=list)
    # An announcement day known without the announcement itself (our own JSONL export).
    announced_on: date | None = None
    submitted_on: date | None = None
    hf: HFInfo | None = None
    # Exact first-seen times per source, for records that carry them (our own JSONL export).
    sightings: dict[str, datetime] = field(default_factory=dict)


Item = PaperRecord | RecordError


@dataclass
class Page:
    """What one response of a source holds, and how to ask for the next one."""

    items: list[Item]
    next_token: str = ""
    cursor: int | None = None
    complete_list_size: int | None = None
    truncated: bool = False  # the response ended early; its whole records are kept

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)


_SPACE = re.compile(r"\s+")
# YYMM.NNNNN: the month must be one (1234.5678 is not an id: there is no month 34).
_NEW_ID = re.compile(r"^(\d{2}(?:0[1-9]|1[0-2])\.\d{4,5})(?:v(\d+))?$")
_OLD_ID = re.compile(r"^([a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v(\d+))?$")
_ID_PREFIX = re.compile(
    r"^(?:arxiv:|oai:arxiv\.org:|https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/)", re.I
)


def unwrap(text: str | None) -> str:
    """Undo the hard line-wrapping of arXiv metadata, leaving LaTeX as written."""
    return _SPACE.sub(" ", text or "").strip()


def parse_arxiv_id(text: str) -> tuple[str, int]:
    """Split an arXiv identifier in any common spelling into (id without version, version or 0)."""
    value = _ID_PREFIX.sub("", text.strip())
    value = re.sub(r"\.pdf$", "", value)
    for pattern in (_NEW_ID, _OLD_ID):
        match = pattern.match(value)
        if match:
            return match.group(1), int(match.group(2) or 0)
    raise ValueError(f"not an arXiv identifier: {text!r}")


# A paper's identifier as a reader pastes it into a search box: a link to it on arXiv (abs, pdf
# or html) or on Hugging Face, with or without the scheme; a DOI, bare, as doi:… or as a link.
_PASTED_LINK = re.compile(
    r"^(?:https?://)?(?:(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/|(?:www\.)?(?:huggingface|hf)\.co/papers/)",
    re.I,
)
_DOI = re.compile(r"^(?:(?:https?://)?(?:dx\.)?doi\.org/|doi:)?(10\.\d{4,9}/\S+)$", re.I)
# arXiv's own DOIs, 10.48550/arXiv.2411.17700, name its papers.
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.", re.I)


def pasted_identifier(text: str) -> tuple[str, str] | None:
    """What a query that is nothing but a paper's identifier names: ("arxiv", the id without
    its version) or ("doi", the DOI); None for any other text."""
    value = text.strip()
    if not value or len(value) > 300 or any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in value):
        return None  # words, or a control character no stored id holds (PostgreSQL refuses a NUL)
    link = _PASTED_LINK.match(value)
    if link:
        # What follows the id in a link: a query, a fragment, a trailing slash.
        value = re.split(r"[?#]", value[link.end() :], maxsplit=1)[0].rstrip("/")
    else:
        doi = _DOI.match(value)
        if doi:
            if not _ARXIV_DOI.match(doi.group(1)):
                return "doi", doi.group(1)
            value = doi.group(1)[len("10.48550/arXiv.") :]
    try:
        return "arxiv", parse_arxiv_id(value)[0]
    except ValueError:
        return None


# Characters no one can see or type into an address: controls (a line break, a tab, NUL, U+0085),
# formats (a zero-width space, a byte order mark) and the line and paragraph separators.
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp"})


def hidden_character(text: str) -> str:
    """The first control, format or line-separator character in the text, or ''."""
    return next((ch for ch in text if unicodedata.category(ch) in _HIDDEN), "")


def arxiv_month(arxiv_id: str) -> date | None:
    """The month an arXiv id was given out in, its first version's: 2411.17700 is November 2024,
    hep-th/9901001 January 1999 (old-style ids ran from 1991 to 2007); None for anything else."""
    if _NEW_ID.match(arxiv_id):
        yymm, century = arxiv_id[:4], 2000
    elif _OLD_ID.match(arxiv_id):
        yymm = arxiv_id.split("/", 1)[1][:4]
        century = 1900 if int(yymm[:2]) >= 91 else 2000
    else:
        return None
    month = int(yymm[2:])
    return date(century + int(yymm[:2]), month, 1) if 1 <= month <= 12 else None


@functools.lru_cache(maxsize=4096)  # an import asks for each title several times
def title_key(title: str) -> str:
    """A stable hash of a title, insensitive to case, accents, punctuation and spacing."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", folded)
    return hashlib.sha1(" ".join(words).encode()).hexdigest()


def author_name(text: str) -> str:
    """An author's display name, turning "Last, First" into "First Last"."""
    name = unwrap(text)
    if name.count(",") == 1:
        last, first = (part.strip() for part in name.split(","))
        if first and last and not re.fullmatch(r"(?i)(jr|sr|ii|iii|iv)\.?", first):
            name = f"{first} {last}"
    return name


def split_author_list(value: str) -> list[str]:
    """Authors from arXiv's one-line form: "A. One, B. Two and C. Three"."""
    flat = unwrap(value)
    # Affiliations in parentheses may hold commas of their own.
    flat = re.sub(r"\([^()]*\)", "", flat)
    parts = re.split(r",\s*(?:and\s+)?|\s+and\s+", flat)
    return [unwrap(p) for p in parts if unwrap(p)]


def optional_int(value: object) -> int | None:
    """An optional count from JSON: missing stays None, anything else must be an integer."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"expected an integer, got {value!r}")
    return int(value)


_URL = re.compile(r"https?://[^\s<>\"'{}|\\^`\]]+", re.I)
_CODE_HOST = re.compile(r"^https?://(?:www\.)?(?:github\.com|gitlab\.com|huggingface\.co/(?!papers/))", re.I)


def url_spans(text: str) -> list[tuple[int, int]]:
    """Where URLs are in free text, as [start, end) spans without trailing punctuation."""
    spans = []
    for match in _URL.finditer(text or ""):
        url = match.group(0).rstrip(".,;:!?)")
        # "(see https://x.org/a)" keeps its closing bracket out.
        if url.count("(") > url.count(")"):
            url = url.rstrip("(")
        spans.append((match.start(), match.start() + len(url)))
    return spans


def find_urls(text: str) -> list[str]:
    """URLs in free text, without the sentence punctuation that follows them."""
    return [text[start:end] for start, end in url_spans(text)]


def classify_links(urls: list[str]) -> tuple[str, str]:
    """The first code repository (GitHub, GitLab, Hugging Face) and the first other page."""
    code = next((u for u in urls if _CODE_HOST.match(u) and u.count("/") >= 4), "")
    project = next(
        (u for u in urls if u != code and not _CODE_HOST.match(u) and "arxiv.org" not in u.lower()),
        "",
    )
    return code, project
