"""arXiv's daily announcement feed (RSS 2.0 at rss.arxiv.org, the format used since 2024)."""

from __future__ import annotations

import re

from paperroute.catalog.records import (
    Page,
    PaperRecord,
    UnusableInput,
    parse_arxiv_id,
    split_author_list,
    unwrap,
)
from paperroute.catalog.sources import dates
from paperroute.catalog.sources.xmldoc import collect, local_name, parse_items, text

NAME = "arxiv-rss"
NS = {
    "arxiv": "http://arxiv.org/schemas/atom",
    "dc": "http://purl.org/dc/elements/1.1/",
}
_DESCRIPTION = re.compile(
    r"^arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<type>[\w-]+)\s*Abstract:\s*(?P<abstract>.*)$", re.S
)


def parse(data: bytes) -> Page:
    """The papers announced in one feed, with their announce type and the announcement day."""
    doc = parse_items(data, "item", "guid")
    root = doc.root
    channel = root.find("channel")
    if local_name(root) != "rss" or channel is None:
        raise UnusableInput(f"not an RSS feed (the document is <{local_name(root)}>)")
    title = unwrap(text(channel, "title"))
    if title.startswith("Feed error"):
        # arXiv answers a bad feed name with HTTP 200 and an explanation in the channel.
        raise UnusableInput(f"arXiv feed error: {unwrap(text(channel, 'description'))}")
    channel_date = text(channel, "pubDate")
    return Page(
        items=collect(
            doc, "item", lambda el: unwrap(text(el, "guid")), lambda el, where: _item(el, where, channel_date)
        ),
        truncated=doc.truncated,
    )


def _item(item, where: str, channel_date: str) -> PaperRecord:
    description = text(item, "description").strip()
    match = _DESCRIPTION.match(description)
    identifier = match.group("id") if match else unwrap(text(item, "guid")) or text(item, "link")
    if not identifier.strip():
        raise ValueError("missing arXiv id")
    arxiv_id, version = parse_arxiv_id(identifier)
    title = unwrap(text(item, "title"))
    if not title:
        raise ValueError("missing title")
    kind = unwrap(text(item, "arxiv:announce_type", NS)) or (match.group("type") if match else "")
    if not kind:
        raise ValueError("missing announce type")
    # The feed is dated in arXiv's own time zone; that calendar day is the listing day.
    announced = dates.rfc2822(text(item, "pubDate") or channel_date).date()
    creators = [text(c) for c in item.findall("dc:creator", NS)]
    authors = [name for value in creators for name in split_author_list(value)]
    return PaperRecord(
        source=NAME,
        position=where,
        arxiv_id=arxiv_id,
        version=version,
        versions={version: None} if version else {},
        title=title,
        abstract=unwrap(match.group("abstract")) if match else unwrap(description),
        authors=authors,
        categories=[unwrap(text(c)) for c in item.findall("category") if text(c).strip()],
        license=unwrap(text(item, "dc:rights", NS)),
        announcements=[(announced, kind)],
    )


def feed_url(base: str, categories: list[str]) -> str:
    """The feed of one or more categories or archives."""
    return f"{base.rstrip('/')}/{'+'.join(categories)}"
