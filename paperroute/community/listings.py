"""Papers of a day, week or month, ordered as readers expect: most upvoted, then newest."""

from __future__ import annotations

from datetime import date

from django.db.models import F, IntegerField, QuerySet, Value
from django.db.models.functions import Coalesce

from paperroute.catalog.models import Paper


def annotated(papers: QuerySet) -> QuerySet:
    """Papers with `upvotes` (community + Hugging Face) and `num_comments` (visible comments)."""
    return (papers.select_related("stats", "submission__user")
            .prefetch_related("authorships__author", "categories")
            .annotate(upvotes=Coalesce("hf_upvotes", Value(0)) + Coalesce("stats__votes", Value(0),
                                                                           output_field=IntegerField()),
                      num_comments=Coalesce("stats__comments", Value(0))))


def between(start: date, end: date) -> QuerySet:
    """Papers listed from start to end inclusive, most upvoted first, then the newest."""
    return annotated(Paper.objects.filter(listed_on__gte=start, listed_on__lte=end)).order_by(
        F("upvotes").desc(), F("published").desc(nulls_last=True), "key")


def latest_day(on_or_before: date | None = None) -> date | None:
    """The most recent day that has papers (on or before a day, when given)."""
    papers = Paper.objects.exclude(listed_on=None)
    if on_or_before:
        papers = papers.filter(listed_on__lte=on_or_before)
    return papers.order_by("-listed_on").values_list("listed_on", flat=True).first()


def neighbours(day: date) -> tuple[date | None, date | None]:
    """The nearest days before and after `day` that have papers."""
    before = (Paper.objects.filter(listed_on__lt=day).order_by("-listed_on")
              .values_list("listed_on", flat=True).first())
    after = (Paper.objects.filter(listed_on__gt=day).order_by("listed_on")
             .values_list("listed_on", flat=True).first())
    return before, after


def by_category(code: str) -> QuerySet:
    return annotated(Paper.objects.filter(categories__code=code)).order_by(
        F("listed_on").desc(nulls_last=True), F("upvotes").desc(), "key")


def by_author(name: str) -> QuerySet:
    return annotated(Paper.objects.filter(authors__name=name)).order_by(
        F("published").desc(nulls_last=True), "key")
