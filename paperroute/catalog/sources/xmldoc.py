"""Parse an XML response so that one broken record costs only that record."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from paperroute.catalog.records import PaperRecord, RecordError, UnusableInput


def _parser(recover: bool = False) -> etree.XMLParser:
    # Responses come from the network: no external entities, no DTD fetching.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=recover)


@dataclass
class XmlDoc:
    root: etree._Element
    items: list[etree._Element | RecordError]
    # The document ended before its root did (a file cut short): what came after the cut, an OAI
    # resumption token say, is missing.
    truncated: bool = False


_ROOT_START = re.compile(rb"<([A-Za-z_][\w.\-]*(?::[\w.\-]+)?)(?:\s[^<>]*)?>", re.S)


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def parse_items(data: bytes, item: str, id_tag: str) -> XmlDoc:
    """The document root and its `item` elements; a malformed item becomes a RecordError.

    `id_tag` names the element inside an item that identifies it in error messages.
    """
    if not data.strip():
        raise UnusableInput("the response is empty")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        return _salvage(data, item, id_tag, exc)
    items = list(root.iter(f"{{*}}{item}"))
    return XmlDoc(root, items)


def _salvage(data: bytes, item: str, id_tag: str, first_error: Exception) -> XmlDoc:
    """Parse each item on its own after the whole document failed to parse.

    One pass pairs each item's start tag with the next end tag, so the time is linear in the
    input however many items are left open: an open item runs up to the next start tag and
    becomes an error of its own.
    """
    root_match = _ROOT_START.search(data)
    if root_match is None:
        raise UnusableInput(f"not XML: {first_error}")
    root_start, root_name = root_match.group(0), root_match.group(1)
    # [^<>]* stops at the next tag, so no attempt to match scans past it.
    tag_re = re.compile(rb"<(/?)(?:[\w.\-]+:)?" + re.escape(item.encode()) + rb"(?:\s[^<>]*)?>")
    id_re = re.compile(rb"<" + re.escape(id_tag.encode()) + rb"(?:\s[^<>]*)?>\s*([^<]+?)\s*</")
    pieces: list[tuple[int, int, bool]] = []  # (start, end, closed) of each item, in order
    cut: list[tuple[int, int]] = []  # what the root document is parsed without
    opened: re.Match | None = None
    for tag in tag_re.finditer(data):
        if tag.group(1):  # an end tag
            if opened is not None:
                pieces.append((opened.start(), tag.end(), True))
                cut.append((opened.start(), tag.end()))
                opened = None
            else:
                cut.append(tag.span())  # closes nothing
            continue
        if opened is not None:
            pieces.append((opened.start(), tag.start(), False))
            cut.append(opened.span())
        opened = tag
    if opened is not None:
        pieces.append((opened.start(), len(data), False))
        cut.append(opened.span())
    rest = b"".join(
        data[a:b] for a, b in zip([0] + [end for _, end in cut], [start for start, _ in cut] + [len(data)])
    )
    try:
        root = etree.fromstring(rest, _parser())
    except etree.XMLSyntaxError as exc:
        # A file cut short (a download that stopped, a full disk) lacks the root's end tags:
        # the whole items before the cut are still good.
        root = (
            etree.fromstring(rest, _parser(recover=True)) if any(closed for _, _, closed in pieces) else None
        )
        if root is None:
            raise UnusableInput(f"not well-formed XML: {exc}") from None
        truncated = True
    else:
        truncated = False
    closing = b"</" + root_name + b">"
    items: list[etree._Element | RecordError] = []
    for number, (start, end, closed) in enumerate(pieces, 1):
        chunk = data[start:end]
        if not closed:
            found = id_re.search(chunk)
            identifier = found.group(1).decode(errors="replace") if found else ""
            items.append(
                RecordError(
                    position(item, number, identifier), f"broken XML: the <{item}> element is never closed"
                )
            )
            continue
        try:
            wrapper = etree.fromstring(root_start + chunk + closing, _parser())
            items.append(wrapper[0])
        except etree.XMLSyntaxError as exc:
            found = id_re.search(chunk)
            identifier = found.group(1).decode(errors="replace") if found else ""
            items.append(RecordError(position(item, number, identifier), f"broken XML: {exc}"))
    return XmlDoc(root, items, truncated)


def position(item: str, number: int, identifier: str) -> str:
    """Where a record was in its input, as error messages name it: "record 3 (oai:…)"."""
    return f"{item} {number} ({identifier})" if identifier else f"{item} {number}"


def collect(
    doc: XmlDoc,
    item: str,
    identify: Callable[[etree._Element], str],
    build: Callable[[etree._Element, str], PaperRecord | None],
) -> list[PaperRecord | RecordError]:
    """Build a record from each item; one whose data is bad becomes a RecordError."""
    out: list[PaperRecord | RecordError] = []
    for number, element in enumerate(doc.items, 1):
        if isinstance(element, RecordError):
            out.append(element)
            continue
        where = position(item, number, identify(element))
        try:
            record = build(element, where)
        except ValueError as exc:
            out.append(RecordError(where, str(exc)))
            continue
        if record is not None:
            out.append(record)
    return out


def text(element: etree._Element | None, path: str | None = None, ns: dict | None = None) -> str:
    """The text of an element (or of the first match of `path` below it), or ''."""
    if element is None:
        return ""
    target = element.find(path, ns) if path else element
    if target is None:
        return ""
    return "".join(target.itertext())
