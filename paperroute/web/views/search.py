"""/search: hybrid, keyword or semantic search with date and category filters."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse

from paperroute.catalog.models import Category
from paperroute.web import searching
from paperroute.web.related import in_order
from paperroute.web.views.common import cacheable, mark_voted

PER_PAGE = 20


def page(request):
    context = {"tab": "", "opts": None, "error": "", "papers": [], "query": request.GET.get("q", ""),
               "modes": [("hybrid", "Hybrid"), ("lexical", "Keywords"), ("semantic", "Semantic")],
               "categories": Category.objects.values_list("code", flat=True)}
    try:
        opts = searching.options(request.GET)
        raw_page = request.GET.get("page", "1")
        valid = raw_page.isascii() and raw_page.isdigit() and len(raw_page) <= 6
        number = int(raw_page) if valid and int(raw_page) >= 1 else None
        if number is None:
            raise searching.BadSearch("page must be a positive number")
    except searching.BadSearch as exc:
        context["error"] = str(exc)
        return render(request, "search.html", context, status=400)
    context["opts"] = opts
    if not opts.q:
        return cacheable(render(request, "search.html", context))
    try:
        found = searching.run(opts, limit=PER_PAGE, offset=(number - 1) * PER_PAGE)
    except searching.BadSearch as exc:
        context["error"] = str(exc)
        return render(request, "search.html", context, status=400)
    # A Paginator over the total gives the page links; the hits are this page's rows.
    paginator = Paginator(range(found.total), PER_PAGE)
    page_obj = Page(found.papers, min(number, max(paginator.num_pages, 1)), paginator)
    params = {k: v for k, v in (("q", opts.q), ("mode", opts.mode), ("cat", opts.category),
                                ("since", opts.since and opts.since.isoformat()),
                                ("until", opts.until and opts.until.isoformat()),
                                ("spell", "" if opts.correct else "0")) if v}

    def link(**changes) -> str:
        return reverse("search") + "?" + urlencode({k: v for k, v in {**params, **changes}.items() if v})

    filtered = bool(opts.category or opts.since or opts.until)
    context.update(found=found, papers=mark_voted(request, found.papers), page=page_obj,
                   page_query=urlencode(params),
                   original_url=link(q=found.original, spell="0") if found.corrected else "",
                   suggestion_url=link(q=found.suggestion, spell="") if found.suggestion else "",
                   fewer_url=link(q=found.fewer) if found.fewer else "",
                   unfiltered_url=(link(cat="", since="", until="")
                                   if filtered and not found.papers else ""),
                   feeds=[("Search: " + opts.q + " (RSS)",
                           reverse("feed", args=["search", "xml"]) + "?" + urlencode({"q": opts.q}),
                           "application/rss+xml"),
                          ("Search: " + opts.q + " (Atom)",
                           reverse("feed", args=["search", "atom"]) + "?" + urlencode({"q": opts.q}),
                           "application/atom+xml")])
    return cacheable(render(request, "search.html", context))


def suggestions(request):
    """As-you-type results for the header's search box: JSON, five papers at most."""
    from paperroute.search import SearchError, suggest

    text = request.GET.get("q", "")[:200]
    try:
        hits = suggest(text, limit=5)
    except SearchError:
        hits = []
    papers = {p.key: p for p in in_order([hit.key for hit in hits])}
    results = []
    for hit in hits:
        paper = papers.get(hit.key)
        if paper is None:
            continue
        authors = paper.author_names
        day = paper.listed_on or (paper.published.date() if paper.published else None)
        results.append({"title": hit.title, "author": authors[0] if authors else "",
                        "more_authors": max(0, len(authors) - 1),
                        "date": day.isoformat() if day else "",
                        "url": reverse("paper", args=[paper.key])})
    return cacheable(JsonResponse({"query": text, "results": results}))
