"""Listing pages: today, a day, an ISO week, a month, trending, a category and an author."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from paperroute.catalog.models import Author, Category
from paperroute.community import listings
from paperroute.community import trending as trending_ranking
from paperroute.web import periods
from paperroute.web.views.common import cacheable, mark_voted, paginate


def home(request):
    """Today's papers; on a day without any, the most recent day that has some."""
    today = timezone.localdate()
    shown = today
    if not listings.between(today, today).exists():
        latest = listings.latest_day()
        shown = latest or today
    context = {"empty_today": shown != today, "today": today}
    return _listing(request, periods.day(shown), context, home=True)


def day(request, value: str):
    return _listing(request, _parse(periods.parse_day, value))


def week(request, value: str):
    return _listing(request, _parse(periods.parse_week, value))


def month(request, value: str):
    return _listing(request, _parse(periods.parse_month, value))


def trending(request):
    ranked, at = trending_ranking.now_trending(limit=50)
    papers = mark_voted(request, [r.paper for r in ranked])
    stale = (timezone.now() - at).days >= 1
    return cacheable(render(request, "listing.html", {
        "tab": "trending", "papers": papers, "heading": "", "title": "Trending papers",
        "h1": "Trending papers", "tabs": _tabs(periods.day(timezone.localdate())),
        "trending_at": at if stale else None,
        "feeds": _feeds("trending"),
    }))


def category(request, code: str):
    if not Category.objects.filter(code=code).exists():
        raise Http404(f"no papers in the category {code!r}")
    return _filtered(request, f"Papers in {code}", listings.by_category(code),
                     _feeds("category", code=code))


def author(request, name: str):
    if not Author.objects.filter(name=name).exists():
        raise Http404(f"no papers by {name!r}")
    return _filtered(request, f"Papers by {name}", listings.by_author(name),
                     _feeds("author", name=name))


def _filtered(request, title: str, papers, feeds):
    """A paginated listing of one category's or one author's papers."""
    page = paginate(request, papers)
    return cacheable(render(request, "listing.html", {
        "tab": "", "heading": "", "title": title, "h1": title, "page": page,
        "papers": mark_voted(request, page.object_list), "feeds": feeds,
    }))


def _parse(parser, value: str) -> periods.Period:
    try:
        return parser(value)
    except periods.BadPeriod as exc:
        raise Http404(str(exc)) from None


def _listing(request, period: periods.Period, extra: dict | None = None, home: bool = False):
    page = paginate(request, listings.between(period.start, period.end))
    if period.kind == "day":
        # Days jump to the nearest day that has papers: weekends and quiet days are skipped.
        before, after = listings.neighbours(period.start)
        previous = periods.day(before) if before else None
        following = periods.day(after) if after else None
    else:
        previous, following = period.previous(), period.next()
        if following and following.start > timezone.localdate():
            following = None
    context = {
        "tab": {"day": "daily", "week": "weekly", "month": "monthly"}[period.kind],
        "tabs": _tabs(period),
        "period": period,
        "heading": period.label,
        "title": "Daily papers" if home else period.label,
        "h1": "Daily Papers",
        "page": page,
        "papers": mark_voted(request, page.object_list),
        "previous": previous,
        "next": following,
        "previous_url": _url(previous) if previous else "",
        "next_url": _url(following) if following else "",
        "feeds": _feeds("daily") if period.kind == "day" else [],
        "home": home,
    }
    if period.kind == "day" and not page.object_list:
        context["nearest"] = listings.neighbours(period.start)
    context.update(extra or {})
    return cacheable(render(request, "listing.html", context))


def _url(period: periods.Period) -> str:
    return reverse({"day": "day", "week": "week", "month": "month"}[period.kind], args=[period.slug])


def _tabs(period: periods.Period) -> list[tuple[str, str, str]]:
    """The Daily · Weekly · Monthly · Trending tabs, each for the period being shown."""
    return [("daily", "Daily", _url(periods.day(period.start))),
            ("weekly", "Weekly", _url(periods.week_of(period.start))),
            ("monthly", "Monthly", _url(periods.month_of(period.start))),
            ("trending", "Trending", reverse("trending"))]


def _feeds(kind: str, **params) -> list[tuple[str, str, str]]:
    """(title, url, MIME type) of the RSS and Atom feeds that match a page, for autodiscovery."""
    from urllib.parse import urlencode

    names = {"daily": "Daily papers", "trending": "Trending papers",
             "category": f"Papers in {params.get('code', '')}",
             "author": f"Papers by {params.get('name', '')}"}
    query = ("?" + urlencode(params)) if params else ""
    return [
        (f"{names[kind]} (RSS)", reverse("feed", args=[kind, "xml"]) + query, "application/rss+xml"),
        (f"{names[kind]} (Atom)", reverse("feed", args=[kind, "atom"]) + query, "application/atom+xml"),
    ]
