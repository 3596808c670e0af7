"""Trending: votes that fade with time, so that today's 20 votes beat last month's 50.

A vote cast `age` hours ago counts 2^(-age / H), where H is PAPERROUTE_TRENDING_HALF_LIFE (24 h by
default). A paper's score is the sum over its votes. Community votes count from the moment they
were cast; the Hugging Face upvotes a paper arrived with count as cast at noon UTC on the day it
was listed there (or now, before that noon). Scores are compared as log2(score), which never
underflows however old a vote.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, F, Max, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from paperroute.catalog.models import Paper
from paperroute.community.listings import annotated, by_id
from paperroute.community.models import Vote

WINDOW = timedelta(days=30)  # older votes weigh at most 2^-30 of a fresh one at H = 24 h
MINIMUM = 30  # papers the trending page shows whenever the catalogue has them


@dataclass
class Ranked:
    paper: Paper
    score: float  # log2 of the decayed vote sum at the reference time
    upvotes: int  # all votes, undecayed: what the page shows


def half_life_hours() -> float:
    return settings.CONFIG.trending_half_life


def decayed_log2(votes: list[tuple[datetime, int]], at: datetime, half_life: float) -> float:
    """log2 of Σ count·2^(-age/H) over (time, count) pairs; -inf when there are none."""
    exponents = [
        math.log2(n) - max((at - when).total_seconds(), 0) / 3600 / half_life for when, n in votes if n > 0
    ]
    if not exponents:
        return -math.inf
    top = max(exponents)
    return top + math.log2(sum(2 ** (e - top) for e in exponents))


def hf_moment(listed: date | None, published: datetime | None) -> datetime | None:
    """When the Hugging Face upvotes of a paper count as cast."""
    day = listed or (published.date() if published else None)
    return datetime.combine(day, time(12), tzinfo=UTC) if day else None


def score(candidate_ids: set[int], at: datetime) -> dict[int, float]:
    """The trending score (log2) of each candidate paper at the reference time."""
    events: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for pk, upvotes, listed, published in Paper.objects.filter(
        pk__in=candidate_ids, hf_upvotes__gt=0
    ).values_list("pk", "hf_upvotes", "listed_on", "published"):
        moment = hf_moment(listed, published)
        # Until noon, a paper listed today counts its upvotes as cast now: a moment still to
        # come would leave today's papers out of trending every morning.
        if moment and upvotes and moment.date() <= at.date():
            events[pk].append((min(moment, at), upvotes))
    # Votes grouped by hour: exact enough for a ranking, and one row per paper-hour to read.
    for pk, hour, n in (
        Vote.objects.filter(paper_id__in=candidate_ids, created_at__lte=at)
        .annotate(hour=TruncHour("created_at"))
        .values("paper_id", "hour")
        .annotate(n=Count("id"))
        .values_list("paper_id", "hour", "n")
    ):
        events[pk].append((hour + timedelta(minutes=30), n))
    half_life = half_life_hours()
    return {pk: decayed_log2(events.get(pk, []), at, half_life) for pk in candidate_ids}


def rank(candidate_ids: set[int], at: datetime, limit: int) -> list[Ranked]:
    """The candidates with at least one vote, best first."""
    scores = {pk: s for pk, s in score(candidate_ids, at).items() if s > -math.inf}
    ordered = sorted(scores, key=lambda pk: -scores[pk])
    if 0 < limit < len(ordered) and scores[ordered[limit - 1]] == scores[ordered[limit]]:
        # Papers tied across the cut are chosen by the tie rule below, not by the order of a
        # set: otherwise a page of the list and the next one could both hold the same paper.
        edge = scores[ordered[limit]]
        tied = [pk for pk in ordered if scores[pk] == edge]
        rows = dict(
            (pk, _tie(published, key))
            for pk, published, key in Paper.objects.filter(pk__in=tied).values_list("pk", "published", "key")
        )
        tied.sort(key=lambda pk: rows.get(pk, (0, "")))
        ordered = (
            [pk for pk in ordered if scores[pk] > edge] + tied + [pk for pk in ordered if scores[pk] < edge]
        )
    best = ordered[:limit]
    papers = by_id(best)
    ranked = [Ranked(papers[pk], scores[pk], papers[pk].upvotes) for pk in best if pk in papers]
    ranked.sort(key=lambda r: (-r.score, *_tie(r.paper.published, r.paper.key)))
    return ranked


def _tie(published: datetime | None, key: str) -> tuple[float, str]:
    """Between papers of one score (same votes at the same moment): the more recent, then the key."""
    return -(published.timestamp() if published else 0), key


def latest_activity() -> datetime | None:
    """The time of the most recent vote, community or Hugging Face."""
    last_vote = Vote.objects.aggregate(m=Max("created_at"))["m"]
    last_hf = Paper.objects.filter(hf_upvotes__gt=0).aggregate(m=Max("listed_on"))["m"]
    moments = [m for m in (last_vote, hf_moment(last_hf, None)) if m]
    return max(moments) if moments else None


def candidates(now: datetime) -> set[int]:
    """Papers that may trend: those voted on here, and those upvoted on Hugging Face, each in the
    30 days up to that community's latest vote.

    Each community's window ends at its own latest vote, so that one vote here today does not
    push the imported papers of last month off the page; ranking them all at `now` keeps the
    order of old votes as it was, because decay scales every vote by the same factor.
    """
    ids: set[int] = set()
    last_vote = Vote.objects.filter(created_at__lte=now).aggregate(m=Max("created_at"))["m"]
    if last_vote:
        ids |= set(
            Vote.objects.filter(created_at__gt=last_vote - WINDOW, created_at__lte=now).values_list(
                "paper_id", flat=True
            )
        )
    hf = Paper.objects.filter(hf_upvotes__gt=0, listed_on__lte=now.date())
    last_hf = hf.aggregate(m=Max("listed_on"))["m"]
    if last_hf:
        ids |= set(hf.filter(listed_on__gt=last_hf - WINDOW).values_list("pk", flat=True))
    return ids


def now_trending(
    limit: int = 50, *, now: datetime | None = None, minimum: int = MINIMUM
) -> tuple[list[Ranked], datetime | None]:
    """The trending papers, and the time of the latest vote they are ranked by.

    The list never runs short while the catalogue has papers: below `minimum`, it is topped up
    with the most recently listed papers, which nobody has voted on.
    """
    now = now or timezone.now()
    ranked = rank(candidates(now), now, limit)
    wanted = min(limit, max(minimum, len(ranked)))
    if len(ranked) < wanted:
        newest = _unvoted_newest(now, {r.paper.pk for r in ranked})[: wanted - len(ranked)]
        ranked += [Ranked(paper, -math.inf, paper.upvotes) for paper in newest]
    return ranked, latest_activity()


def now_trending_window(start: int, stop: int, *, now: datetime | None = None) -> tuple[list[Paper], bool]:
    """Places start to stop (exclusive) of the trending list as deep as the catalogue goes: what
    trends now, then the most recently listed papers, as now_trending tops it up; and whether more
    follow. Only the window's papers are read, so a deep page costs what the first one does."""
    now = now or timezone.now()
    ranked = [r.paper for r in rank(candidates(now), now, stop + 1)]
    if len(ranked) > stop:
        return ranked[start:stop], True
    skip, wanted = max(start - len(ranked), 0), stop - max(start, len(ranked))
    newest = list(_unvoted_newest(now, {paper.pk for paper in ranked})[skip : skip + wanted + 1])
    return ranked[start:stop] + newest[:wanted], len(newest) > wanted


def _unvoted_newest(now: datetime, ranked: set[int]):
    """The listed papers the ranking left out, most recently listed first."""
    return (
        annotated(Paper.objects.exclude(listed_on=None).filter(listed_on__lte=now.date()))
        .exclude(pk__in=ranked)
        .order_by("-listed_on", F("published").desc(nulls_last=True), "key")
    )


class TrendingOrder:
    """Papers in trending order for pagination: those with votes ranked by their decayed score,
    then the others, newest first."""

    def __init__(self, papers, at: datetime) -> None:
        voted = set(papers.filter(Q(hf_upvotes__gt=0) | Q(stats__votes__gt=0)).values_list("pk", flat=True))
        self.ranked = [r.paper for r in rank(voted, at, len(voted))]
        # The papers the ranking left out, too: votes that count only later (a paper listed
        # after today) score nothing yet, and such a paper belongs with the unvoted ones.
        ranked_ids = [paper.pk for paper in self.ranked]
        self.rest = papers.exclude(pk__in=ranked_ids).order_by(F("published").desc(nulls_last=True), "key")
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = len(self.ranked) + self.rest.count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[Paper]:
        start, stop = window.start or 0, window.stop if window.stop is not None else self.count()
        head = self.ranked[start:stop]
        if len(head) == stop - start:
            return head
        skip = max(0, start - len(self.ranked))
        return head + list(self.rest[skip : skip + (stop - start - len(head))])


def top(start: date, end: date, limit: int = 10, *, now: datetime | None = None) -> list[Ranked]:
    """The period's top trending papers: listed, or voted on, between start and end (inclusive).

    Votes count as of the end of the period (or now, if that is earlier), decayed as above.
    """
    now = now or timezone.now()
    at = min(now, datetime.combine(end + timedelta(days=1), time(0), tzinfo=UTC))
    begin = datetime.combine(start, time(0), tzinfo=UTC)
    ids = set(
        Paper.objects.filter(listed_on__gte=start, listed_on__lte=end)
        .filter(Q(hf_upvotes__gt=0) | Q(votes__isnull=False))
        .values_list("pk", flat=True)
    )
    ids |= set(
        Vote.objects.filter(created_at__gte=begin, created_at__lt=at).values_list("paper_id", flat=True)
    )
    return rank(ids, at, limit)
