"""What page views share: pagination, the paper cards' extra state, errors and the client IP."""

from __future__ import annotations

from django.core.paginator import EmptyPage, Paginator
from django.http import Http404, HttpRequest
from django.shortcuts import render

from paperroute.community import votes

PER_PAGE = 50


def paginate(request: HttpRequest, items, per_page: int = PER_PAGE):
    """The requested page of items (?page=N); a page past the end or not a number is a 404."""
    paginator = Paginator(items, per_page)
    raw = request.GET.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise Http404("there is no such page of results")
    try:
        return paginator.page(int(raw))
    except EmptyPage:
        if int(raw) == 1:
            return paginator.page(1)
        raise Http404("there is no such page of results") from None


def mark_voted(request: HttpRequest, papers) -> list:
    """The papers as a list, each with `upvoted` set for the signed-in reader."""
    papers = list(papers)
    voted = votes.voted_ids(request.user, [p.pk for p in papers])
    for paper in papers:
        paper.upvoted = paper.pk in voted
    return papers


def client_ip(request: HttpRequest) -> str:
    # Only the socket's address: X-Forwarded-For is whatever the client wants it to be unless a
    # trusted proxy sets it, and rate limits keyed on it would be trivial to dodge.
    return request.META.get("REMOTE_ADDR", "")


def error_page(request: HttpRequest, status: int, title: str, message: str, **headers):
    response = render(request, "error.html", {"status": status, "title": title, "message": message},
                      status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def cacheable(response):
    """Mark a response as the same for every anonymous visitor, so the page cache may keep it."""
    response.page_cacheable = True
    return response
