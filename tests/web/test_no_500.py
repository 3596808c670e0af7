"""No value a visitor controls makes the site answer 500: every route, every query parameter and
every form field gets arbitrary text, Unicode digits, NUL bytes and newlines (Hypothesis), signed
in and not, on SQLite and PostgreSQL. The API's schema is fuzzed by test_api_fuzz.py as well.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from django.db import connection
from django.urls import URLPattern, URLResolver
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from paperroute import search
from paperroute.community import authors, notify
from paperroute.web import urls as site_urls
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
    token = subscriber("fuzz@example.org").token
    valid = {
        "/papers/date/": ["2024-11-28"],
        "/papers/week/": ["2024-W48"],
        "/papers/month/": ["2024-11"],
        "/categories/": ["cs.CL"],
        "/authors/": ["Ada Lovelace"],
        "/comments/": [str(comment.pk)],
        "/subscription/": [token],
        "/account/replies/stop/": [notify.stop_token(reader)],
        "/feeds/": ["search", "xml"],
    }
    return reader, valid


def _valid_path(route: str, valid: dict) -> str:
    slots = next((v for prefix, v in valid.items() if route.startswith(prefix)), ["2411.00701"] * 2)
    return _path(route, slots, keep_slashes=True)


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


@pytest.mark.django_db(transaction=True)
def test_every_route_parameter_and_field_takes_every_nasty_value(site, client, settings):
    """The sweep: each path slot, query parameter and form field of each route gets each nasty
    value in turn, the others valid, as an anonymous visitor and as a signed-in reader."""
    settings.CONFIG = settings.CONFIG.replace(
        bounce_webhook="s3cret", rate_comments="10000/hour", rate_votes="10000/hour"
    )
    reader, valid = site
    failures = []
    # SQLite's pass sends everything (55,000 requests). PostgreSQL's repeats what depends on the
    # database: every path value, and the values an engine may store or compare differently
    # (NUL bytes, integers past 64 bits, text past a column's length, negatives in positive-only
    # columns), as a signed-in reader, whose pages run every query an anonymous visitor's do.
    postgres = connection.vendor == "postgresql"
    nasty = [v for v in NASTY if v in ENGINE_NASTY] if postgres else NASTY
    for signed_in in (True,) if postgres else (False, True):
        client.logout()
        if signed_in:
            client.force_login(reader)
        for route in ROUTES:
            base = _valid_path(route, valid)
            requests = [("GET", _path(route, [value] * 2, False), None) for value in TRICKY]
            requests += [
                ("GET", f"{base}?{urlencode({name: value})}", None) for name in QUERY for value in nasty
            ]
            requests += [("POST", base, {name: value}) for name in FORM for value in nasty]
            for method, url, form in requests:
                status = _answer(client, method, url, form).status_code
                if signed_in and route == "/account/signout":
                    client.force_login(reader)
                if status >= 500:
                    failures.append((method, url[:120], form and {k: v[:40] for k, v in form.items()}))
    assert failures == []


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
