"""The JSON API: Hugging Face's shapes, pagination, errors with the right status, upvotes."""

import json
from datetime import date

import pytest

from paperroute.community import tokens
from tests.community.helpers import HOSTILE, add_paper, user
from tests.conftest import FIXTURES

HF = json.loads((FIXTURES / "hf_daily_papers/daily_papers_2026-07-31_30entries.json").read_text())


@pytest.mark.django_db
def test_daily_papers_items_have_hugging_faces_shape(client):
    add_paper("2411.00301", "First", listed=date(2024, 11, 28), hf_upvotes=5, code="https://github.com/a/b")
    items = client.get("/api/daily_papers?date=2024-11-28").json()
    assert len(items) == 1
    item = items[0]
    # Every top-level field and paper field we share with HF has HF's name.
    assert {"paper", "publishedAt", "title", "summary", "numComments", "submittedBy"} <= HF[0].keys()
    assert {"paper", "publishedAt", "title", "summary", "numComments", "submittedBy"} <= item.keys()
    shared = {"id", "title", "summary", "authors", "publishedAt", "upvotes", "githubRepo"}
    assert shared <= HF[0]["paper"].keys() and shared <= item["paper"].keys()
    assert item["paper"]["id"] == "2411.00301" and item["paper"]["upvotes"] == 5
    assert item["paper"]["authors"] == [{"name": "Ada Lovelace"}, {"name": "Alan Turing"}]
    assert item["paper"]["githubRepo"] == "https://github.com/a/b"
    assert item["submittedBy"]["name"] == "hf-user"


@pytest.mark.django_db
def test_pagination_and_sorting(client):
    for i in range(5):
        add_paper(f"2411.{i + 310:05d}", f"P{i}", listed=date(2024, 11, 28), hf_upvotes=i)
    first = client.get("/api/daily_papers?date=2024-11-28&limit=2")
    assert [p["paper"]["id"] for p in first.json()] == ["2411.00314", "2411.00313"]
    assert first["X-Total-Count"] == "5" and 'p=1' in first["Link"] and 'rel="next"' in first["Link"]
    last = client.get("/api/daily_papers?date=2024-11-28&limit=2&p=2")
    assert [p["paper"]["id"] for p in last.json()] == ["2411.00310"] and not last.has_header("Link")
    week = client.get("/api/daily_papers?week=2024-W48&sort=trending&limit=3").json()
    assert [p["paper"]["id"] for p in week] == ["2411.00314", "2411.00313", "2411.00312"]
    assert len(client.get("/api/daily_papers?month=2024-11&sort=publishedAt").json()) == 5


@pytest.mark.django_db
@pytest.mark.parametrize("query, field", [
    ("date=2024-13-01", "date"), ("week=2024-W99", "week"), ("month=2024-1", "month"),
    ("limit=0", "limit"), ("limit=101", "limit"), ("p=-1", "p"), ("sort=random", "sort"),
    ("limit=ten", "limit"), ("date=28.11.2024", "date"),
])
def test_bad_parameters_are_400_with_the_field_named(client, query, field):
    response = client.get(f"/api/daily_papers?{query}")
    assert response.status_code == 400
    assert field in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["date=2024-02-30", "week=2021-W53", "month=0000-01"])
def test_a_well_formed_period_that_does_not_exist_is_404(client, query):
    response = client.get(f"/api/daily_papers?{query}")
    assert response.status_code == 404 and query.split("=")[0] in response.json()["detail"]


@pytest.mark.django_db
def test_the_narrowest_period_given_wins(client):
    add_paper("2411.00330", listed=date(2024, 11, 28))
    add_paper("2411.00331", listed=date(2024, 11, 26))
    both = client.get("/api/daily_papers?month=2024-11&date=2024-11-28").json()
    assert [p["paper"]["id"] for p in both] == ["2411.00330"]


@pytest.mark.django_db
def test_one_paper_by_id_including_old_style_ids(client):
    add_paper("hep-th/9901001", "Old style", listed=date(1999, 1, 5))
    assert client.get("/api/papers/hep-th/9901001").json()["title"] == "Old style"
    missing = client.get("/api/papers/0000.00000")
    assert missing.status_code == 404 and "0000.00000" in missing.json()["detail"]


@pytest.mark.django_db
def test_upvoting_needs_a_session_or_a_token_and_is_rate_limited(client, settings):
    add_paper("2411.00320", listed=date(2024, 11, 28), hf_upvotes=2)
    assert client.post("/api/papers/2411.00320/upvote").status_code == 401
    bad = client.post("/api/papers/2411.00320/upvote", HTTP_AUTHORIZATION="Bearer prt_wrong")
    assert bad.status_code == 401 and "token" in bad.json()["detail"]
    _, secret = tokens.create(user("api-user"), "script")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert client.post("/api/papers/2411.00320/upvote", **auth).json() == {"upvoted": True, "upvotes": 3}
    assert client.post("/api/papers/2411.00320/upvote", **auth).json() == {"upvoted": True, "upvotes": 3}
    assert client.delete("/api/papers/2411.00320/upvote", **auth).json() == {"upvoted": False, "upvotes": 2}
    assert client.post("/api/papers/9999.00001/upvote", **auth).status_code == 404
    settings.CONFIG = {**settings.CONFIG, "RATE_VOTES": "3/hour"}
    limited = client.post("/api/papers/2411.00320/upvote", **auth)
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert "too many votes" in limited.json()["detail"]


@pytest.mark.django_db
def test_session_upvotes_need_the_csrf_token(reader_client):
    from django.test import Client

    add_paper("2411.00321", listed=date(2024, 11, 28))
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(reader_client.user)
    assert strict.post("/api/papers/2411.00321/upvote").status_code in (401, 403)
    assert reader_client.post("/api/papers/2411.00321/upvote").json()["upvoted"] is True


@pytest.mark.django_db
def test_hostile_text_comes_back_as_data_not_markup(client):
    add_paper("2411.00322", f"T {HOSTILE}", authors=(HOSTILE,), listed=date(2024, 11, 28))
    body = client.get("/api/papers/2411.00322")
    assert body["Content-Type"] == "application/json; charset=utf-8"
    assert body.json()["title"] == f"T {HOSTILE}" and body.json()["authors"] == [{"name": HOSTILE}]


def test_the_openapi_schema_is_served(client):
    schema = client.get("/api/openapi.json").json()
    assert {"/api/daily_papers", "/api/papers/search", "/api/papers/{paper_id}"} <= schema["paths"].keys()
    assert client.get("/api/docs").status_code == 200
