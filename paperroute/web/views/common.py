"""What page views share: pagination, the paper cards' extra state, errors and the client IP."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.paginator import EmptyPage, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from paperroute.community import votes
from paperroute.library import shelf
from paperroute.web.middleware import rate_key

PER_PAGE = 50
# What no path this site writes holds: blanks and control characters, C0, DEL, C1 and the line
# and paragraph separators.
UNSAFE_IN_PATH = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]")


def paginate(request: HttpRequest, items, per_page: int = PER_PAGE, count: int | None = None):
    """The requested page of items (?page=N); a page past the end or not a number is a 404.
    `count`: how many items there are, when the caller has counted them faster."""
    paginator = Paginator(items, per_page)
    if count is not None:
        paginator.count = count  # a cached_property: set, it is not computed
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
    """The papers as a list, each with `upvoted`, `saved` and `read` set for the signed-in reader."""
    papers = list(papers)
    ids = [p.pk for p in papers]
    voted = votes.voted_ids(request.user, ids)
    saved, read = shelf.saved_ids(request.user, ids), shelf.read_ids(request.user, ids)
    for paper in papers:
        paper.upvoted, paper.saved, paper.read = paper.pk in voted, paper.pk in saved, paper.pk in read
    return papers


READ_CHOICES = ("dim", "hide")


def read_papers(request: HttpRequest) -> str:
    """How the signed-in reader wants papers they have read: "dim" (the default) or "hide".
    ?read= changes it, and it is remembered for the session."""
    if not request.user.is_authenticated:
        return "dim"
    chosen = request.GET.get("read", "")
    if chosen in READ_CHOICES:
        if request.session.get("read_papers") != chosen:
            request.session["read_papers"] = chosen
        return chosen
    return request.session.get("read_papers", "dim")


def for_reader(request: HttpRequest, papers: QuerySet) -> QuerySet:
    """Leave out what the signed-in reader said no to ("not interested"), and what they have
    read when they hide read papers."""
    for ids in _left_out(request):
        papers = papers.exclude(pk__in=ids)
    return papers


def count_for_reader(request: HttpRequest, links: QuerySet) -> int:
    """How many papers these category links name, less those `for_reader` leaves out: counted
    from the links alone, faster than the papers (1.6 against 12 ms for cs.LG at 100k papers)."""
    for ids in _left_out(request):
        links = links.exclude(paper_id__in=ids)
    return links.values("paper_id").distinct().count()


def _left_out(request: HttpRequest) -> list[QuerySet]:
    """The ids of the papers the reader does not want listed (`for_reader`)."""
    if not request.user.is_authenticated:
        return []
    from paperroute.library.models import PaperState

    states = PaperState.objects.filter(user=request.user)
    left_out = [states.filter(dismissed_at__isnull=False).values("paper_id")]
    if read_papers(request) == "hide":
        left_out.append(states.filter(read_at__isnull=False).values("paper_id"))
    return left_out


def read_toggle(request: HttpRequest) -> tuple[str, str] | None:
    """(label, address) of the link that switches between dimming and hiding read papers."""
    if not request.user.is_authenticated:
        return None
    query = request.GET.copy()
    query.pop("page", None)
    hiding = read_papers(request) == "hide"
    query["read"] = "dim" if hiding else "hide"
    return ("Show read papers" if hiding else "Hide read papers"), f"{request.path}?{query.urlencode()}"


def drop_for_reader(request: HttpRequest, papers: list) -> list:
    """As for_reader, for a list of papers already fetched (search results, trending)."""
    if not request.user.is_authenticated or not papers:
        return papers
    ids = [p.pk for p in papers]
    gone = shelf.dismissed_ids(request.user, ids)
    if read_papers(request) == "hide":
        gone |= shelf.read_ids(request.user, ids)
    return [p for p in papers if p.pk not in gone]


def client_ip(request: HttpRequest) -> str:
    """The client that per-client rate limits count against.

    REMOTE_ADDR is the socket's address, replaced by the client's own only when a trusted proxy
    forwarded the request (paperroute.web.middleware); an IPv6 client counts by its /64.
    """
    return rate_key(request.META.get("REMOTE_ADDR", ""))


def local_target(request: HttpRequest, value: str) -> str:
    """`value` if it is a path on this site to send the reader back to, else ''.

    Only an absolute path will do: redirect() would take a bare word for the name of a view,
    and "//host" or "https://host" would lead off the site. A path as this site writes one has
    no blank or control character (urlsplit drops some before it checks, and they could start a
    new line wherever the path is written out).
    """
    value = value or ""
    if (
        value.startswith("/")
        and not UNSAFE_IN_PATH.search(value)
        and not value.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(
            value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
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


def wants_json(request: HttpRequest) -> bool:
    """Whether the caller reads JSON: the site's script (site.js) posts its forms asking for it."""
    return "application/json" in request.headers.get("Accept", "")


def not_found_json(exc: Http404) -> JsonResponse:
    """A 404 as a script reads it, saying what was not found."""
    return JsonResponse({"detail": str(exc) or "not found"}, status=404)


def error_page(request: HttpRequest, status: int, title: str, message: str, **headers):
    response = render(
        request, "error.html", {"status": status, "title": title, "message": message}, status=status
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def shown_at(path: str) -> dict:
    """The context of a page answered at a form's address (a refused form, sent back with what
    was typed): that address takes only POSTs, so the page's own forms and page links lead to
    `path`, the page's address."""
    return {"here": path, "here_path": path}


def cacheable(response):
    """Mark a response as the same for every anonymous visitor, so the page cache may keep it."""
    response.page_cacheable = True
    return response
