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
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.db.models import Count, Max, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from paperroute.catalog.models import Paper
from paperroute.community.listings import annotated
from paperroute.community.models import Vote

WINDOW = timedelta(days=30)  # older votes weigh at most 2^-30 of a fresh one at H = 24 h


@dataclass
class Ranked:
    paper: Paper
    score: float  # log2 of the decayed vote sum at the reference time
    upvotes: int  # all votes, undecayed: what the page shows


def half_life_hours() -> float:
    return float(settings.CONFIG["TRENDING_HALF_LIFE"])


def decayed_log2(votes: list[tuple[datetime, int]], at: datetime, half_life: float) -> float:
    """log2 of Σ count·2^(-age/H) over (time, count) pairs; -inf when there are none."""
    exponents = [math.log2(n) - max((at - when).total_seconds(), 0) / 3600 / half_life
                 for when, n in votes if n > 0]
    if not exponents:
        return -math.inf
    top = max(exponents)
    return top + math.log2(sum(2 ** (e - top) for e in exponents))


def hf_moment(listed: date | None, published: datetime | None) -> datetime | None:
    """When the Hugging Face upvotes of a paper count as cast."""
    day = listed or (published.date() if published else None)
    return datetime.combine(day, time(12), tzinfo=dt_timezone.utc) if day else None


def score(candidate_ids: set[int], at: datetime) -> dict[int, float]:
    """The trending score (log2) of each candidate paper at the reference time."""
    events: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for pk, upvotes, listed, published in Paper.objects.filter(
            pk__in=candidate_ids, hf_upvotes__gt=0).values_list(
            "pk", "hf_upvotes", "listed_on", "published"):
        moment = hf_moment(listed, published)
        # Until noon, a paper listed today counts its upvotes as cast now: a moment still to
        # come would leave today's papers out of trending every morning.
        if moment and moment.date() <= at.date():
            events[pk].append((min(moment, at), upvotes))
    # Votes grouped by hour: exact enough for a ranking, and one row per paper-hour to read.
    for pk, hour, n in (Vote.objects.filter(paper_id__in=candidate_ids, created_at__lte=at)
                        .annotate(hour=TruncHour("created_at")).values("paper_id", "hour")
                        .annotate(n=Count("id")).values_list("paper_id", "hour", "n")):
        events[pk].append((hour + timedelta(minutes=30), n))
    half_life = half_life_hours()
    return {pk: decayed_log2(events.get(pk, []), at, half_life) for pk in candidate_ids}


def rank(candidate_ids: set[int], at: datetime, limit: int) -> list[Ranked]:
    """The candidates with at least one vote, best first."""
    scores = {pk: s for pk, s in score(candidate_ids, at).items() if s > -math.inf}
    best = sorted(scores, key=lambda pk: -scores[pk])[:limit]
    papers = _with_counts(best)
    ranked = [Ranked(papers[pk], scores[pk], papers[pk].upvotes) for pk in best if pk in papers]
    # Ties (same votes at the same moment) go to the more recent paper, then the key.
    ranked.sort(key=lambda r: (-r.score, -(r.paper.published.timestamp() if r.paper.published else 0),
                               r.paper.key))
    return ranked


def latest_activity() -> datetime | None:
    """The time of the most recent vote, community or Hugging Face."""
    last_vote = Vote.objects.aggregate(m=Max("created_at"))["m"]
    last_hf = Paper.objects.filter(hf_upvotes__gt=0).aggregate(m=Max("listed_on"))["m"]
    moments = [m for m in (last_vote, hf_moment(last_hf, None)) if m]
    return max(moments) if moments else None


def now_trending(limit: int = 50, *, now: datetime | None = None) -> tuple[list[Ranked], datetime]:
    """The trending papers and the moment they are ranked at.

    When nobody voted in the last 30 days, the ranking is taken at the last vote instead, so a
    quiet site still shows what was trending when it was last active.
    """
    now = now or timezone.now()
    at = now
    latest = latest_activity()
    if latest is not None and latest < now - WINDOW:
        at = latest
    since = at - WINDOW
    ids = set(Vote.objects.filter(created_at__gt=since, created_at__lte=at)
              .values_list("paper_id", flat=True))
    ids |= set(Paper.objects.filter(hf_upvotes__gt=0, listed_on__gte=since.date(),
                                    listed_on__lte=at.date()).values_list("pk", flat=True))
    return rank(ids, at, limit), at


def top(start: date, end: date, limit: int = 10, *, now: datetime | None = None) -> list[Ranked]:
    """The period's top trending papers: listed, or voted on, between start and end (inclusive).

    Votes count as of the end of the period (or now, if that is earlier), decayed as above.
    """
    now = now or timezone.now()
    at = min(now, datetime.combine(end + timedelta(days=1), time(0), tzinfo=dt_timezone.utc))
    begin = datetime.combine(start, time(0), tzinfo=dt_timezone.utc)
    ids = set(Paper.objects.filter(listed_on__gte=start, listed_on__lte=end).filter(
        Q(hf_upvotes__gt=0) | Q(votes__isnull=False)).values_list("pk", flat=True))
    ids |= set(Vote.objects.filter(created_at__gte=begin, created_at__lt=at)
               .values_list("paper_id", flat=True))
    return rank(ids, at, limit)


def _with_counts(ids: list[int]) -> dict[int, Paper]:
    return {p.pk: p for p in annotated(Paper.objects.filter(pk__in=ids))}
