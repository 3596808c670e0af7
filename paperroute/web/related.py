"""Related papers for a paper page, from the search area's embedding neighbours."""

from __future__ import annotations

import logging

from paperroute.catalog.models import Paper
from paperroute.community import listings

log = logging.getLogger(__name__)


def for_paper(paper: Paper, limit: int = 5) -> list[Paper]:
    """Papers nearest to this one, best first; empty when the search index cannot answer."""
    from paperroute.search import SearchError, related

    try:
        # The page shows titles, authors and votes: no snippets.
        hits = related(
            paper.key, limit=limit, load=listings.by_id, snippets=False, known=(paper.pk, paper.title)
        )
    except SearchError as exc:
        log.warning("related papers for %s: %s", paper.key, exc)
        return []
    return [hit.paper for hit in hits if hit.key != paper.key]


def in_order(keys: list[str]) -> list[Paper]:
    """Papers for these keys, in the keys' order, with their counts."""
    found = {p.key: p for p in listings.annotated(Paper.objects.filter(key__in=keys))}
    return [found[k] for k in keys if k in found]
