"""RSS 2.0 and Atom feeds (feedgen): daily, trending, a search, a category, an author."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.urls import reverse
from django.utils import timezone
from feedgen.feed import FeedGenerator

from paperroute.catalog import latex
from paperroute.catalog.models import Author, Category, Version
from paperroute.catalog.textclean import author_key, display_name, teaser_text
from paperroute.community import listings, trending
from paperroute.search import themesets
from paperroute.web import periods, searching
from paperroute.web.api_shapes import day_only, known_date
from paperroute.web.context import absolute
from paperroute.web.views.common import cacheable

LIMIT = 50
FORMATS = {
    "xml": ("rss", "application/rss+xml; charset=utf-8"),
    "atom": ("atom", "application/atom+xml; charset=utf-8"),
}
# XML 1.0 forbids most control characters; lxml refuses them, so they are dropped first.
_INVALID_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: str) -> str:
    return _INVALID_XML.sub("", text or "")


def feed(request, kind: str, fmt: str):
    if fmt not in FORMATS:
        raise Http404("feeds end in .xml (RSS 2.0) or .atom (Atom)")
    builders = {
        "daily": _daily,
        "trending": _trending,
        "search": _search,
        "category": _category,
        "author": _author,
        "theme": _theme,
    }
    if kind not in builders:
        raise Http404(f"there is no {kind!r} feed; try daily, trending, search, category, author or theme")
    try:
        title, page_url, papers = builders[kind](request.GET)
    except searching.BadSearch as exc:
        return HttpResponseBadRequest(f"{exc}\n", content_type="text/plain; charset=utf-8")
    query = ("?" + urlencode(request.GET)) if request.GET else ""
    body = render(title, absolute(page_url), absolute(request.path + query), papers, FORMATS[fmt][0])
    return cacheable(HttpResponse(body, content_type=FORMATS[fmt][1]))


def render(title: str, page_url: str, self_url: str, papers, fmt: str) -> bytes:
    """The feed document for these papers."""
    fg = FeedGenerator()
    fg.id(self_url)
    fg.title(clean(f"{title} · paperroute"))
    # RSS's channel <link> is the last link given (feedgen): it must be the page, not the feed.
    fg.link(href=self_url, rel="self")
    fg.link(href=page_url, rel="alternate")
    fg.description(clean(f"{title}, from paperroute"))
    fg.language("en")
    newest = None
    papers = list(papers)
    first_versions = dict(
        Version.objects.filter(paper__in=papers, number=1).exclude(date=None).values_list("paper_id", "date")
    )
    for paper in papers:
        url = absolute(reverse("paper", args=[paper.key]))
        entry = fg.add_entry(order="append")
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(_entry_title(paper))
        entry.link(href=url)
        authors = paper.author_names
        # Feed readers show plain text: display equations and citations give way to "…".
        summary = clean(latex.to_plain(teaser_text(paper.abstract)))
        if getattr(paper, "reason", ""):  # a personal feed says why each paper is in it
            summary = clean(f"[{paper.reason[:1].upper()}{paper.reason[1:]}] ") + summary
        if fmt == "rss":
            # RSS readers show <description> as HTML, so the abstract goes in as escaped text:
            # markup in it is shown, never run.
            parts = [clean(", ".join(authors)), summary]
            entry.description("<br><br>".join(html.escape(part) for part in parts if part))
        else:
            entry.summary(summary)
            for name in authors[:20]:
                entry.author({"name": clean(name)})
        for category in paper.ordered_categories:
            entry.category(term=clean(category.code))
        # Most papers come from arXiv's daily listing, which gives no time: their date is the
        # day arXiv announced them. The time the row was last written moved with every
        # harvest, and a reader showed a two-year-old paper as new; so did the time the site
        # stored a paper that the listing showed only as a replacement: such a paper has the
        # month its arXiv id names. One with no date at all has none in RSS and Atom's
        # <published>; Atom's required <updated> is when the site first had it.
        when, _ = known_date(paper, first_versions.get(paper.pk))
        when = when and _as_read(when)
        changed = paper.updated or when
        if when:
            entry.published(when)
        entry.updated(changed or paper.created_at)
        if changed:
            newest = max(newest, changed) if newest else changed
    fg.updated(newest or timezone.now())
    return fg.rss_str(pretty=True) if fmt == "rss" else fg.atom_str(pretty=True)


def _entry_title(paper) -> str:
    """The title as plain text; as stored when that is nothing (a title of TeX that is no text,
    such as `\\label{…}`), since Atom and RSS refuse an entry without one; else the paper's id."""
    return clean(latex.to_plain(paper.title)).strip() or clean(paper.title).strip() or paper.key


def _as_read(when: datetime) -> datetime:
    """A day given without a time (00:00:00 UTC: an announcement or listing day, Hugging Face's
    publishedAt) at noon UTC, or now if that is still to come. A reader shows an entry's time in
    its own zone, and midnight UTC was the evening before anywhere west of UTC; noon is the same
    day from UTC-11 to UTC+11. A real time (arXiv's submission) stays as it is."""
    if not day_only(when):
        return when
    return min(when.astimezone(UTC).replace(hour=12), timezone.now())


def _daily(params):
    day = listings.current_day(timezone.localdate())
    return (
        f"Daily papers, {day:%B} {day.day}, {day.year}",
        reverse("day", args=[day.isoformat()]),
        list(listings.between(day, day)[:LIMIT]),
    )


def _trending(params):
    ranked, _ = trending.now_trending(limit=LIMIT)
    return "Trending papers", reverse("trending"), [r.paper for r in ranked]


def _search(params):
    opts = searching.options(params)
    if not opts.q:
        raise searching.BadSearch("a search feed needs a query: /feeds/search.xml?q=WORDS")
    found = searching.run(opts, limit=LIMIT, snippets=False)
    return (f"Search: {opts.label}", reverse("search") + "?" + urlencode(opts.params()), found.papers)


def _category(params):
    code = params.get("code", "")
    if not Category.objects.filter(code=code).exists():
        raise Http404(f"no papers in the category {code!r}")
    return f"Papers in {code}", reverse("category", args=[code]), list(listings.by_category(code)[:LIMIT])


def _author(params):
    name = display_name(params.get("name", ""))
    if not Author.objects.filter(key=author_key(name)).exists():
        raise Http404(f"no papers by {name!r}")
    return f"Papers by {name}", reverse("author", args=[name]), list(listings.by_author(name)[:LIMIT])


def _theme(params):
    value = params.get("period", "")
    kind = "day" if len(value) == 10 else "week" if "-W" in value else "month"
    parser = {"day": periods.parse_day, "week": periods.parse_week, "month": periods.parse_month}[kind]
    try:
        period = parser(value)
    except periods.BadPeriod:
        raise Http404("a theme feed needs a period: ?period=2024-11-28 (or 2024-W48, 2024-11)") from None
    theme = next(
        (t for t in themesets.for_period(kind, period.start) if t["slug"] == params.get("theme", "")), None
    )
    if theme is None:
        raise Http404(f"the {kind} {period.slug} has no theme {params.get('theme', '')!r}")
    papers = {p.pk: p for p in listings.between(period.start, period.end).filter(pk__in=theme["members"])}
    page = reverse(kind, args=[period.slug]) + "?" + urlencode({"view": "all", "theme": theme["slug"]})
    return (
        f"{theme['label']} · {period.label}",
        page,
        [papers[pk] for pk in theme["members"] if pk in papers][:LIMIT],
    )


def collection_feed(request, collection, papers) -> HttpResponse:
    """A public collection's papers, in its order, as Atom."""
    body = render(
        f"Collection: {collection.name}",
        absolute(reverse("collection", args=[collection.pk])),
        absolute(request.path),
        papers[:500],
        "atom",
    )
    return HttpResponse(body, content_type=FORMATS["atom"][1])


def private_feed(request, secret: str):
    """A reader's own feed: new papers by the authors, in the categories and on the topics they
    follow, at a secret address (rotated on the Following page). Never cached: it is one
    reader's."""
    from paperroute.library import followed, follows

    user = follows.user_for_feed(secret)
    if user is None:
        raise Http404("no feed has this address; it may have been replaced by a new one")
    papers = []
    for pick in followed.new_papers(user, limit=LIMIT):
        pick.paper.reason = pick.reason
        papers.append(pick.paper)
    papers = list(_annotated_in_order(papers))
    body = render(
        f"{user.username}'s papers", absolute(reverse("following")), absolute(request.path), papers, "atom"
    )
    response = HttpResponse(body, content_type=FORMATS["atom"][1])
    response["X-Robots-Tag"] = "noindex"
    return response


def _annotated_in_order(papers):
    """The papers with the fields render() reads, keeping their order and `reason`."""
    by_pk = listings.by_id([p.pk for p in papers])
    for paper in papers:
        if paper.pk in by_pk:
            by_pk[paper.pk].reason = getattr(paper, "reason", "")
            yield by_pk[paper.pk]
