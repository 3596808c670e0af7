"""What an import reads from a file: its entries, the parts it could not read, and the
identifiers (arXiv id, DOI, title) found in an entry's fields."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from paperroute.catalog.records import parse_arxiv_id, pasted_identifier
from paperroute.catalog.textclean import unicode_text

BIBTEX, CSL_JSON, RIS, ARXIV_IDS = "bibtex", "csl-json", "ris", "arxiv-ids"
FORMAT_NAMES = {BIBTEX: "BibTeX", CSL_JSON: "CSL-JSON", RIS: "RIS", ARXIV_IDS: "list of arXiv ids"}
MAX_TITLE = 2000  # as the catalogue (catalog/validate.py)


@dataclass
class Entry:
    """One reference read from the input: where it was, and what it says about the paper."""

    position: str  # "entry 3 (line 12)", "item 2", "record 4 (line 30)", "line 7"
    label: str = ""  # the citation key, RIS or CSL id, or the id as typed
    title: str = ""  # plain Unicode: TeX accents and braces undone
    arxiv_id: str = ""  # without version
    doi: str = ""  # lower-case, without https://doi.org/
    authors: list[str] = field(default_factory=list)
    year: str = ""
    # The DOI as the file wrote it: the catalogue keeps DOIs in the case its source used.
    doi_as_written: str = field(default="", repr=False)
    # The title as the file wrote it (TeX and all), for a second try at matching it.
    title_as_written: str = field(default="", repr=False)

    @property
    def first_author(self) -> str:
        if not self.authors:
            return ""
        return self.authors[0] + (" et al." if len(self.authors) > 1 else "")


@dataclass
class Skipped:
    """Part of the input that could not be read as an entry."""

    position: str
    message: str
    text: str = ""  # the start of what was there, to show


@dataclass
class Parsed:
    """The entries read from one input, in its format, and what was skipped."""

    format: str  # BIBTEX, CSL_JSON, RIS or ARXIV_IDS
    entries: list[Entry]
    skipped: list[Skipped]

    @property
    def format_name(self) -> str:
        return FORMAT_NAMES[self.format]


def make_entry(
    position: str,
    label: str,
    *,
    title: str,
    tex: bool,
    arxiv_id: str,
    doi: str,
    authors: list[str],
    year: str,
) -> Entry:
    """An Entry with its fields cleaned and cut to size; `tex` when the title is TeX (BibTeX)."""
    entry = Entry(
        position=position,
        label=" ".join(label.split())[:200],
        title=_plain_title(title, tex),
        arxiv_id=arxiv_id,
        doi=doi.lower(),
        authors=[" ".join(a.split())[:300] for a in authors if a and a.strip()][:50],
        year=year,
        doi_as_written=doi,
        title_as_written=(title or "")[:MAX_TITLE],
    )
    if entry.doi.startswith("10.48550/arxiv.") and not entry.arxiv_id:
        entry.arxiv_id = find_arxiv(entry.doi)  # arXiv's own DOI names the paper
    return entry


def snippet(raw: str | None) -> str:
    """The start of some input, on one line, to show beside a message about it."""
    return " ".join((raw or "").split())[:120]


def text_value(value: object) -> str:
    """A JSON or RIS scalar as text; "" for anything else (lists, objects, booleans)."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, (str, int, float)):
        return str(value)[:5000]
    return ""


def year_in(value: str) -> str:
    match = re.search(r"\b(1[5-9]\d\d|2\d\d\d)\b", value or "")
    return match.group(1) if match else ""


def display_name(name: str) -> str:
    """ "Vaswani, Ashish" as "Ashish Vaswani"; braces TeX left are dropped."""
    name = " ".join(name.replace("{", "").replace("}", "").split())
    if name.count(",") == 1:
        last, first = (part.strip() for part in name.split(","))
        if first and last:
            return f"{first} {last}"
    return name


_HTML_TAG = re.compile(r"</?(?:i|b|em|strong|sup|sub|sc|span)(?:\s[^<>]{0,200})?>", re.I)


def _plain_title(value: str, tex: bool) -> str:
    value = (value or "")[:MAX_TITLE]
    # CSL-JSON and RIS titles may carry the rich-text tags Zotero writes (<i>, <sub>).
    value = unicode_text(value) if tex else _HTML_TAG.sub("", value)
    return " ".join(value.split())


# -- arXiv ids -------------------------------------------------------------------------------

# An arXiv id in running text counts only after a sign that it is one: "arXiv:", an arXiv link,
# arXiv's DOI, or DBLP's "abs/" volume (CoRR). A bare 1706.03762 could be anything.
_ARXIV_IN_TEXT = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf|html|format)/|10\.48550/arxiv\.|\barxiv\s*[:.]?\s*|\babs/)"
    r"(\d{4}\.\d{4,5}(?:v\d+)?|[a-z][a-z\-]*(?:\.[A-Za-z]{2})?/\d{7}(?:v\d+)?)",
    re.I,
)


def find_arxiv(value: str, bare: bool = False) -> str:
    """The arXiv id in a field (without version), or ""; `bare` allows an id with no prefix."""
    value = unquote(value or "")[:2000]
    if bare:
        candidate = re.sub(r"\.pdf$|[?#].*$", "", value.strip().rstrip("/"))
        try:
            return parse_arxiv_id(candidate)[0]
        except ValueError:
            pass
    for match in _ARXIV_IN_TEXT.finditer(value):
        try:
            return parse_arxiv_id(match.group(1))[0]
        except ValueError:
            continue
    return ""


def first_arxiv(fields: list[tuple[str, bool]]) -> str:
    """The first arXiv id found in these (value, bare) fields, or ""."""
    for value, bare in fields:
        found = find_arxiv(value, bare)
        if found:
            return found
    return ""


ID_STRIP = "<>()[]{}\"'.,;:"


def id_from_token(token: str) -> str:
    """The arXiv id (without version) in one word of a pasted list: whatever search takes as
    naming an arXiv paper (an id, an arXiv or Hugging Face link, arXiv's DOI); "" for the rest."""
    found = pasted_identifier(token.strip(ID_STRIP))
    return found[1] if found and found[0] == "arxiv" else ""


# -- DOIs ------------------------------------------------------------------------------------

_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DOI_IN_TEXT = re.compile(r"(?:doi\.org/|\bdoi:\s*)(10\.\d{4,9}/[^\s\"<>{}]+)", re.I)


def clean_doi(value: str) -> str:
    """A DOI without resolver or "doi:" prefix, in the case written; "" if it is not one."""
    value = unquote((value or "")[:500]).strip()
    value = re.sub(r"\\([_%&#$])", r"\1", value)  # as BibTeX exporters escape them
    value = re.sub(r"^(?:https?://(?:dx\.|www\.)?doi\.org/|doi:\s*)", "", value, flags=re.I)
    value = value.strip().rstrip(".,;")
    return value if _DOI.fullmatch(value) else ""


def doi_in(values: list[str]) -> str:
    """The first DOI in these fields: a DOI field's value, or a doi.org link in a URL or note."""
    for value in values:
        found = clean_doi(value)
        if found:
            return found
        match = _DOI_IN_TEXT.search(unquote(value or "")[:2000])
        if match:
            found = clean_doi(match.group(1))
            if found:
                return found
    return ""
