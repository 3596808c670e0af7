"""No value a visitor controls makes the site answer 500: every route, and every query parameter
and form field it reads, gets arbitrary text, Unicode digits, NUL bytes and newlines, signed in
and not, on SQLite and PostgreSQL; Hypothesis sends any parameter to any route. The API's schema
is fuzzed by test_api_fuzz.py as well.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sys
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlencode

import django
import ninja
import pytest
from django.db import connection
from django.http import QueryDict
from django.urls import URLPattern, URLResolver
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from paperroute import search
from paperroute.community import authors, notify
from paperroute.library import follows, shelf
from paperroute.web import urls as site_urls
from paperroute.web.api import api
from tests.community.helpers import add_paper, user

PACKAGE = Path(__file__).resolve().parents[2] / "paperroute"
# Every query parameter and form field a view reads; test_the_parameter_lists_are_complete keeps
# these lists honest when a view starts reading a new one.
QUERY = [
    "page",
    "q",
    "mode",
    "cat",
    "since",
    "until",
    "next",
    "welcome",
    "done",
    "code",
    "name",
    "date",
    "week",
    "month",
    "sort",
    "p",
    "limit",
    "view",
    "theme",
    "period",
    "spell",
    "kept",
    "read",
    "arxiv",
]
FORM = [
    "body",
    "email",
    "next",
    "action",
    "form",
    "username",
    "token",
    "name",
    "arxiv",
    "frequency",
    "max_papers",
    "categories",
    "other_categories",
    "topics",
    "collection",
    "text",
    "id",
    "paper",
    "note",
    "kind",
    "value",
    "description",
    "public",
    "parent",
    "reason",
    "emoji",
    "position",
    "github_repo",
    "project_page",
    "reply_mail",
    "confirm",
]
TRICKY = [
    "",
    "0",
    "-1",
    "²",
    "١٢",
    "௫",
    "1e3",
    "99999999999999999999999",
    "\x00",
    "a\x00b",
    "\n",
    "a\r\nb",
    "%00",
    "..",
    "../..",
    "/",
    "//evil.example",
    "javascript:alert(1)",
    "<script>",
    "'\"",
    "cs.CL",
    "2024-11-28",
    "2024-W48",
    "2024-11",
    "2411.00701",
    "hep-th/9901001",
    "doi:10.1/x",
    "\u202e",
    "\ud7ff",
    "x" * 3000,
    "author:",
    "cat:",
    "year:99999..0",
    '"',
]
values = st.one_of(
    st.sampled_from(TRICKY),
    st.text(st.characters(codec="utf-8"), max_size=40),
    st.text(st.characters(codec="utf-8"), max_size=4).map(lambda s: s + "\x00"),
)


def routes() -> list[str]:
    """Each page route with `{}` where a path parameter goes (admin and API excluded)."""
    found = []
    for pattern in site_urls.urlpatterns:
        if isinstance(pattern, URLResolver):
            continue  # the API: schemathesis covers it, and the API routes below too
        assert isinstance(pattern, URLPattern)
        text = str(pattern.pattern).lstrip("^").rstrip("$")
        text = re.sub(r"<(?:\w+:)?\w+>|\(\?P<\w+>[^)]*\)", "{}", text)
        found.append("/" + text.replace("\\.", "."))
    return found


API = [
    "/api/daily_papers",
    "/api/papers/search",
    "/api/papers/{}",
    "/api/papers/{}/upvote",
    "/api/papers/{}/links",
    "/api/recommendations",
]
ROUTES = routes() + API


NASTY = ["²", "\x00", "99999999999999999999999", "-1", "x" * 3000, "a\nb", "", "javascript:x"]
ENGINE_NASTY = {"\x00", "99999999999999999999999", "-1", "x" * 3000}


@pytest.fixture
def site(db):
    """Papers, a reader with a comment, and a subscriber: what the routes' valid values name."""
    from paperroute.community.models import Comment
    from tests.digest.conftest import subscriber

    paper = add_paper("2411.00701", "A paper about transformers", listed=date(2024, 11, 28), hf_upvotes=2)
    add_paper("hep-th/9901001", "An old paper", listed=date(1999, 1, 4))
    search.sync(embed=False)
    reader = user("fuzzer")
    comment = Comment.objects.create(paper=paper, author=reader, body="A comment to edit")
    # The reader is a verified author of the paper, so that its links form reaches validation.
    authors.approve(user("moderator", staff=True), authors.claim(reader, paper, 0))
    collection = shelf.create_collection(reader, "Reading group", public=True)
    shelf.add(reader, paper, collection)
    token = subscriber("fuzz@example.org").token

    def the_comment() -> list[str]:
        # The sweep deletes it through /comments/<id>/delete; the routes after that need it back.
        Comment.objects.get_or_create(
            pk=comment.pk, defaults={"paper": paper, "author": reader, "body": "Back"}
        )
        return [str(comment.pk)]

    valid = {
        "/papers/date/": ["2024-11-28"],
        "/papers/week/": ["2024-W48"],
        "/papers/month/": ["2024-11"],
        "/categories/": ["cs.CL"],
        "/authors/": ["Ada Lovelace"],
        "/comments/": the_comment,
        "/collections/": [str(collection.pk), "atom"],
        "/subscription/": [token],
        "/account/replies/stop/": [notify.stop_token(reader)],
        "/feeds/private/": lambda: [follows.feed_secret(reader)],  # /library/feed/rotate changes it
        "/feeds/": ["search", "xml"],
    }
    return reader, valid


def _valid_path(route: str, valid: dict) -> str:
    slots = next((v for prefix, v in valid.items() if route.startswith(prefix)), ["2411.00701"] * 2)
    return _path(route, slots() if callable(slots) else slots, keep_slashes=True)


def _path(template: str, slots: list[str], keep_slashes: bool) -> str:
    for value in slots:
        template = template.replace("{}", quote(value, safe="/" if keep_slashes else ""), 1)
    return template


def _answer(client, method: str, url: str, form: dict | None = None, multipart: bool = False):
    if method == "GET":
        return client.get(url)
    if multipart:
        return client.post(url, form or {})
    return client.post(
        url,
        urlencode(form or {}, doseq=True),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION="Bearer s3cret",
    )


# What a view reads from request.GET or request.POST, found by watching it answer: looking a key
# up, or "*" for reading them all in a way that shows the code their names (which it may treat
# each its own way). Copying does not count, as what is read from the copy counts as read from the
# original, nor does making a query string (urlencode), which treats every name alike: a view
# that only passes the query on in a link gets its own reads and the one unread name, not every
# name (every name, on the listing pages, took 40% of the sweep). Django's own code does not count
# (building the dictionaries, copying them, a sign-in redirect building its own query string), its
# callers do. Nor does _has_nul, the middleware that turns away any NUL byte before a view runs by
# reading every form field of every request. Nor does django-ninja's, which copies every name of
# the query string into a dictionary for the API's schemas: what an API operation reads is the
# parameters its schema declares (api_parameters), as its OpenAPI document says; counting the copy
# as reading every name sent the API every parameter of the site, and was a fifth of the sweep.
_LOOKUPS = ("get", "getlist", "__getitem__", "__contains__", "pop", "setdefault")
_WHOLE = ("items", "lists", "values", "keys", "__iter__", "dict", "popitem")
_PASSED_ON = ("copy", "urlencode")
_GENERIC = {"_has_nul"}
_DJANGO = str(Path(django.__file__).parent)
_NINJA = str(Path(ninja.__file__).parent)


@functools.cache
def api_parameters() -> dict[str, set[str]]:
    """The query parameters each API operation's schema declares, by route (`{}` for a slot)."""
    declared: dict[str, set[str]] = {}
    for path, operations in api.get_openapi_schema()["paths"].items():
        route = re.sub(r"\{\w+\}", "{}", path)
        for operation in operations.values():
            names = {p["name"] for p in operation.get("parameters", ()) if p["in"] == "query"}
            declared.setdefault(route, set()).update(names)
    return declared


class Reads:
    """The keys read from QueryDicts while a request was answered, each with the dictionary it
    was read from; a copy counts as the dictionary it was copied from."""

    def __init__(self) -> None:
        self.seen: list[tuple[QueryDict, str]] = []
        self.copied: list[tuple[QueryDict, QueryDict]] = []  # (copy, original)

    def _source(self, dictionary: QueryDict) -> QueryDict:
        for copy, original in reversed(self.copied):
            if copy is dictionary:
                return self._source(original)
        return dictionary

    def of(self, request, part: str) -> set[str]:
        """The keys read from request.GET or request.POST (`part`): a listing page reads its
        query string when it is posted to, and none of that is a form field. A read from a
        dictionary that is neither (one a view parsed itself) counts for both."""
        mine = getattr(request, part)
        other = getattr(request, "POST" if part == "GET" else "GET")
        return {
            key for read, key in self.seen if (source := self._source(read)) is mine or source is not other
        }


@contextlib.contextmanager
def reading():
    """What is read from any QueryDict while the block runs (Reads; "*": all of the keys)."""
    reads = Reads()

    def watch(name: str, whole: bool):
        original = getattr(QueryDict, name)

        @functools.wraps(original)
        def watched(self, *args, **kwargs):
            caller = sys._getframe(1).f_code
            if (
                name not in _PASSED_ON
                and caller.co_name not in _GENERIC
                and not caller.co_filename.startswith((_DJANGO, _NINJA))
            ):
                reads.seen.append((self, "*" if whole else str(args[0]) if args else "*"))
            result = original(self, *args, **kwargs)
            if name == "copy":
                reads.copied.append((result, self))
            return result

        return original, watched

    patches = {name: watch(name, name in _WHOLE) for name in (*_LOOKUPS, *_WHOLE, *_PASSED_ON)}
    for name, (_, watched) in patches.items():
        setattr(QueryDict, name, watched)
    try:
        yield reads
    finally:
        for name, (original, _) in patches.items():
            setattr(QueryDict, name, original)


def swept(read: set[str], known: list[str]) -> list[str]:
    """The names a route's sweep sends: those its view read (all it might, for "*"), and one it
    did not, for whatever reads the raw query string or body (the page cache's key, for one)."""
    if "*" in read:
        return [*known, *sorted(read - set(known) - {"*"})]
    return [*sorted(read), next(name for name in known if name not in read)]


@pytest.mark.django_db(transaction=True)
def test_every_route_parameter_and_field_takes_every_nasty_value(site, client, settings):
    """The sweep: each path slot of each route gets each tricky value, and each query parameter
    and form field the route's view reads gets each nasty value in turn, as an anonymous visitor
    and as a signed-in reader. Sending a parameter no code reads would test nothing more: which
    ones a view reads is watched as it answers the route with none (its reads can depend on the
    other parameters only, and those are absent here too), and one unread name goes with them."""
    settings.CONFIG = settings.CONFIG.replace(
        bounce_webhook="s3cret", rate_comments="10000/hour", rate_votes="10000/hour"
    )
    reader, valid = site
    failures = []
    # PostgreSQL's pass repeats what depends on the database: the values an engine may store or
    # compare differently (NUL bytes, integers past 64 bits, text past a column's length,
    # negatives in positive-only columns), in every path slot, parameter and field, as a
    # signed-in reader, whose pages run every query an anonymous visitor's do.
    postgres = connection.vendor == "postgresql"
    nasty = [v for v in NASTY if v in ENGINE_NASTY] if postgres else NASTY
    tricky = [v for v in TRICKY if v in ENGINE_NASTY or "\x00" in v] if postgres else TRICKY
    for signed_in in (True,) if postgres else (False, True):
        client.logout()
        if signed_in:
            client.force_login(reader)
        for route in ROUTES:
            base = _valid_path(route, valid)
            with reading() as reads:
                query = reads.of(_answer(client, "GET", base).wsgi_request, "GET")
            query |= api_parameters().get(route, set())
            with reading() as reads:
                form = reads.of(_answer(client, "POST", base, {}).wsgi_request, "POST")
            if signed_in and route == "/account/signout":
                client.force_login(reader)
            # A route without a path slot has one path, which the watch above has just asked for.
            paths = (
                dict.fromkeys(_path(route, [value] * 2, False) for value in tricky) if "{}" in route else {}
            )
            requests = [("GET", path, None) for path in paths]
            requests += [
                ("GET", f"{base}?{urlencode({name: value})}", None)
                for name in swept(query, QUERY)
                for value in nasty
            ]
            requests += [("POST", base, {name: value}) for name in swept(form, FORM) for value in nasty]
            for method, url, fields in requests:
                status = _answer(client, method, url, fields).status_code
                if signed_in and route == "/account/signout":
                    client.force_login(reader)
                if status >= 500:
                    failures.append((method, url[:120], fields and {k: v[:40] for k, v in fields.items()}))
    assert failures == []


def test_the_sweep_watches_what_a_view_reads(rf):
    """The watch behind the sweep's choice of parameters sees lookups, whole reads and `in`, and
    tells the query string from the form."""
    request = rf.get("/?page=2&q=x")
    with reading() as read:
        request.GET.get("page")
        _ = "cat" in request.GET
    assert read.of(request, "GET") == {"page", "cat"}
    with reading() as read:
        request.GET.copy().urlencode()  # passed on whole, every name alike
    assert read.of(request, "GET") == set()
    with reading() as read:
        request.GET.copy().items()  # but the names a copy shows are the query's
    assert read.of(request, "GET") == {"*"}
    with reading() as read:
        request.GET.copy().pop("since", None)  # and what is taken from a copy is read
    assert read.of(request, "GET") == {"since"}
    assert request.GET.get("q") == "x"  # and the dictionaries work as before afterwards
    posted = rf.post("/?page=2", {"body": "x"})
    with reading() as read:
        posted.GET.get("page")
        posted.POST.get("body")
        posted.GET.copy().keys()  # a copy of the query string is the query string
        QueryDict("note=1").get("note")  # a dictionary of neither counts for both
    assert read.of(posted, "GET") == {"page", "*", "note"}
    assert read.of(posted, "POST") == {"body", "note"}
    assert swept({"page"}, QUERY) == ["page", "q"]
    assert swept({"*", "cursor"}, QUERY) == [*QUERY, "cursor"]


request_shape = dict(
    route=st.sampled_from(ROUTES),
    slots=st.lists(values, min_size=3, max_size=3),
    keep_slashes=st.booleans(),
    query=st.dictionaries(st.sampled_from(QUERY), values, max_size=4),
    signed_in=st.booleans(),
)


@pytest.mark.django_db(transaction=True)
def test_no_random_request_is_answered_with_a_500(site, client, settings):
    """Hypothesis: arbitrary text in several places at once, GET and POST, form or multipart."""
    settings.CONFIG = settings.CONFIG.replace(bounce_webhook="s3cret")
    reader, _ = site

    @given(
        **request_shape,
        method=st.sampled_from(["GET", "POST"]),
        form=st.dictionaries(st.sampled_from(FORM), values, max_size=5),
        multipart=st.booleans(),
    )
    @examples(max_examples=500, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(route, slots, keep_slashes, query, signed_in, method, form, multipart):
        client.logout()
        if signed_in:
            client.force_login(reader)
        url = _path(route, slots, keep_slashes) + ("?" + urlencode(query) if query else "")
        response = _answer(client, method, url, form, multipart)
        assert response.status_code < 500, (method, url, form, response.status_code)

    check()


def test_the_parameter_lists_are_complete():
    source = "\n".join(p.read_text() for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)
    read = set(re.findall(r"(?:GET|params)\.(?:get|getlist)\(\"(\w+)\"", source))
    posted = set(re.findall(r"POST\.(?:get|getlist)\(\"(\w+)\"", source))
    assert read <= set(QUERY), read - set(QUERY)
    assert posted <= set(FORM), posted - set(FORM)
    assert len(ROUTES) >= 27
    # The API's operations are swept with the parameters their schemas declare.
    assert set(API) <= set(api_parameters())
    assert {"date", "submitter", "sort", "limit"} <= api_parameters()["/api/daily_papers"]
