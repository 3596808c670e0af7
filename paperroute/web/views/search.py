"""/search: hybrid, keyword or semantic search with date and category filters."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.shortcuts import render
from django.urls import reverse

from paperroute.catalog.models import Category
from paperroute.web import searching
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
                                ("until", opts.until and opts.until.isoformat())) if v}
    context.update(found=found, papers=mark_voted(request, found.papers), page=page_obj,
                   page_query=urlencode(params),
                   feeds=[("Search: " + opts.q + " (RSS)",
                           reverse("feed", args=["search", "xml"]) + "?" + urlencode({"q": opts.q}),
                           "application/rss+xml"),
                          ("Search: " + opts.q + " (Atom)",
                           reverse("feed", args=["search", "atom"]) + "?" + urlencode({"q": opts.q}),
                           "application/atom+xml")])
    return cacheable(render(request, "search.html", context))
