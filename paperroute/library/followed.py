"""New papers from what a reader follows, each with why: for their private feed and digest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import F

from paperroute.catalog import models as catalog_models
from paperroute.catalog import taxonomy
from paperroute.catalog.models import Paper
from paperroute.community.listings import in_categories
from paperroute.library import follows
from paperroute.library.shelf import dismissed_ids

TOPIC_HITS = 20  # per followed topic


@dataclass
class Pick:
    paper: Paper
    reason: str  # "follows author Ashish Vaswani", "follows topic speculative decoding", ...


def new_papers(user, *, since: date | None = None, until: date | None = None, limit: int = 50) -> list[Pick]:
    """Papers listed from `since` to `until` (by default: the newest) by followed authors, in
    followed categories, or found for followed topics; newest first, each once, none the
    reader said no to."""
    from paperroute import search

    following = follows.of(user)
    if following.empty:
        return []
    listed = Paper.objects.exclude(listed_on=None)
    if since:
        listed = listed.filter(listed_on__gte=since)
    if until:
        listed = listed.filter(listed_on__lte=until)
    reasons: dict[int, str] = {}
    if following.authors:
        names = {f.value: f.label for f in following.authors}
        for pid, key in listed.filter(authors__key__in=list(names)).values_list("pk", "authors__key"):
            if key in names:
                reasons.setdefault(pid, f"follows author {names[key]}")
    for topic in following.topics:
        try:
            found = search.search(topic, limit=TOPIC_HITS, since=since, until=until)
        except search.SearchError:
            continue
        keys = [hit.key for hit in found.hits]
        for pid in Paper.objects.filter(key__in=keys).values_list("pk", flat=True):
            reasons.setdefault(pid, f"follows topic {topic}")
    if following.categories:
        # The newest papers first, each tested for the categories as it comes (in_categories),
        # then the followed codes of those alone: a join of every paper of the categories to
        # their codes, sorted, took 0.36-0.8 s at 1M papers (BENCHMARKS.md, "Listings at scale").
        newest = in_categories(listed, following.categories).order_by(F("listed_on").desc(), "pk")
        pids = list(newest.values_list("pk", flat=True)[: limit * 20])
        links = Paper.categories.through.objects.filter(paper_id__in=pids).filter(
            catalog_models.category_codes(following.categories, prefix="category__")
        )
        codes: dict[int, str] = {}
        for pid, code in links.order_by("category__code").values_list("paper_id", "category__code"):
            codes.setdefault(pid, code)
        for pid in pids:
            if pid in codes:  # else an ingest just moved it out of the categories
                reasons.setdefault(pid, f"follows category {taxonomy.labelled(codes[pid])}")
    for pid in dismissed_ids(user, list(reasons)):
        reasons.pop(pid, None)
    papers = Paper.objects.filter(pk__in=list(reasons)).order_by(
        F("listed_on").desc(nulls_last=True), F("published").desc(nulls_last=True), "key"
    )[:limit]
    return [Pick(paper, reasons[paper.pk]) for paper in papers]
