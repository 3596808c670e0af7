"""Reading an uploaded file or pasted text into entries: BibTeX, CSL-JSON, RIS or a list of
arXiv ids and links. Pure functions of the input; nothing here touches the database.

A file that cannot be used at all raises InvalidInput; one bad entry is reported as Skipped
and the rest of the file is still read.
"""

from __future__ import annotations

import json
import re
from itertools import islice

import bibtexparser
import rispy
from bibtexparser.model import DuplicateBlockKeyBlock, DuplicateFieldKeyBlock
from bibtexparser.model import Entry as BibEntry

from paperroute.catalog.textclean import unicode_text
from paperroute.community.errors import InvalidInput
from paperroute.library.importing.entries import (
    ARXIV_IDS,
    BIBTEX,
    CSL_JSON,
    FORMAT_NAMES,
    ID_STRIP,
    RIS,
    Entry,
    Parsed,
    Skipped,
    display_name,
    doi_in,
    first_arxiv,
    id_from_token,
    make_entry,
    snippet,
    text_value,
    year_in,
)

MAX_BYTES = 5 * 1024 * 1024
MAX_ENTRIES = 5000
# The BibTeX splitter does Python work for each brace, quote, comma, "=" and newline; real
# exports of 5 MB have a few hundred thousand of these, and far fewer fields than this.
_MAX_BIBTEX_MARKS = 1_000_000
_MAX_BIBTEX_FIELDS = 200_000
# Blocks the splitter may open: @string, @comment and @preamble among the entries, and an "@ {"
# inside a value, leave room for twice as many as the entries one import takes.
_MAX_BIBTEX_BLOCKS = 2 * MAX_ENTRIES


class Counted(InvalidInput):
    """A refusal that uses up an import (PAPERROUTE_RATE_IMPORTS).

    A wrong file told at a glance (empty, binary, not a bibliography, a list with no id) is the
    reader's slip and does not count. A file that cost what an import costs does: one too large
    or with too many entries (OverLimit), and a bibliography the parser read through and found
    nothing usable in (about a second of CPU for 5,000 entries without titles). Sent in a loop,
    each is what a flood is made of.
    """


class OverLimit(Counted):
    """A file too large, or with too many entries, fields or braces, for one import."""


def parse(data: bytes | str, filename: str = "") -> Parsed:
    """The entries in an uploaded file or pasted text; InvalidInput when nothing can be used."""
    # The format is told from the content, the file name's extension deciding only when the
    # content alone does not (a .bib file with no entry is refused, not read as a list of ids).
    text = decode(data)
    if not text.strip():
        raise InvalidInput("the file is empty" if filename else "there is nothing to import", "file")
    kind = _detect(text, filename)
    reader = {BIBTEX: _parse_bibtex, CSL_JSON: _parse_csl_json, RIS: _parse_ris}.get(kind, _parse_ids)
    parsed = reader(text)
    if len(parsed.entries) + len(parsed.skipped) > MAX_ENTRIES:
        raise _too_many(parsed.format_name)
    if not parsed.entries:
        what = "no arXiv id or link" if kind == ARXIV_IDS else "no entry that could be read"
        first = parsed.skipped[0] if parsed.skipped else None
        raise (InvalidInput if kind == ARXIV_IDS else Counted)(
            f"{what} was found in this {parsed.format_name}"
            + (f" ({first.position}: {first.message})" if first else ""),
            "file",
        )
    return parsed


def _unreadable(what: str) -> str:
    return f"this {what} could not be read and was skipped; check it in your reference manager"


_NOTHING = "has no title, DOI or arXiv id to match and was skipped"


def _add(entries: list[Entry], skipped: list[Skipped], entry: Entry, what: str, raw: str) -> None:
    """Keep the entry, or report it skipped when it has nothing to match on."""
    if entry.title or entry.arxiv_id or entry.doi:
        entries.append(entry)
    else:
        skipped.append(Skipped(entry.position, f"this {what} {_NOTHING}", snippet(raw)))


def _too_many(what: str) -> OverLimit:
    return OverLimit(
        f"this {what} has more than {MAX_ENTRIES:,} entries, the most one import "
        "takes; split it into smaller files",
        "file",
    )


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_MAGIC = {
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (or an Office document)",
    b"\x1f\x8b": "a gzip-compressed file",
    b"\x89PNG": "an image",
    b"\xff\xd8\xff": "an image",
    b"SQLite format 3": "a database",
}
_NOT_TEXT = "export your library as BibTeX, RIS or CSL-JSON and upload that"


def decode(data: bytes | str) -> str:
    """The input as text with plain newlines; InvalidInput when too large or not text."""
    mb = MAX_BYTES // (1024 * 1024)
    if isinstance(data, str):
        if len(data) > MAX_BYTES:
            raise OverLimit(f"that is more than {mb} MB, the most one import takes", "file")
        text = data
    else:
        data = bytes(data)
        if len(data) > MAX_BYTES:
            raise OverLimit(f"the file is larger than {mb} MB, the most one import takes", "file")
        for magic, what in _MAGIC.items():
            if data.startswith(magic):
                raise InvalidInput(f"this is {what}, not a bibliography; {_NOT_TEXT}", "file")
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16", errors="replace")
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                # Older Windows exports (EndNote, Mendeley) are in the Windows code page.
                text = data.decode("cp1252", errors="replace")
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    controls = len(_CONTROL.findall(text))
    if controls and (controls > len(text) // 100 or "\x00" in text):
        raise InvalidInput(f"this is not a text file; {_NOT_TEXT}", "file")
    return text


_JSON_START = re.compile(r"\s*(?:\{|\[\s*(?:[{\]]|$))")
_BIBTEX_START = re.compile(r"^[ \t]*@[ \t]*[A-Za-z]+[ \t]*[{(]", re.M)
# Where bibtexparser's splitter opens a block (its _BLOCK_START): anywhere, not only at the start
# of a line, "@" and any word characters, spaces or tabs, then "{" or "(". Each opened block that
# fails becomes one skipped entry, so a file of "@a{@a{…" on one line is thousands of entries.
_BIBTEX_BLOCK = re.compile(r"@\w*[ \t]*[{(]")
_RIS_START = re.compile(r"^[ \t]*TY {1,2}-(?: |$)", re.M)
_EXTENSIONS = {
    "bib": BIBTEX,
    "bibtex": BIBTEX,
    "biblatex": BIBTEX,
    "ris": RIS,
    "json": CSL_JSON,
    "csljson": CSL_JSON,
}


def _detect(text: str, filename: str) -> str:
    by_name = _EXTENSIONS.get(filename.rsplit(".", 1)[-1].lower() if "." in filename else "")
    # "[2401.00001](https://…)" is a Markdown list of links, not JSON.
    if _JSON_START.match(text) or (by_name == CSL_JSON and text.lstrip()[:1] == "["):
        return CSL_JSON
    found = [
        (m.start(), kind)
        for kind, m in ((BIBTEX, _BIBTEX_START.search(text)), (RIS, _RIS_START.search(text)))
        if m
    ]
    if found:
        return min(found)[1]  # the one that starts first: an abstract may quote the other
    if by_name:
        raise InvalidInput(f"no {FORMAT_NAMES[by_name]} entries were found in {filename[:100]}", "file")
    return ARXIV_IDS


# -- BibTeX ------------------------------------------------------------------------------------


def _parse_bibtex(text: str) -> Parsed:
    # Refused before the splitter sees it: it does Python work for every block and mark.
    if next(islice(_BIBTEX_BLOCK.finditer(text), _MAX_BIBTEX_BLOCKS, None), None) is not None:
        raise _too_many("BibTeX file")
    marks = sum(text.count(ch) for ch in '{}",=\n')
    if marks > _MAX_BIBTEX_MARKS or text.count("=") > _MAX_BIBTEX_FIELDS:
        raise OverLimit(
            "this BibTeX file has far more fields and braces than a bibliography of "
            f"{MAX_ENTRIES:,} entries would; it cannot be imported",
            "file",
        )
    try:
        library = bibtexparser.parse_string(text)
    except Exception:  # the splitter gives up on states it does not expect
        raise Counted(
            "this BibTeX file could not be read; check that it is a BibTeX export", "file"
        ) from None
    entries: list[Entry] = []
    skipped: list[Skipped] = []
    number = 0
    for block in library.blocks:
        if isinstance(block, (DuplicateBlockKeyBlock, DuplicateFieldKeyBlock)) and isinstance(
            block.ignore_error_block, BibEntry
        ):
            block = block.ignore_error_block  # a repeated key is still a reference worth reading
        if not isinstance(block, BibEntry) and not hasattr(block, "error"):
            continue  # @string, @preamble, @comment and text between entries
        number += 1
        position = f"entry {number} (line {(block.start_line or 0) + 1})"  # start_line counts from 0
        if not isinstance(block, BibEntry):
            skipped.append(Skipped(position, _bibtex_error(block.error), snippet(block.raw)))
            continue
        try:
            _add(entries, skipped, _bibtex_entry(block, position), "entry", block.raw or "")
        except Exception:  # hostile values; the rest of the file is still read
            skipped.append(Skipped(position, _unreadable("entry"), snippet(block.raw)))
    return Parsed(BIBTEX, entries, skipped)


def _bibtex_error(error: Exception) -> str:
    reason = " ".join(str(getattr(error, "abort_reason", "") or error).split())[:200]
    return "this entry is malformed and was skipped" + (f": {reason}" if reason else "")


def _bibtex_entry(block: BibEntry, position: str) -> Entry:
    fields: dict[str, str] = {}
    for item in block.fields:
        key = str(item.key).lower()
        if key not in fields and isinstance(item.value, str):
            fields[key] = item.value[:20_000]

    def get(name: str) -> str:
        return fields.get(name, "")

    def tex(name: str) -> str:
        return unicode_text(get(name)[:2000])

    prefix = get("archiveprefix") or get("eprinttype")
    arxiv_id = first_arxiv(
        [
            (tex("eprint"), not prefix or "arxiv" in prefix.lower()),
            (tex("arxivid"), True),
            (tex("arxiv"), True),
            (tex("doi"), False),
            (get("url"), False),
            (tex("journal"), False),
            (tex("journaltitle"), False),
            (tex("volume"), False),
            (tex("number"), False),
            (tex("note"), False),
            (tex("howpublished"), False),
            (tex("eprintclass"), False),
            (tex("publisher"), False),
        ]
    )
    authors = [
        display_name(unicode_text(a)) for a in re.split(r"\s+and\s+", get("author")[:20_000]) if a.strip()
    ]
    return make_entry(
        position,
        block.key or "",
        title=get("title"),
        tex=True,
        arxiv_id=arxiv_id,
        doi=doi_in([tex("doi"), get("url"), tex("note")]),
        authors=authors,
        year=year_in(get("year") or get("date")),
    )


# -- CSL-JSON ----------------------------------------------------------------------------------


def _parse_csl_json(text: str) -> Parsed:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidInput(
            "this looks like JSON but is not valid JSON; export the collection again as CSL JSON", "file"
        ) from None
    if isinstance(data, dict):  # one item, or {"items": [...]} as some tools wrap them
        data = data["items"] if isinstance(data.get("items"), list) else [data]
    if not isinstance(data, list):
        raise InvalidInput("this JSON is not CSL-JSON: expected a list of references", "file")
    if len(data) > MAX_ENTRIES:
        raise _too_many("CSL-JSON")
    entries: list[Entry] = []
    skipped: list[Skipped] = []
    for number, item in enumerate(data, start=1):
        position = f"item {number}"
        if not isinstance(item, dict):
            skipped.append(
                Skipped(
                    position,
                    "this item is not a reference (not a JSON object)",
                    snippet(json.dumps(item)[:200]),
                )
            )
            continue
        try:
            _add(entries, skipped, _csl_entry(item, position), "item", json.dumps(item)[:200])
        except Exception:  # hostile values; the rest of the file is still read
            skipped.append(Skipped(position, _unreadable("item")))
    return Parsed(CSL_JSON, entries, skipped)


def _csl_entry(item: dict, position: str) -> Entry:
    def get(name: str) -> str:
        return text_value(item.get(name))

    arxiv_hint = "arxiv" in (get("archive") + get("publisher") + get("source")).lower()
    arxiv_id = first_arxiv(
        [
            (get("number"), arxiv_hint),
            (get("archive_location"), True),
            (get("DOI"), False),
            (get("URL"), False),
            (get("id"), True),
            (get("note"), False),
            (get("container-title"), False),
            (get("collection-title"), False),
        ]
    )
    authors = []
    listed = item.get("author")
    for person in listed if isinstance(listed, list) else []:
        if isinstance(person, dict):
            name = " ".join(filter(None, (text_value(person.get("given")), text_value(person.get("family")))))
            authors.append(name or text_value(person.get("literal")))
    year = ""
    issued = item.get("issued")
    if isinstance(issued, dict):
        parts = issued.get("date-parts")
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            year = year_in(text_value(parts[0][0]))
        year = year or year_in(text_value(issued.get("raw")) or text_value(issued.get("literal")))
    return make_entry(
        position,
        get("id"),
        title=get("title"),
        tex=False,
        arxiv_id=arxiv_id,
        doi=doi_in([get("DOI"), get("URL")]),
        authors=authors,
        year=year,
    )


# -- RIS -----------------------------------------------------------------------------------------

_RIS_LINE = re.compile(r"^[ \t]*([A-Z][A-Z0-9]) {1,2}-(?: (.*)|[ \t]*)$")
# Fields whose text may name other papers' ids (an abstract citing arXiv:…) are not searched.
_RIS_ARXIV_FIELDS = (
    "urls",
    "doi",
    "accession_number",
    "number",
    "note",
    "notes",
    "journal_name",
    "secondary_title",
    "alternate_title1",
    "alternate_title2",
    "alternate_title3",
    "id",
    "file_attachments1",
    "file_attachments2",
    "custom1",
    "custom2",
    "label",
    "publisher",
    "name_of_database",
)


def _ris_records(text: str) -> list[tuple[int, list[str]]]:
    """Each record's first line number and its lines, tags normalised for rispy."""
    records: list[tuple[int, list[str]]] = []
    current: list[str] | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        match = _RIS_LINE.match(line)
        tag, value = (match.group(1), (match.group(2) or "").strip()) if match else (None, "")
        if tag == "TY":
            current = [f"TY  - {value}"]
            records.append((number, current))
            if len(records) > MAX_ENTRIES:
                raise _too_many("RIS file")
        elif current is None:
            continue  # text before the first record, or between records
        elif tag == "ER":
            current = None
        elif tag:
            current.append(f"{tag}  - {value}")
        elif line.strip():
            current[-1] += " " + line.strip()  # a continuation of the field above
    return records


def _parse_ris(text: str) -> Parsed:
    entries: list[Entry] = []
    skipped: list[Skipped] = []
    for number, (line, lines) in enumerate(_ris_records(text), start=1):
        position = f"record {number} (line {line})"
        try:
            parsed = rispy.loads("\n".join(lines + ["ER  - "]), skip_unknown_tags=True)
            if len(parsed) != 1 or not isinstance(parsed[0], dict):
                raise ValueError("not one record")
            _add(entries, skipped, _ris_entry(parsed[0], position), "record", " ".join(lines[:3]))
        except Exception:  # hostile values; the rest of the file is still read
            skipped.append(Skipped(position, _unreadable("record"), snippet(" ".join(lines[:3]))))
    return Parsed(RIS, entries, skipped)


def _values(value: object) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [text for text in map(text_value, values) if text]


def _ris_entry(record: dict, position: str) -> Entry:
    def first(*names: str) -> str:
        for name in names:
            values = _values(record.get(name))
            if values:
                return values[0]
        return ""

    arxiv_id = first_arxiv(
        [(value, False) for name in _RIS_ARXIV_FIELDS for value in _values(record.get(name))]
    )
    authors = [display_name(a) for name in ("authors", "first_authors") for a in _values(record.get(name))]
    title = first("title", "primary_title", "translated_title", "short_title")
    return make_entry(
        position,
        first("id") or title[:80],
        title=title,
        tex=False,
        arxiv_id=arxiv_id,
        doi=doi_in(_values(record.get("doi")) + _values(record.get("urls"))),
        authors=authors,
        year=year_in(first("year", "publication_year", "date")),
    )


# -- a list of arXiv ids or links ------------------------------------------------------------


def _parse_ids(text: str) -> Parsed:
    entries: list[Entry] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip() or line.lstrip().startswith(("#", "%", "//")):
            continue  # blank lines and comments
        found = False
        # Markdown and HTML wrap links in brackets and quotes; arXiv ids and links have none.
        for token in re.split(r"[\s,;()\[\]<>\"'|]+", line):
            arxiv_id = id_from_token(token) if token else ""
            if not arxiv_id:
                continue
            found = True
            if arxiv_id not in seen:
                seen.add(arxiv_id)
                entries.append(
                    Entry(position=f"line {number}", label=token.strip(ID_STRIP)[:200], arxiv_id=arxiv_id)
                )
                if len(entries) > MAX_ENTRIES:
                    raise _too_many("list")
        if not found:
            skipped.append(Skipped(f"line {number}", "no arXiv id or link on this line", snippet(line)))
    return Parsed(ARXIV_IDS, entries, skipped)
