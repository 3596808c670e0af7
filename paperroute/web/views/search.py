"""/search: hybrid, keyword or semantic search with date and category filters."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse

from paperroute.catalog.models import Authorship, Category, Paper
from paperroute.catalog.textclean import display_name
from paperroute.search.query import parse, without_filters
from paperroute.web import searching
from paperroute.web.views.common import cacheable, drop_for_reader, mark_voted, read_toggle

PER_PAGE = 20


def page(request):
    context = {
        "tab": "",
        "opts": None,
        "error": "",
        "invalid": (),  # the fields the error is about
        "papers": [],
        "query": request.GET.get("q", ""),
        "modes": [("hybrid", "Hybrid"), ("lexical", "Keywords"), ("semantic", "Semantic")],
        "categories": Category.objects.values_list("code", flat=True),
    }
    try:
        opts = searching.options(request.GET)
        digits = request.GET.get("page", "1").lstrip("0")
        if not (digits.isascii() and digits.isdigit()):
            raise searching.BadSearch("page must be a positive number")
        # However large, a number past the results is a page past the last one, which leads
        # back; int() would refuse a number of thousands of digits.
        number = int(digits) if len(digits) <= 6 else 10**6
    except searching.BadSearch as exc:
        context["error"], context["invalid"] = exc.reader, exc.fields
        return render(request, "search.html", context, status=400)
    context["opts"] = opts
    if not opts.q:
        return cacheable(render(request, "search.html", context))
    try:
        found = searching.run(opts, limit=PER_PAGE, offset=(number - 1) * PER_PAGE)
    except searching.BadSearch as exc:
        context["error"], context["invalid"] = exc.reader, exc.fields
        return render(request, "search.html", context, status=400)
    # A Paginator over the total gives the page links; the hits are this page's rows.
    paginator = Paginator(range(found.total), PER_PAGE)
    page_obj = Page(found.papers, min(number, max(paginator.num_pages, 1)), paginator)
    params = opts.params()

    def link(**changes) -> str:
        return reverse("search") + "?" + urlencode({k: v for k, v in {**params, **changes}.items() if v})

    filtered = bool(opts.category or opts.since or opts.until)
    # Filters typed into the query (year:2023, cat:hep-ex, author:…) that leave nothing: the
    # words alone, as typed, in the same mode and with the form's own filters.
    words, typed = without_filters(opts.q) if not found.papers and not found.total else ("", [])
    if not (typed and parse(opts.q).has_filters and parse(words).has_text):
        words, typed = "", []
    context.update(
        found=found,
        papers=drop_for_reader(request, mark_voted(request, found.papers)),
        page=page_obj,
        read_toggle=read_toggle(request),
        page_query=urlencode(params),
        original_url=link(q=found.original, spell="0") if found.corrected else "",
        suggestion_url=link(q=found.suggestion, spell="") if found.suggestion else "",
        fewer_url=link(q=found.fewer) if found.fewer else "",
        unfiltered_url=(link(cat="", since="", until="") if filtered and not found.papers else ""),
        bare_url=link(q=words) if words else "",
        bare_words=words,
        typed_filters=", ".join(typed),
        # A page number past the results (an old link, an edited address): the query matched.
        last_page_url=(
            link(page=str(paginator.num_pages))
            if not found.papers and found.total and number > paginator.num_pages
            else ""
        ),
        # The feed of this search, filters and all.
        feeds=[
            (
                f"Search: {opts.label} ({name})",
                reverse("feed", args=["search", fmt]) + "?" + urlencode(params),
                content_type,
            )
            for name, fmt, content_type in (
                ("RSS", "xml", "application/rss+xml"),
                ("Atom", "atom", "application/atom+xml"),
            )
        ],
    )
    response = render(request, "search.html", context)
    # A page that says the index is behind must not outlive the worker's next sync in the cache.
    return response if found.behind else cacheable(response)


def suggestions(request):
    """As-you-type results for the header's search box: JSON, five papers at most."""
    from paperroute.search import SearchError, suggest

    text = request.GET.get("q", "")[:200]
    try:
        hits = suggest(text, limit=5)
    except SearchError:
        hits = []
    # Two light queries for the dates and authors (no model instances, votes or categories):
    # this runs after every pause in typing.
    rows = {
        key: (pk, listed, published)
        for pk, key, listed, published in Paper.objects.filter(key__in=[hit.key for hit in hits]).values_list(
            "pk", "key", "listed_on", "published"
        )
    }
    names: dict[int, list[str]] = {}
    for paper_id, name in (
        Authorship.objects.filter(paper_id__in=[row[0] for row in rows.values()])
        .order_by("paper_id", "position")
        .values_list("paper_id", "author__name")
    ):
        names.setdefault(paper_id, []).append(name)
    results = []
    for hit in hits:
        if hit.key not in rows:
            continue
        pk, listed, published = rows[hit.key]
        authors = names.get(pk, [])
        day = listed or (published.date() if published else None)
        results.append(
            {
                "title": hit.title,
                "author": display_name(authors[0]) if authors else "",
                "more_authors": max(0, len(authors) - 1),
                # What the box shows: "Ada Lovelace", "Ada Lovelace and Alan Turing", "… et al."
                "byline": (
                    " and ".join(display_name(name) for name in authors)
                    if len(authors) <= 2
                    else f"{display_name(authors[0])} et al."
                ),
                "date": day.isoformat() if day else "",
                "url": reverse("paper", args=[hit.key]),
            }
        )
    return cacheable(JsonResponse({"query": text, "results": results}))
