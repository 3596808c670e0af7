"""JSON Lines in paperroute's own schema (see docs/ingesting.md), one paper per line.

A line without an `id` is a paper known only by its content, such as the seed papers
({"title", "abstract", "links"}): it gets a stable id derived from its title and the source "seed".
"""

from __future__ import annotations

import json

from paperroute.catalog.records import (
    HFInfo,
    Page,
    PaperRecord,
    RecordError,
    UnusableInput,
    classify_links,
    optional_int,
    parse_arxiv_id,
    unwrap,
)
from paperroute.catalog.sources import dates

NAME = "jsonl"
SEED = "seed"


def parse(data: bytes) -> Page:
    """One record per non-empty line; a line that is not a paper object is reported and skipped.

    Lines end at "\n" only: str.splitlines() also ends them at U+2028, U+0085 and others, which
    JSON strings may hold as they are (our own export writes them so). Each line is decoded on
    its own, so that one line in another encoding costs only that line."""
    page = Page(items=[])
    parsed_any = False
    for number, raw in enumerate(data.removeprefix(b"\xef\xbb\xbf").split(b"\n"), 1):
        if not raw.strip():
            continue
        where = f"line {number}"
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            page.items.append(
                RecordError(where, f"not UTF-8 text: byte {raw[exc.start]:#04x} at column {exc.start + 1}")
            )
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            page.items.append(RecordError(where, f"invalid JSON: {exc.msg} at column {exc.colno}"))
            continue
        except RecursionError:  # the decoder stops at Python's recursion limit (about 1,000)
            page.items.append(RecordError(where, "invalid JSON: nested too deeply for a paper"))
            continue
        parsed_any = True
        try:
            page.items.append(record_from_json(obj, where))
        except (ValueError, TypeError, AttributeError) as exc:
            page.items.append(RecordError(where, str(exc) or type(exc).__name__))
    if page.items and not parsed_any:
        first = page.items[0]
        assert isinstance(first, RecordError)  # no line parsed, so every item is an error
        raise UnusableInput(f"not JSON Lines: no line holds a JSON object ({first.reason})")
    return page


def _text(obj: dict, key: str) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{key!r} must be a string")
    return value


def _list(obj: dict, key: str) -> list:
    value = obj.get(key) or []
    if not isinstance(value, list):
        raise ValueError(f"{key!r} must be a list")
    return value


def record_from_json(obj: object, where: str) -> PaperRecord:
    """A record from one decoded line of the schema."""
    if not isinstance(obj, dict):
        raise ValueError("the line is not a JSON object")
    title = unwrap(_text(obj, "title"))
    if not title:
        raise ValueError("missing title")
    identifier = _text(obj, "id").strip()
    record = PaperRecord(source=NAME, position=where, title=title)
    if identifier.startswith("doi:"):
        record.doi = identifier[4:].strip()
    elif identifier.startswith(("url:", "seed:")):
        record.key = identifier
    elif identifier:
        record.arxiv_id, record.version = parse_arxiv_id(identifier)
    else:
        record.source = SEED
    record.doi = record.doi or _text(obj, "doi").strip()
    record.abstract = unwrap(_text(obj, "abstract"))
    record.authors = [unwrap(str(a)) for a in _list(obj, "authors") if unwrap(str(a))]
    record.categories = [str(c) for c in _list(obj, "categories")]
    for key in ("comments", "journal_ref", "license"):
        setattr(record, key, unwrap(_text(obj, key)))
    for key in ("published", "updated"):
        if obj.get(key):
            setattr(record, key, dates.iso_datetime(_text(obj, key)))
    for version in _list(obj, "versions"):
        number = int(version["version"])
        if number < 1:
            raise ValueError(f"bad version number {number}")
        record.versions[number] = dates.iso_datetime(version["date"]) if version.get("date") else None
    if record.versions:
        record.version = max(record.versions)
    for announcement in _list(obj, "announcements"):
        record.announcements.append((dates.iso_date(announcement["date"]), str(announcement["type"])))
    if obj.get("announced_on"):
        record.announced_on = dates.iso_date(_text(obj, "announced_on"))
    if obj.get("submitted_on"):
        record.submitted_on = dates.iso_date(_text(obj, "submitted_on"))
    links = obj.get("links") or {}
    if isinstance(links, list):  # the seed form: a plain list of URLs
        record.code_url, record.project_url = classify_links([str(u) for u in links])
    elif isinstance(links, dict):
        record.abs_url = str(links.get("abs") or "")
        record.pdf_url = str(links.get("pdf") or "")
        record.code_url = str(links.get("code") or "")
        record.project_url = str(links.get("project") or "")
    else:
        raise ValueError("'links' must be a list of URLs or an object")
    hf = obj.get("hf")
    if isinstance(hf, dict):
        record.hf = HFInfo(
            upvotes=optional_int(hf.get("upvotes")),
            num_comments=optional_int(hf.get("num_comments")),
            submitted_by=str(hf.get("submitted_by") or ""),
            submitter_name=str(hf.get("submitter_name") or ""),
            github_repo=str(hf.get("github_repo") or ""),
            github_stars=optional_int(hf.get("github_stars")),
            ai_summary=str(hf.get("ai_summary") or ""),
            ai_keywords=[str(k) for k in hf.get("ai_keywords") or []],
        )
    sources = obj.get("sources") or {}
    if not isinstance(sources, dict):
        raise ValueError("'sources' must be an object of source names to first-seen times")
    record.sightings = {str(name): dates.iso_datetime(str(seen)) for name, seen in sources.items()}
    return record
