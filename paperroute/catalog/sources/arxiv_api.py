"""arXiv query API responses (Atom), in both the pre-2025 and the 2025+ layout."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from paperroute.catalog.records import (
    Page,
    PaperRecord,
    RecordError,
    UnusableInput,
    parse_arxiv_id,
    unwrap,
)
from paperroute.catalog.sources import dates
from paperroute.catalog.sources.xmldoc import collect, local_name, parse_items, text

NAME = "arxiv-api"
PAGE_SIZE = 100  # arXiv asks API clients to page in slices of at most a few hundred
ATOM = "http://www.w3.org/2005/Atom"
NS = {
    "atom": ATOM,
    "arxiv": "http://arxiv.org/schemas/atom",
    # The old API used OpenSearch 1.1; both layouts declare the same namespace URI.
    "os": "http://a9.com/-/spec/opensearch/1.1/",
}


def parse(data: bytes) -> Page:
    """Papers and paging figures from one Atom response of the query API."""
    doc = parse_items(data, "entry", "id")
    root = doc.root
    if root.tag != f"{{{ATOM}}}feed":
        raise UnusableInput(f"not an arXiv API Atom feed (the document is <{local_name(root)}>)")
    for entry in doc.items:
        if not isinstance(entry, RecordError) and "/api/errors" in text(entry, "atom:id", NS):
            raise UnusableInput(f"arXiv API error: {unwrap(text(entry, 'atom:summary', NS))}")
    page = Page(
        items=collect(doc, "entry", lambda el: text(el, "atom:id", NS).strip(), _entry),
        truncated=doc.truncated,
    )
    total = text(root, "os:totalResults", NS).strip()
    start = text(root, "os:startIndex", NS).strip()
    page.complete_list_size = int(total) if total.isascii() and total.isdigit() else None
    page.cursor = int(start) if start.isascii() and start.isdigit() else None
    return page


def _entry(entry, where: str) -> PaperRecord:
    entry_id = text(entry, "atom:id", NS).strip()
    if not entry_id:
        raise ValueError("missing id")
    arxiv_id, version = parse_arxiv_id(entry_id)
    title = unwrap(text(entry, "atom:title", NS))
    if not title:
        raise ValueError("missing title")
    published = dates.iso_datetime(text(entry, "atom:published", NS))
    updated_text = text(entry, "atom:updated", NS)
    updated = dates.iso_datetime(updated_text) if updated_text.strip() else published
    categories = []
    primary = entry.find("arxiv:primary_category", NS)
    if primary is not None and primary.get("term"):
        categories.append(primary.get("term"))
    for category in entry.findall("atom:category", NS):
        term = category.get("term", "")
        if term and term not in categories:
            categories.append(term)
    record = PaperRecord(
        source=NAME,
        position=where,
        arxiv_id=arxiv_id,
        version=version,
        title=title,
        abstract=unwrap(text(entry, "atom:summary", NS)),
        authors=[unwrap(text(a, "atom:name", NS)) for a in entry.findall("atom:author", NS)],
        categories=categories,
        published=published,
        updated=updated,
        comments=unwrap(text(entry, "arxiv:comment", NS)),
        journal_ref=unwrap(text(entry, "arxiv:journal_ref", NS)),
        doi=unwrap(text(entry, "arxiv:doi", NS)),
    )
    record.authors = [a for a in record.authors if a]
    record.versions[1] = published
    if version:
        record.versions[version] = updated if version > 1 else published
    for link in entry.findall("atom:link", NS):
        href = link.get("href", "")
        if link.get("title") == "pdf":
            record.pdf_url = href
        elif link.get("rel") == "alternate":
            record.abs_url = href
        elif link.get("title") == "doi" and not record.doi:
            record.doi = re.sub(r"^https?://(dx\.)?doi\.org/", "", href)
    return record


def query_url(
    base: str, *, search_query: str = "", id_list: str = "", start: int = 0, max_results: int = PAGE_SIZE
) -> str:
    """A query API request for one page of results, newest submissions first."""
    params = {"start": str(start), "max_results": str(max_results)}
    if search_query:
        params.update(search_query=search_query, sortBy="submittedDate", sortOrder="descending")
    if id_list:
        params["id_list"] = id_list
    return f"{base}?{urlencode(params)}"
