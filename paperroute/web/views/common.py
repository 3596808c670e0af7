"""What page views share: pagination, the paper cards' extra state, errors and the client IP."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import EmptyPage, Paginator
from django.http import Http404, HttpRequest
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from paperroute.community import votes
from paperroute.web.middleware import rate_key

PER_PAGE = 50


def paginate(request: HttpRequest, items, per_page: int = PER_PAGE):
    """The requested page of items (?page=N); a page past the end or not a number is a 404."""
    paginator = Paginator(items, per_page)
    raw = request.GET.get("page", "1")
    # isdigit() also accepts digits such as "²" that int() refuses; only ASCII digits count.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or int(raw) < 1:
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
    """The client that per-client rate limits count against.

    REMOTE_ADDR is the socket's address, replaced by the client's own only when a trusted proxy
    forwarded the request (paperroute.web.middleware); an IPv6 client counts by its /64.
    """
    return rate_key(request.META.get("REMOTE_ADDR", ""))


def local_target(request: HttpRequest, value: str) -> str:
    """`value` if it is a path on this site to send the reader back to, else ''.

    Only an absolute path will do: redirect() would take a bare word for the name of a view,
    and "//host" or "https://host" would lead off the site.
    """
    value = value or ""
    if value.startswith("/") and not value.startswith(("//", "/\\")) and \
            url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()},
                                             require_https=request.is_secure()):
        return value
    return ""


def from_this_site(request: HttpRequest) -> bool:
    """Whether a browser says the request came from one of this site's pages (or says nothing).

    For the few forms that go without a CSRF token (they sit on cached pages): browsers send
    Origin with every POST, so a form on another site is told apart.
    """
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin in {f"{request.scheme}://{request.get_host()}", *settings.CSRF_TRUSTED_ORIGINS}


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
