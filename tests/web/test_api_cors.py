"""Another site's page may read the public JSON API from the browser (CORS), as it may read
Hugging Face's; it may not write through it, nor read anything a reader's cookie or token
unlocks."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.test import Client
from django.urls import resolve

from paperroute.community import tokens
from paperroute.web.api import PUBLIC_READS, api
from tests.community.helpers import add_paper, user

pytestmark = pytest.mark.django_db
ORIGIN = {"HTTP_ORIGIN": "https://lab.example"}
KEY = "2411.00851"
CORS = re.compile(r"^access-control-", re.IGNORECASE)


@pytest.fixture
def paper():
    return add_paper(KEY, "A paper a lab's page lists", listed=date(2024, 11, 28))


def _cors(response) -> dict[str, str]:
    return {name.lower(): value for name, value in response.items() if CORS.match(name)}


def _preflight(client, path: str, method: str, headers: str = ""):
    extra = {"HTTP_ACCESS_CONTROL_REQUEST_HEADERS": headers} if headers else {}
    return client.options(path, HTTP_ACCESS_CONTROL_REQUEST_METHOD=method, **ORIGIN, **extra)


@pytest.mark.parametrize(
    "path",
    [
        "/api/daily_papers?date=2024-11-28",
        "/api/papers",
        f"/api/papers/{KEY}?field=comments",
        "/api/papers/search?q=",
        "/api/openapi.json",
    ],
)
def test_the_public_reads_are_open_to_any_origin_without_credentials(client, paper, path):
    response = client.get(path, **ORIGIN)
    assert response.status_code == 200
    cors = _cors(response)
    assert cors["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in cors
    # A page's script reads the paging and count headers too.
    exposed = {h.strip().lower() for h in cors["access-control-expose-headers"].split(",")}
    assert {"link", "x-total-count", "etag"} <= exposed
    # The same headers whatever the origin, or none: a cache may serve the answer to anyone.
    assert _cors(client.get(path)) == cors and "origin" not in response.get("Vary", "").lower()
    assert _cors(client.head(path, **ORIGIN)) == cors


def test_a_revalidated_answer_is_readable_too(client, paper):
    first = client.get("/api/daily_papers?date=2024-11-28", **ORIGIN)
    again = client.get("/api/daily_papers?date=2024-11-28", HTTP_IF_NONE_MATCH=first["ETag"], **ORIGIN)
    assert again.status_code == 304 and again["Access-Control-Allow-Origin"] == "*"
    # An error of a public read is readable: the page can show why.
    missing = client.get("/api/papers/2411.99999", **ORIGIN)
    assert missing.status_code == 404 and missing["Access-Control-Allow-Origin"] == "*"
    assert "no paper" in missing.json()["error"]


def test_the_preflight_of_a_read_allows_reads_only(client, paper):
    response = _preflight(client, "/api/papers/search?q=parsing", "GET", "if-none-match")
    assert response.status_code == 204
    cors = _cors(response)
    assert cors["access-control-allow-origin"] == "*"
    assert cors["access-control-allow-methods"] == "GET, HEAD"
    assert "access-control-allow-credentials" not in cors
    allowed = {h.strip().lower() for h in cors["access-control-allow-headers"].split(",")}
    # A personal token is never sent from another site's page: the browser stops the request.
    assert "if-none-match" in allowed and "authorization" not in allowed
    assert "authorization" not in _cors(_preflight(client, f"/api/papers/{KEY}", "GET", "authorization")).get(
        "access-control-allow-headers", ""
    )


@pytest.mark.parametrize(
    "method, path",
    [
        ("POST", f"/api/papers/{KEY}/upvote"),
        ("DELETE", f"/api/papers/{KEY}/upvote"),
        ("POST", f"/api/papers/{KEY}/comment"),
        ("POST", "/api/papers/index"),
        ("GET", "/api/recommendations"),
        ("POST", "/api/daily_papers"),
    ],
)
def test_writes_and_personal_reads_get_no_preflight(client, paper, method, path):
    response = _preflight(client, path, method, "authorization, content-type")
    assert response.status_code == 405 and _cors(response) == {}


def test_writes_and_personal_reads_answer_without_cors_headers(client, paper):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens.create(user('reader'), 'script')[1]}"}
    voted = client.post(f"/api/papers/{KEY}/upvote", **auth, **ORIGIN)
    assert voted.status_code == 200 and _cors(voted) == {}
    mine = client.get("/api/recommendations", **auth, **ORIGIN)
    assert mine.status_code == 200 and _cors(mine) == {}
    # A page that posts with the reader's cookie still needs the CSRF token it cannot read.
    signed_in = Client(enforce_csrf_checks=True)
    signed_in.force_login(user("reader"))
    forged = signed_in.post(f"/api/papers/{KEY}/upvote", **ORIGIN)
    assert forged.status_code == 403 and _cors(forged) == {}


def test_the_open_endpoints_are_exactly_the_anonymous_reads():
    """Every GET in the OpenAPI document that needs no auth is open to other origins, and none
    that needs one: a new endpoint is sorted by its auth, not by remembering this list."""
    schema = api.get_openapi_schema()
    opened = set()
    for path, operations in schema["paths"].items():
        if "get" not in operations:
            continue
        url = re.sub(r"\{[^}]+\}", "2411.00851", path)
        name = resolve(url).url_name
        if not operations["get"].get("security"):
            opened.add(name)
        else:
            assert name not in PUBLIC_READS
    assert opened | {"openapi-json"} == PUBLIC_READS
