"""Counts that tell an operator what the catalogue holds."""

from __future__ import annotations

from django.db.models import F

from paperroute.catalog.models import Author, Category, Paper, Sighting


def catalogue_stats() -> dict:
    """Papers, authors and categories, and per source its paper count and newest paper."""
    sources = {}
    for source in Sighting.objects.order_by("source").values_list("source", flat=True).distinct():
        sightings = Sighting.objects.filter(source=source)
        newest = (
            sightings.select_related("paper")
            .order_by(
                F("paper__published").desc(nulls_last=True),
                F("paper__announced_on").desc(nulls_last=True),
                "-first_seen",
                "-paper__key",
            )
            .first()
        )
        if newest is None:  # a source's sightings vanished between the two queries
            continue
        paper = newest.paper
        sources[source] = {
            "papers": sightings.count(),
            "newest": {
                "id": paper.key,
                "title": paper.title,
                "published": paper.published.isoformat() if paper.published else None,
                # arXiv's daily listing gives the day it announced a paper, not its time.
                "announced": paper.announced_on.isoformat() if paper.announced_on else None,
                "first_seen": newest.first_seen.isoformat(),
            },
        }
    return {
        "papers": Paper.objects.count(),
        "authors": Author.objects.count(),
        "categories": Category.objects.count(),
        "sources": sources,
    }
