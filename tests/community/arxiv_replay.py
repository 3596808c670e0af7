"""A stand-in for the arXiv query API that answers id_list queries from the recorded feeds."""

from __future__ import annotations

import copy

from lxml import etree

from tests.conftest import FIXTURES
from tests.replay import Reply

ATOM = "{http://www.w3.org/2005/Atom}"
RECORDED = sorted((FIXTURES / "arxiv_atom_api").glob("*.xml"))


def _entries() -> dict[str, tuple[etree._Element, etree._Element]]:
    """Recorded entries by arXiv id (without version), each with the feed it came from."""
    found = {}
    for path in RECORDED:
        root = etree.fromstring(path.read_bytes())
        for entry in root.findall(f"{ATOM}entry"):
            entry_id = entry.findtext(f"{ATOM}id", "").rsplit("/abs/", 1)[-1].split("v")[0]
            if entry_id and "/api/" not in entry_id:
                found.setdefault(entry_id, (root, entry))
    return found


ENTRIES = _entries()


def respond(path: str, params: dict[str, str]) -> Reply:
    """The feed arXiv would send for `id_list=ID`: the recorded entry, or no entries at all."""
    wanted = params.get("id_list", "")
    root, entry = ENTRIES.get(wanted, (etree.fromstring(RECORDED[0].read_bytes()), None))
    feed = copy.deepcopy(root)
    for old in feed.findall(f"{ATOM}entry"):
        feed.remove(old)
    if entry is not None:
        feed.append(copy.deepcopy(entry))
    for element in feed.iter():
        if element.tag.endswith("totalResults"):
            element.text = "1" if entry is not None else "0"
    return Reply(
        etree.tostring(feed, xml_declaration=True, encoding="UTF-8"), content_type="application/atom+xml"
    )
