"""Listing pages: today, a day, an ISO week, a month, trending, a category and an author."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from paperroute.catalog import models as catalog_models
from paperroute.catalog.models import Author, Category
from paperroute.catalog.taxonomy import NAMES
from paperroute.catalog.textclean import author_key, display_name
from paperroute.community import authors, listings, prefs
from paperroute.community import trending as trending_ranking
from paperroute.community.errors import InvalidInput, RateLimited
from paperroute.library import follows, foryou
from paperroute.search import themesets
from paperroute.web import periods
from paperroute.web.views.common import (
    cacheable,
    count_for_reader,
    drop_for_reader,
    error_page,
    for_reader,
    local_target,
    mark_voted,
    paginate,
    read_toggle,
)

SORT_LABELS = {"votes": "Most upvoted", "trending": "Trending", "newest": "Newest"}
VIEWS = (*listings.VIEWS, "foryou")  # "foryou": the signed-in reader's own ranking
FOR_YOU_SHOWN = 100  # a reader's best of a period; the rest are a click away in "All"
VIEW_LABELS = {"community": "Community picks", "all": "All new on arXiv", "foryou": "For you"}


@dataclass
class Choice:
    """What a listing's reader asked for in its query string."""

    view: str = ""  # "community", "all", "foryou", or "" for the community's picks if any
    categories: list[str] = field(default_factory=list)
    # Where the categories came from: the address ("url"), the reader's saved choice ("saved"),
    # the site's own categories ("site", for everything new on arXiv), or nowhere ("").
    source: str = ""
    # What applies when the address names no categories: the saved or the site's ones.
    default_categories: list[str] = field(default_factory=list)
    sort: str = "votes"
    theme: str = ""

    @classmethod
    def of(cls, request) -> Choice:
        get = request.GET
        choice = cls(
            view=get.get("view", "") if get.get("view") in VIEWS else "",
            sort=get.get("sort") if get.get("sort") in listings.SORTS else "votes",
            theme=get.get("theme", "")[:100],
        )
        saved = prefs.categories_of(request.user)
        if saved:
            choice.default_categories = saved
        if "cat" in get:
            choice.categories, choice.source = prefs.clean_categories(get.getlist("cat")), "url"
        elif saved:
            choice.categories, choice.source = saved, "saved"
        return choice

    def query(self, **changes) -> str:
        """This choice as a query string, with some parts changed."""
        values = {
            "view": self.view,
            "cat": self.categories,
            "sort": self.sort,
            "theme": self.theme,
            **changes,
        }
        pairs = [("view", values["view"])] if values["view"] else []
        cats = values["cat"]
        # Categories are in the address only when they differ from what applies without them;
        # an explicit empty cat= means "every category", overriding a saved or site choice.
        if cats != self.default_categories:
            pairs += [("cat", c) for c in cats] if cats else [("cat", "")]
        pairs += [("sort", values["sort"])] if values["sort"] != "votes" else []
        pairs += [("theme", values["theme"])] if values["theme"] else []
        return "?" + urlencode(pairs) if pairs else "?"


def home(request):
    """Today's papers; on a day without any, the most recent day that has some."""
    today = timezone.localdate()
    shown = listings.current_day(today)
    # A few days without papers (a weekend, a holiday) is "yet"; more, and the site is idle.
    context = {
        "empty_today": shown != today,
        "today": today,
        "idle_since": shown if (today - shown).days > 4 else None,
    }
    return _listing(request, periods.day(shown), context, home=True)


def day(request, value: str):
    return _listing(request, _parse(periods.parse_day, value))


def week(request, value: str):
    return _listing(request, _parse(periods.parse_week, value))


def month(request, value: str):
    return _listing(request, _parse(periods.parse_month, value))


def trending(request):
    ranked, latest = trending_ranking.now_trending(limit=50)
    papers = drop_for_reader(request, mark_voted(request, [r.paper for r in ranked]))
    stale = latest is not None and timezone.now() - latest > trending_ranking.WINDOW
    newest = listings.current_day(timezone.localdate())
    return cacheable(
        render(
            request,
            "listing.html",
            {
                "tab": "trending",
                "papers": papers,
                "heading": "",
                "title": "Trending papers",
                "h1": "Trending papers",
                "tabs": _tabs(periods.day(newest)),
                "trending_at": latest if stale else None,
                "feeds": _feeds("trending"),
            },
        )
    )


def category(request, code: str):
    # A category, or an archive (cs) that some category belongs to.
    if not Category.objects.filter(catalog_models.category_codes([code])).exists():
        raise Http404(f"no papers in the category {code!r}")
    following = request.user.is_authenticated and code in follows.of(request.user).categories
    return _filtered(
        request,
        f"Papers in {code}",
        listings.by_category(code),
        _feeds("category", code=code),
        # What the code means, for a reader who does not know arXiv's codes (a tooltip elsewhere).
        {
            "follow": {"kind": "category", "value": code, "following": following},
            "subtitle": NAMES.get(code, ""),
        },
        counted=listings.category_links(code),
    )


def author(request, name: str):
    if not Author.objects.filter(key=author_key(name)).exists():
        raise Http404(f"no papers by {name!r}")
    shown = display_name(name)
    follow = {"kind": "author", "value": shown, "following": follows.follows_author(request.user, name)}
    return _filtered(
        request,
        f"Papers by {shown}",
        listings.by_author(name),
        _feeds("author", name=shown),
        {"follow": follow, "verified_handles": authors.verified_handles(name)},
    )


@login_required
@require_POST
def remember_categories(request):
    """Remember (or, with none, forget) the categories listings open with for this reader."""
    back = local_target(request, request.POST.get("next", "")) or reverse("home")
    try:
        chosen = prefs.remember_categories(request.user, request.POST.getlist("categories"))
    except RateLimited as exc:
        return error_page(request, 429, "Slow down", str(exc), Retry_After=str(exc.retry_after))
    except InvalidInput as exc:
        return error_page(request, 400, "Not saved", str(exc).capitalize() + ".")
    if chosen:
        messages.success(request, f"Listings now open with {', '.join(chosen)}.")
    else:
        messages.success(request, "Listings now open with every category.")
    return redirect(back.split("?", 1)[0])


def _filtered(request, title: str, papers, feeds, extra: dict | None = None, counted=None):
    """A paginated listing of one category's or one author's papers (`counted`: the links of
    the category's papers, faster to count)."""
    count = None if counted is None else count_for_reader(request, counted)
    page = paginate(request, for_reader(request, papers), count=count)
    return cacheable(
        render(
            request,
            "listing.html",
            {
                "tab": "",
                "heading": "",
                "title": title if page.number == 1 else f"{title} · page {page.number}",
                "h1": title,
                "page": page,
                "papers": mark_voted(request, page.object_list),
                "feeds": feeds,
                **(extra or {}),
                "read_toggle": read_toggle(request),
            },
        )
    )


def _parse(parser, value: str) -> periods.Period:
    try:
        return parser(value)
    except periods.BadPeriod as exc:
        raise Http404(str(exc)) from None


def _listing(request, period: periods.Period, extra: dict | None = None, home: bool = False):
    choice = Choice.of(request)
    everything = listings.between(period.start, period.end)
    picked = listings.community(everything)
    counts = {"community": picked.count(), "all": everything.count()}
    # The community's picks, as on Hugging Face's page; a period nobody picked from shows all.
    view = choice.view or ("community" if counts["community"] else "all")
    papers = picked if view == "community" else everything
    site = list(settings.CONFIG.arxiv_categories)
    # Everything new on arXiv is hundreds of papers in every field: it opens with the categories
    # this site follows (PAPERROUTE_ARXIV_CATEGORIES), one click from all of them. Unless none of
    # the period's papers is in them, as on a day known only from Hugging Face's feed, whose
    # papers carry no categories until arXiv's listing comes: then it opens with all of them.
    # That is also what an address without cat= shows, so a reader's own choice of categories
    # (cat=, for all of them) stays in the links to other sorts and pages.
    if view == "all" and not choice.default_categories and listings.in_categories(papers, site).exists():
        choice.default_categories = site
        if not choice.source:
            choice.categories, choice.source = site, "site"
    facets = listings.category_counts(papers, keep=tuple(choice.categories))
    papers = listings.in_categories(papers, choice.categories)
    themes, theme = _themes(period, papers, choice) if view != "foryou" else ([], None)
    if theme:
        papers = papers.filter(pk__in=theme["members"])
    papers = for_reader(request, papers)
    ordered: list | trending_ranking.TrendingOrder | QuerySet
    if view == "foryou":
        ordered = _for_you(request, papers)
    elif choice.sort == "trending":
        # Trending is what readers vote on now, also among an older period's papers.
        ordered = trending_ranking.TrendingOrder(papers, timezone.now())
    else:
        ordered = listings.sorted_by(papers, choice.sort)
    page = paginate(request, ordered)
    around = _days_around(period)
    previous, following = _neighbours(period, around)
    context = {
        "tab": {"day": "daily", "week": "weekly", "month": "monthly"}[period.kind],
        "tabs": _tabs(period, around),
        "period": period,
        "heading": period.label,
        "title": _title("Daily papers" if home else period.label, view, theme, page.number),
        "h1": {"day": "Daily Papers", "week": "Weekly Papers", "month": "Monthly Papers"}[period.kind],
        "page": page,
        "papers": mark_voted(request, page.object_list),
        "previous": previous,
        "next": following,
        "previous_url": _url(previous) if previous else "",
        "next_url": _url(following) if following else "",
        "feeds": (
            _feeds("theme", period=period.slug, theme=theme["slug"], label=theme["label"])
            if theme
            else _feeds("daily")
            if period.kind == "day"
            else []
        ),
        "themes": themes,
        "theme": theme,
        "clear_theme": choice.query(theme=""),
        "home": home,
        "choice": choice,
        "view": view,
        "counts": counts,
        "views": [
            (key, label, counts.get(key), choice.query(view=key, theme=""), key == view)
            for key, label in VIEW_LABELS.items()
            if key != "foryou" or request.user.is_authenticated
        ],
        "sorts": [
            (key, label, choice.query(sort=key), key == choice.sort) for key, label in SORT_LABELS.items()
        ],
        "facets": [
            (code, count, code in choice.categories, choice.query(cat=_toggled(choice.categories, code)))
            for code, count in facets
        ],
        "clear_categories": choice.query(cat=[]) if choice.categories else "",
        "page_query": choice.query()[1:],
        "remember_url": reverse("remember_categories"),
        "saved_categories": prefs.categories_of(request.user),
        "read_toggle": read_toggle(request),
    }
    if not counts["all"]:  # an empty period links the nearest ones with papers, as Previous/Next
        context["nearest"] = [
            (neighbour.label, _url(neighbour)) if neighbour else None for neighbour in (previous, following)
        ]
    context.update(extra or {})
    return cacheable(render(request, "listing.html", context))


def _for_you(request, papers) -> list:
    """The reader's own ranking of the papers, best first, each with why it was picked."""
    if not request.user.is_authenticated:
        return []
    picks = foryou.rank(
        request.user, list(papers.values_list("pk", flat=True)[: foryou.PERIOD_POOL]), limit=FOR_YOU_SHOWN
    )
    found = {paper.pk: paper for paper in papers.filter(pk__in=[p.paper_id for p in picks])}
    ranked = []
    for pick in picks:
        paper = found.get(pick.paper_id)
        if paper is not None:
            paper.why = pick.reason
            ranked.append(paper)
    return ranked


def _themes(period: periods.Period, papers, choice: Choice) -> tuple[list[dict], dict | None]:
    """The period's themes as chips, counted within the papers shown, and the one chosen."""
    stored = themesets.for_period(period.kind, period.start)
    if not stored:
        return [], None
    shown = set(papers.values_list("pk", flat=True))
    chips = []
    for theme in stored:
        count = len(shown.intersection(theme["members"]))
        if count or theme["slug"] == choice.theme:
            chips.append(
                {
                    **theme,
                    "count": count,
                    "current": theme["slug"] == choice.theme,
                    "href": choice.query(theme="" if theme["slug"] == choice.theme else theme["slug"]),
                }
            )
    chosen = next((theme for theme in stored if theme["slug"] == choice.theme), None)
    return chips, chosen


def _toggled(codes: list[str], code: str) -> list[str]:
    return [c for c in codes if c != code] if code in codes else [*codes, code]


KINDS = {"day": periods.day, "week": periods.week_of, "month": periods.month_of}


def _days_around(period: periods.Period) -> tuple[date | None, date | None]:
    """The nearest days with papers before the period and after it."""
    return (
        listings.period_with_papers(period.start, period.end, -1),
        listings.period_with_papers(period.start, period.end, +1),
    )


def _neighbours(period: periods.Period, around: tuple[date | None, date | None]):
    """The nearest periods of the same kind, before and after, that have papers."""
    before, after = around
    same_kind = KINDS[period.kind]
    return (same_kind(before) if before else None), (same_kind(after) if after else None)


def _url(period: periods.Period) -> str:
    return reverse({"day": "day", "week": "week", "month": "month"}[period.kind], args=[period.slug])


def _tabs(
    period: periods.Period, around: tuple[date | None, date | None] | None = None
) -> list[tuple[str, str, str]]:
    """The Daily · Weekly · Monthly · Trending tabs, each for the period being shown, anchored
    on its latest day with papers so that no tab leads to an empty page. From a period without
    papers each tab goes to the nearest period of its kind that has some (`around`: the days
    with papers either side, when the caller has them)."""
    latest = listings.latest_day(on_or_before=period.end)
    if latest and latest >= period.start:
        targets = {kind: of(latest) for kind, of in KINDS.items()}
    else:
        before, after = around or _days_around(period)
        targets = {kind: _nearest(period, of, before, after) for kind, of in KINDS.items()}
        targets[period.kind] = period  # the tab of the page being shown
    return [
        ("daily", "Daily", _url(targets["day"])),
        ("weekly", "Weekly", _url(targets["week"])),
        ("monthly", "Monthly", _url(targets["month"])),
        ("trending", "Trending", reverse("trending")),
    ]


def _nearest(period: periods.Period, of, before: date | None, after: date | None) -> periods.Period:
    """The period (`of` a day) with papers nearest to an empty one: first one that overlaps it
    (an empty day's week that has papers on another day), then the closer, then the earlier."""
    candidates = []
    if before:
        candidates.append((of(before).end < period.start, (period.start - before).days, of(before)))
    if after:
        candidates.append((of(after).start > period.end, (after - period.end).days, of(after)))
    if not candidates:
        return of(period.start)
    return min(candidates, key=lambda candidate: candidate[:2])[2]


def _feeds(kind: str, **params) -> list[tuple[str, str, str]]:
    """(title, url, MIME type) of the RSS and Atom feeds that match a page, for autodiscovery."""
    names = {
        "daily": "Daily papers",
        "trending": "Trending papers",
        "category": f"Papers in {params.get('code', '')}",
        "author": f"Papers by {params.get('name', '')}",
        "theme": f"Theme: {params.pop('label', '')}",
    }
    query = ("?" + urlencode(params)) if params else ""
    return [
        (f"{names[kind]} (RSS)", reverse("feed", args=[kind, "xml"]) + query, "application/rss+xml"),
        (f"{names[kind]} (Atom)", reverse("feed", args=[kind, "atom"]) + query, "application/atom+xml"),
    ]


def _title(base: str, view: str, theme: dict | None, number: int) -> str:
    """A listing's page title: which papers and which page, so that the tabs, the history and a
    screen reader's page list tell "For you" from the community's picks, and page 2 from page 1."""
    parts = [base]
    if view != "community":
        parts.append(VIEW_LABELS[view])
    if theme:
        parts.append(theme["label"])
    if number > 1:
        parts.append(f"page {number}")
    return " · ".join(parts)
