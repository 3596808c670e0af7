"""arXiv OAI-PMH `ListRecords` responses (metadata formats arXiv, arXivRaw and oai_dc)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from lxml import etree

from paperroute.catalog import taxonomy
from paperroute.catalog.records import (
    Page,
    PaperRecord,
    UnusableInput,
    author_name,
    parse_arxiv_id,
    split_author_list,
    unwrap,
)
from paperroute.catalog.sources import dates
from paperroute.catalog.sources.xmldoc import collect, local_name, parse_items, text

NAME = "arxiv-oai"
OAI = "http://www.openarchives.org/OAI/2.0/"
NS = {
    "oai": OAI,
    "arxiv": "http://arxiv.org/OAI/arXiv/",
    "raw": "http://arxiv.org/OAI/arXivRaw/",
    "dc": "http://purl.org/dc/elements/1.1/",
}


def parse(data: bytes) -> Page:
    """Records, resumption token and list size from one ListRecords response."""
    doc = parse_items(data, "record", "identifier")
    root = doc.root
    if root.tag != f"{{{OAI}}}OAI-PMH":
        raise UnusableInput(f"not an OAI-PMH response (the document is <{local_name(root)}>)")
    error = root.find("oai:error", NS)
    if error is not None:
        code = error.get("code", "")
        if code == "noRecordsMatch":
            return Page([])
        raise UnusableInput(f"OAI-PMH error {code}: {unwrap(text(error)) or 'no message'}")
    if root.find("oai:ListRecords", NS) is None:
        raise UnusableInput("the OAI-PMH response holds no ListRecords")

    page = Page(
        items=collect(doc, "record", lambda el: text(el, "oai:header/oai:identifier", NS).strip(), _record),
        truncated=doc.truncated,
    )
    token = root.find("oai:ListRecords/oai:resumptionToken", NS)
    if token is not None:
        page.next_token = (token.text or "").strip()
        page.cursor = _int_or_none(token.get("cursor"))
        page.complete_list_size = _int_or_none(token.get("completeListSize"))
    return page


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _record(element: etree._Element, where: str) -> PaperRecord | None:
    header = element.find("oai:header", NS)
    if header is not None and header.get("status") == "deleted":
        return None
    metadata = element.find("oai:metadata", NS)
    if metadata is None or len(metadata) == 0:
        raise ValueError("the record has no metadata")
    body = metadata[0]
    kind = etree.QName(body).namespace
    if kind == NS["arxiv"]:
        return _arxiv(body, where)
    if kind == NS["raw"]:
        return _arxiv_raw(body, where)
    if local_name(body) == "dc":
        return _oai_dc(body, element, where)
    raise ValueError(f"unknown metadata format <{local_name(body)}>")


def _require_id(value: str) -> str:
    if not value.strip():
        raise ValueError("missing arXiv id")
    return parse_arxiv_id(value)[0]


def _fields(body: etree._Element) -> dict[str, etree._Element]:
    """The children of a metadata element by local name (the first of each), in one pass."""
    fields: dict[str, etree._Element] = {}
    for child in body:
        tag = child.tag
        if isinstance(tag, str):
            fields.setdefault(tag.rpartition("}")[2], child)
    return fields


def _value(fields: dict[str, etree._Element], name: str) -> str:
    element = fields.get(name)
    if element is None:
        return ""
    return element.text or "" if len(element) == 0 else "".join(element.itertext())


def _common(fields: dict[str, etree._Element], where: str, arxiv_id: str) -> PaperRecord:
    title = unwrap(_value(fields, "title"))
    if not title:
        raise ValueError("missing title")
    return PaperRecord(
        source=NAME,
        position=where,
        arxiv_id=arxiv_id,
        title=title,
        abstract=unwrap(_value(fields, "abstract")),
        categories=_value(fields, "categories").split(),
        comments=unwrap(_value(fields, "comments")),
        journal_ref=unwrap(_value(fields, "journal-ref")),
        # Several DOIs are sometimes listed; the first one is the paper's.
        doi=(_value(fields, "doi").split() or [""])[0],
        license=unwrap(_value(fields, "license")),
    )


def _arxiv(body: etree._Element, where: str) -> PaperRecord:
    fields = _fields(body)
    record = _common(fields, where, _require_id(_value(fields, "id")))
    for author in fields.get("authors", ()):
        parts = _fields(author)
        name = " ".join(_value(parts, p).strip() for p in ("forenames", "keyname", "suffix"))
        name = unwrap(name)
        if name:
            record.authors.append(name)
    created = _value(fields, "created")
    if not created:
        raise ValueError("missing created date")
    record.published = dates.iso_datetime(created)
    record.versions[1] = record.published
    updated = _value(fields, "updated")
    record.updated = dates.iso_datetime(updated) if updated else record.published
    return record


def _arxiv_raw(body: etree._Element, where: str) -> PaperRecord:
    fields = _fields(body)
    record = _common(fields, where, _require_id(_value(fields, "id")))
    record.authors = split_author_list(_value(fields, "authors"))
    for version in body.findall("raw:version", NS):
        label = version.get("version", "")
        if not re.fullmatch(r"v\d+", label):
            raise ValueError(f"bad version label {label!r}")
        record.versions[int(label[1:])] = dates.rfc2822(text(version, "raw:date", NS))
    if not record.versions:
        raise ValueError("no versions")
    record.version = max(record.versions)
    record.published = record.versions[min(record.versions)]
    record.updated = record.versions[record.version]
    return record


def _oai_dc(body: etree._Element, record: etree._Element, where: str) -> PaperRecord:
    arxiv_id = ""
    for identifier in body.findall("dc:identifier", NS):
        try:
            arxiv_id = parse_arxiv_id(text(identifier))[0]
            break
        except ValueError:
            continue
    if not arxiv_id:
        header_id = text(record, "oai:header/oai:identifier", NS)
        arxiv_id = _require_id(header_id) if header_id else _require_id("")
    title = unwrap(text(body, "dc:title", NS))
    if not title:
        raise ValueError("missing title")
    descriptions = [unwrap(text(d)) for d in body.findall("dc:description", NS)]
    comments = [d[len("Comment:") :].strip() for d in descriptions if d.startswith("Comment:")]
    abstracts = [d for d in descriptions if not d.startswith("Comment:")]
    categories = []
    for subject in body.findall("dc:subject", NS):
        code = taxonomy.code_for_subject(text(subject))
        if code and code not in categories:
            categories.append(code)
    version_dates = sorted(dates.iso_datetime(text(d)) for d in body.findall("dc:date", NS))
    if not version_dates:
        raise ValueError("missing date")
    return PaperRecord(
        source=NAME,
        position=where,
        arxiv_id=arxiv_id,
        title=title,
        abstract=abstracts[0] if abstracts else "",
        comments=comments[0] if comments else "",
        authors=[author_name(text(c)) for c in body.findall("dc:creator", NS) if text(c).strip()],
        categories=categories,
        published=version_dates[0],
        updated=version_dates[-1],
        # arXiv lists one <dc:date> per version, oldest first.
        versions={number: day for number, day in enumerate(version_dates, 1)},
        version=len(version_dates),
        license=unwrap(text(body, "dc:rights", NS)),
    )


def harvest_url(base: str, *, prefix: str, since: str, until: str, set_spec: str) -> str:
    """The first ListRecords request of a harvest."""
    params = {"verb": "ListRecords", "metadataPrefix": prefix}
    if since:
        params["from"] = since
    if until:
        params["until"] = until
    if set_spec:
        params["set"] = set_spec
    return f"{base}?{urlencode(params)}"


def resume_url(base: str, token: str) -> str:
    """The request that continues a harvest from a resumption token."""
    return f"{base}?{urlencode({'verb': 'ListRecords', 'resumptionToken': token})}"
