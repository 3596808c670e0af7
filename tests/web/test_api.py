"""The JSON API: Hugging Face's shapes, pagination, errors with the right status, upvotes."""

import json
import re
import sqlite3
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection

from paperroute.catalog.ingest import Importer
from paperroute.catalog.records import PaperRecord
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
    assert [a["name"] for a in item["paper"]["authors"]] == ["Ada Lovelace", "Alan Turing"]
    assert item["paper"]["githubRepo"] == "https://github.com/a/b"
    assert item["submittedBy"]["name"] == "hf-user"


@pytest.mark.django_db
def test_pagination_and_sorting(client):
    for i in range(5):
        add_paper(f"2411.{i + 310:05d}", f"P{i}", listed=date(2024, 11, 28), hf_upvotes=i)
    first = client.get("/api/daily_papers?date=2024-11-28&limit=2&sort=upvotes")
    assert [p["paper"]["id"] for p in first.json()] == ["2411.00314", "2411.00313"]
    assert first["X-Total-Count"] == "5" and "p=1" in first["Link"] and 'rel="next"' in first["Link"]
    last = client.get("/api/daily_papers?date=2024-11-28&limit=2&p=2&sort=upvotes")
    assert [p["paper"]["id"] for p in last.json()] == ["2411.00310"] and not last.has_header("Link")
    week = client.get("/api/daily_papers?week=2024-W48&sort=trending&limit=3").json()
    assert [p["paper"]["id"] for p in week] == ["2411.00314", "2411.00313", "2411.00312"]
    assert len(client.get("/api/daily_papers?month=2024-11&sort=publishedAt").json()) == 5


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, field",
    [
        ("date=2024-13-01", "date"),
        ("week=2024-W99", "week"),
        ("month=2024-1", "month"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("p=-1", "p"),
        ("sort=random", "sort"),
        ("limit=ten", "limit"),
        ("date=28.11.2024", "date"),
    ],
)
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
    from django.test import Client

    add_paper("2411.00320", listed=date(2024, 11, 28), hf_upvotes=2)
    # As a script sends them: no session, so Django's CSRF check is not skipped as in tests.
    script = Client(enforce_csrf_checks=True)
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer prt_wrong"}):
        for method in (script.post, script.delete):
            refused = method("/api/papers/2411.00320/upvote", **headers)
            assert refused.status_code == 401 and "token" in refused.json()["detail"]
    _, secret = tokens.create(user("api-user"), "script")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert client.post("/api/papers/2411.00320/upvote", **auth).json() == {"upvoted": True, "upvotes": 3}
    assert client.post("/api/papers/2411.00320/upvote", **auth).json() == {"upvoted": True, "upvotes": 3}
    assert client.delete("/api/papers/2411.00320/upvote", **auth).json() == {"upvoted": False, "upvotes": 2}
    assert client.post("/api/papers/9999.00001/upvote", **auth).status_code == 404
    settings.CONFIG = settings.CONFIG.replace(rate_votes="3/hour")
    limited = client.post("/api/papers/2411.00320/upvote", **auth)
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert "too many votes" in limited.json()["detail"]


@pytest.mark.django_db
def test_session_upvotes_need_the_csrf_token(reader_client):
    from django.test import Client

    add_paper("2411.00321", listed=date(2024, 11, 28))
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(reader_client.user)
    refused = strict.post("/api/papers/2411.00321/upvote")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert refused.json()["error"] == refused.json()["detail"] and refused.json()["error"]
    assert reader_client.post("/api/papers/2411.00321/upvote").json()["upvoted"] is True


@pytest.mark.django_db
def test_hostile_text_comes_back_as_data_not_markup(client):
    add_paper("2411.00322", f"T {HOSTILE}", authors=(HOSTILE,), listed=date(2024, 11, 28))
    body = client.get("/api/papers/2411.00322")
    assert body["Content-Type"] == "application/json; charset=utf-8"
    assert body.json()["title"] == f"T {HOSTILE}" and [a["name"] for a in body.json()["authors"]] == [HOSTILE]


def test_the_openapi_schema_is_served(client):
    schema = client.get("/api/openapi.json").json()
    assert {"/api/daily_papers", "/api/papers/search", "/api/papers/{paper_id}"} <= schema["paths"].keys()
    assert client.get("/api/docs").status_code == 200


@pytest.mark.django_db
def test_a_paper_id_in_the_schema_is_never_a_route_beside_the_paper_page(client):
    """GET /api/papers/search is the search, and /api/papers/index a POST: a client (or
    schemathesis) that trusted the schema and asked for the paper "search" got a 400 it was not
    promised. Every real id still fits."""
    schema = client.get("/api/openapi.json").json()
    (param,) = [
        p for p in schema["paths"]["/api/papers/{paper_id}"]["get"]["parameters"] if p["name"] == "paper_id"
    ]
    fits = re.compile(param["schema"]["pattern"]).match
    assert not fits("search") and not fits("index")
    ids = ["2411.00701", "hep-th/9901001", "seed:28d79dd3a848c329", "doi:10.1/x", "searches", "Search", "i"]
    assert all(fits(paper_id) for paper_id in ids)
    answer = client.get("/api/papers/search")  # the search (without q, the newest papers): a list
    assert answer.status_code == 200 and isinstance(answer.json(), list)
    assert client.get("/api/papers/2411.99999").status_code == 404


# --- Hugging Face compatibility (issue 13) ---------------------------------------------------------

ISO_Z = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"


@pytest.fixture
def arxiv(settings):
    """arXiv's query API replayed from recordings: arXiv itself is never asked."""
    from tests.community.arxiv_replay import respond
    from tests.replay import ReplayServer

    with ReplayServer(respond) as server:
        settings.CONFIG = settings.CONFIG.replace(arxiv_api_url=server.url + "/api/query")
        yield server


def token_for(name: str) -> dict:
    _, secret = tokens.create(user(name), "script")
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.mark.django_db
def test_items_have_every_field_hugging_faces_schema_requires(client):
    import re

    add_paper("2411.00401", listed=date(2024, 11, 28), hf_upvotes=1)
    item = client.get("/api/daily_papers?date=2024-11-28").json()[0]
    # The required fields of Hugging Face's OpenAPI item, its paper, author and user shapes.
    assert {
        "isAuthorParticipating",
        "numComments",
        "paper",
        "publishedAt",
        "submittedBy",
        "summary",
        "thumbnail",
        "title",
    } <= item.keys()
    assert {"id", "authors", "discussionId", "publishedAt", "summary", "title", "upvotes"} <= item[
        "paper"
    ].keys()
    # An author nobody has claimed has exactly the keys Hugging Face sends for one.
    assert set(HF[0]["paper"]["authors"][1]) == set(item["paper"]["authors"][0]) == {"_id", "name", "hidden"}
    # Each author has an id of its own (Hugging Face's are ObjectIds; ours name the author row).
    ids = [author["_id"] for author in item["paper"]["authors"]]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"a[0-9]+", i) for i in ids), ids
    assert {"_id", "avatarUrl", "fullname", "isPro", "name", "type"} <= item["submittedBy"].keys()
    assert item["isAuthorParticipating"] is False and isinstance(item["paper"]["discussionId"], str)
    assert item["thumbnail"].startswith("http")
    for value in (item["publishedAt"], item["paper"]["publishedAt"], item["paper"]["submittedOnDailyAt"]):
        assert re.match(ISO_Z, value), value
    assert item["paper"]["submittedOnDailyAt"] == "2024-11-28T00:00:00Z"
    assert item["submittedBy"]["name"] == item["submittedBy"]["user"] == "hf-user"


@pytest.mark.django_db
def test_the_default_sort_is_newest_first_as_on_hugging_face(client):
    from datetime import datetime

    for i, hour in enumerate((3, 9, 6)):
        add_paper(
            f"2411.{i + 410:05d}",
            listed=date(2024, 11, 28),
            hf_upvotes=10 - i,
            published=datetime(2024, 11, 27, hour, tzinfo=UTC),
        )
    ids = [p["paper"]["id"] for p in client.get("/api/daily_papers?date=2024-11-28").json()]
    assert ids == ["2411.00411", "2411.00412", "2411.00410"]
    by_votes = client.get("/api/daily_papers?date=2024-11-28&sort=upvotes").json()
    assert [p["paper"]["id"] for p in by_votes] == ["2411.00410", "2411.00411", "2411.00412"]


@pytest.mark.django_db
def test_submitter_filters_with_or_without_a_period(client, arxiv):
    add_paper("2411.00420", listed=date(2024, 11, 28), hf_upvotes=1)  # submitted by hf-user
    add_paper("2411.00421", listed=date(2024, 11, 27))
    client.post(
        "/api/papers/index", {"arxivId": "2606.13677"}, content_type="application/json", **token_for("alice")
    )
    assert [p["paper"]["id"] for p in client.get("/api/daily_papers?submitter=hf-user").json()] == [
        "2411.00420"
    ]
    assert client.get("/api/daily_papers?submitter=hf-user&date=2024-11-27").json() == []
    mine = client.get("/api/daily_papers?submitter=alice").json()
    assert [p["paper"]["id"] for p in mine] == ["2606.13677"]
    assert (
        mine[0]["submittedBy"]["name"] == "alice"
        and mine[0]["paper"]["submittedOnDailyBy"]["user"] == "alice"
    )


@pytest.mark.django_db
def test_trending_without_a_date_is_global(client):
    add_paper("2411.00430", listed=date(2024, 11, 20), hf_upvotes=50)
    add_paper("2411.00431", listed=date(2024, 11, 28), hf_upvotes=3)
    add_paper("2411.00432", listed=date(2024, 11, 28))
    ids = [p["paper"]["id"] for p in client.get("/api/daily_papers?sort=trending").json()]
    assert set(ids) == {"2411.00430", "2411.00431", "2411.00432"} and ids[-1] == "2411.00432"
    first = client.get("/api/daily_papers?sort=trending&limit=1")
    assert len(first.json()) == 1 and "p=1" in first["Link"]
    # With a date, only that day's papers.
    day = client.get("/api/daily_papers?sort=trending&date=2024-11-28").json()
    assert [p["paper"]["id"] for p in day] == ["2411.00431", "2411.00432"]


@contextmanager
def few_sql_values():
    """SQLite refuses a statement that names more values than its limit (32,766 in a stock build):
    a site whose month holds more papers than that is stood in for by a limit of 250 and a month
    of 300 papers. PostgreSQL has no such limit, and the test runs there as it is."""
    if connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    before = raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 250)
    try:
        yield
    finally:
        raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, before)


@pytest.mark.django_db
def test_trending_reads_only_the_page_asked_for(client):
    """Trending ranks a month's voted papers, then lists the others page by page, as the
    listing pages do: neither the month's first page nor a deep page of the global list reads
    every paper before it (one statement naming them all, on SQLite a 500 past its limit)."""
    add_paper("2411.00470", listed=date(2024, 11, 28), hf_upvotes=9)
    add_paper("2411.00471", listed=date(2024, 11, 20), hf_upvotes=4)
    at = datetime(2024, 11, 26, 18, tzinfo=UTC)
    Importer("jsonl").store(
        [
            PaperRecord(
                source="jsonl",
                position=str(n),
                title=f"Unvoted paper {n}",
                arxiv_id=f"2411.{n:05d}",
                abstract="Nobody voted on it.",
                authors=["Ada Lovelace"],
                categories=["cs.CL"],
                published=at + timedelta(minutes=n),
                version=1,
                versions={1: at + timedelta(minutes=n)},
                announced_on=date(2024, 11, 27),
            )
            for n in range(1000, 1300)
        ]
    )
    with few_sql_values():
        first = client.get("/api/daily_papers?month=2024-11&sort=trending&limit=3")
        deep = client.get("/api/daily_papers?month=2024-11&sort=trending&p=3&limit=100")
        everywhere = client.get("/api/daily_papers?sort=trending&p=3&limit=100")
    assert first["X-Total-Count"] == "302"
    # The voted papers by decayed votes, then the rest newest first.
    assert [p["paper"]["id"] for p in first.json()] == ["2411.00470", "2411.00471", "2411.01299"]
    assert [p["paper"]["id"] for p in deep.json()] == ["2411.01001", "2411.01000"]
    assert "Link" not in deep
    assert [p["paper"]["id"] for p in everywhere.json()] == ["2411.01001", "2411.01000"]
    assert "Link" not in everywhere


@pytest.mark.django_db
def test_search_takes_up_to_120_results(client):
    from paperroute import search

    for i in range(125):
        add_paper(f"2411.{i + 600:05d}", f"Quokka census number {i}")
    search.sync(embed=False)
    found = client.get("/api/papers/search?q=quokka&mode=lexical&limit=120")
    assert found.status_code == 200 and found["X-Total-Count"] == "125"
    assert len({item["paper"]["id"] for item in found.json()}) == 120
    assert client.get("/api/papers/search?q=quokka&limit=121").status_code == 400


# JavaScript's \s (ECMA-262), as OpenAPI reads a schema's patterns; Python's re and pydantic's
# regex (the server's) each read \s a little differently.
ECMA_SPACE = "[\t\n\v\f\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
PYTHON_SPACE = [chr(c) for c in range(0x3001) if chr(c).isspace()]
BLANK = [*PYTHON_SPACE, "\ufeff", " \x1e\t", "\x1c\x1d\x1f", "\ufeff\u3000"]
VISIBLE = ["a", "\x1ea", "\ufeffgraph", "é", "日本語", "x\x1f"]


def _read_as_python_and_javascript(pattern: str) -> list[re.Pattern]:
    javascript = pattern.replace("[\\s\\S]", "[\\x00-\\U0010ffff]").replace("\\s", ECMA_SPACE[1:-1])
    assert "\\S" not in javascript  # read here: \s, and [\s\S] for any character
    return [re.compile(pattern), re.compile(javascript)]


@pytest.mark.django_db
def test_a_search_without_words_lists_the_newest_papers(client):
    """huggingface_hub's list_papers() sends no q at all: it gets the newest papers, as
    /api/papers lists them, and so does a q with nothing visible in it to Python or to
    JavaScript. A q with words still searches."""
    from datetime import datetime

    for i in range(4):
        add_paper(f"2411.{i + 290:05d}", f"Paper {i}", published=datetime(2024, 11, 20 + i, tzinfo=UTC))
    newest = ["2411.00293", "2411.00292", "2411.00291", "2411.00290"]
    assert [p["id"] for p in client.get("/api/papers").json()] == newest
    for params in ({}, {"limit": "3"}, *({"q": text, "limit": "3"} for text in BLANK)):
        answer = client.get("/api/papers/search", params)
        assert answer.status_code == 200, (params, answer.content)
        wanted = newest[: int(params.get("limit", 20))]
        assert [item["paper"]["id"] for item in answer.json()] == wanted, params
    for text in VISIBLE:
        assert client.get("/api/papers/search", {"q": text, "mode": "lexical"}).status_code == 200


@pytest.mark.django_db
def test_the_schema_admits_exactly_the_comments_the_server_keeps(client):
    """As above for a comment's text, against what comments.clean_body keeps."""
    from paperroute.community.comments import InvalidInput, clean_body

    schema = client.get("/api/openapi.json").json()
    shape = schema["components"]["schemas"]["CommentIn"]["properties"]["comment"]
    engines = _read_as_python_and_javascript(shape["pattern"])
    for text in BLANK + VISIBLE:
        try:
            kept = bool(clean_body(text)) and text in VISIBLE
        except InvalidInput:
            kept = False
        assert [bool(engine.match(text)) for engine in engines] == [kept, kept], repr(text)


@pytest.mark.django_db
def test_all_papers_newest_first_by_cursor(client):
    from datetime import datetime

    for i in range(5):
        add_paper(f"2411.{i + 440:05d}", published=datetime(2024, 11, 20 + i, tzinfo=UTC))
    # Three papers of the same second: a page ends among them, and the next goes on from there.
    tied = [
        add_paper(f"2411.{i + 450:05d}", published=datetime(2024, 11, 22, 12, tzinfo=UTC)) for i in range(3)
    ]
    add_paper("seed:no-date")
    seen, url = [], "/api/papers?limit=2"
    while url:
        page = client.get(url)
        assert page.status_code == 200 and len(page.json()) <= 2
        seen += [p["id"] for p in page.json()]
        url = (
            page["Link"].split(">")[0].removeprefix("<").split("testserver")[-1]
            if page.has_header("Link")
            else ""
        )
        url = url[url.index("/api/") :] if url else ""
    ties = [p.key for p in sorted(tied, key=lambda p: -p.pk)]
    published = ["2411.00444", "2411.00443", *ties, "2411.00442", "2411.00441", "2411.00440"]
    assert sorted(seen) == sorted(published + ["seed:no-date"]) and len(seen) == 9
    assert [k for k in seen if k in published] == published
    assert client.get("/api/papers?cursor=1-1").json() == []
    assert client.get("/api/papers?cursor=99999999999999999999-9999999999999999999").status_code == 200
    assert client.get("/api/papers?cursor=abc").status_code == 400


@pytest.mark.django_db
def test_paper_info_with_comments_and_404_as_json(client):
    from paperroute.community import comments

    paper = add_paper("2411.00450", listed=date(2024, 11, 28))
    comments.add(user("carol"), paper, "First!")
    plain = client.get("/api/papers/2411.00450").json()
    assert "comments" not in plain and plain["numComments"] == 1
    detailed = client.get("/api/papers/2411.00450?field=comments&field=comments").json()
    assert [(c["author"]["name"], c["content"]) for c in detailed["comments"]] == [("carol", "First!")]
    assert client.get("/api/papers/2411.00450?field=nope").status_code == 400
    missing = client.get("/api/papers/2411.99999")
    assert missing.status_code == 404 and missing["Content-Type"].startswith("application/json")
    # The message where Hugging Face puts it, as well as where this API always did.
    assert missing.json()["error"] == missing.json()["detail"] and "'2411.99999'" in missing.json()["error"]
    for address in (
        "/api/papers/search?q=x&limit=500",
        "/api/no-such-thing",
        "/api/daily_papers?date=2024-02-30",
    ):
        body = client.get(address).json()
        assert body["error"] == body["detail"] and body["error"], address


@pytest.mark.django_db
def test_indexing_a_paper_is_the_submit_page_over_the_api(client, arxiv, settings):
    auth = token_for("alice")

    def post(arxiv_id, **kw):
        return client.post(
            "/api/papers/index",
            {"arxivId": arxiv_id},  # noqa: E731
            content_type="application/json",
            **{**auth, **kw},
        )

    assert (
        client.post(
            "/api/papers/index", {"arxivId": "2606.13677"}, content_type="application/json"
        ).status_code
        == 401
    )
    added = post("https://arxiv.org/abs/2606.13677v1")
    assert (
        added.status_code == 201
        and added.json()["title"] == "Mana: Dexterous Manipulation of Articulated Tools"
    )
    assert added.json()["submittedOnDailyBy"]["name"] == "alice"
    assert post("2606.13677").status_code == 200 and len(arxiv.requests) == 1
    assert post("not an id").status_code == 400
    unknown = post("2601.99999")
    assert unknown.status_code == 404 and "2601.99999" in unknown.json()["detail"]
    settings.CONFIG = settings.CONFIG.replace(rate_submissions="1/hour")
    assert post("2601.99998").status_code == 404  # the first in the hour's window
    limited = post("2601.99997")
    assert limited.status_code == 429 and "Retry-After" in limited


@pytest.mark.django_db
def test_comments_and_replies_over_the_api(client, settings):
    add_paper("2411.00460", listed=date(2024, 11, 28))
    auth = token_for("dave")
    url = "/api/papers/2411.00460/comment"
    assert client.post(url, {"comment": "hi"}, content_type="application/json").status_code == 401
    first = client.post(url, {"comment": " Nice <b>work</b> "}, content_type="application/json", **auth)
    assert first.status_code == 201 and first.json()["content"] == "Nice <b>work</b>"
    cid = first.json()["id"]
    reply = client.post(
        f"{url}/{cid}/reply", {"comment": "Thanks"}, content_type="application/json", **token_for("erin")
    )
    assert reply.status_code == 201 and reply.json()["replyTo"] == cid
    shown = client.get("/api/papers/2411.00460?field=comments").json()["comments"]
    assert [c["replyTo"] for c in shown] == [None, cid] and shown[1]["content"].endswith("Thanks")
    assert (
        client.post(
            f"{url}/999999/reply", {"comment": "x"}, content_type="application/json", **auth
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/api/papers/0000.00000/comment", {"comment": "x"}, content_type="application/json", **auth
        ).status_code
        == 404
    )
    assert client.post(url, {"comment": "   "}, content_type="application/json", **auth).status_code == 400
    settings.CONFIG = settings.CONFIG.replace(rate_comments="1/hour")
    limited = client.post(url, {"comment": "more"}, content_type="application/json", **auth)
    assert limited.status_code == 429 and "too many comments" in limited.json()["detail"]


@pytest.mark.django_db
def test_the_paper_page_as_markdown_is_safe(client):
    from markdown_it import MarkdownIt

    from paperroute.community import comments

    paper = add_paper(
        "2411.00470",
        f"Title {HOSTILE} [x](javascript:alert(1))",
        authors=(HOSTILE,),
        abstract="![img](javascript:alert(2)) <a href='javascript:x'>a</a> a@b.org",
        listed=date(2024, 11, 28),
        code="https://github.com/a/b",
    )
    comments.add(user("mallory"), paper, "[click](javascript:alert(3)) see https://example.org/x_y\n# Big")
    response = client.get("/papers/2411.00470.md")
    assert response.status_code == 200 and response["Content-Type"] == "text/markdown; charset=utf-8"
    text = response.content.decode()
    assert text.startswith("# Title ") and "## Abstract" in text and "mallory" in text
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(text)  # raw HTML on
    assert "<script" not in html and "<img" not in html and '<a href="javascript' not in html
    assert "javascript:" not in "".join(html.split('href="')[1:]).split('"')[0]
    hrefs = [part.split('"')[0] for part in html.split('href="')[1:]]
    assert hrefs and all(h.startswith(("http://", "https://")) for h in hrefs), hrefs
    assert "https://example.org/x_y" in hrefs and "https://github.com/a/b" in hrefs
    assert "<h1>" in html and html.count("<h1>") == 1  # the comment's "# Big" stays text
    assert client.get("/papers/2411.99999.md").status_code == 404


@pytest.mark.django_db
def test_a_comment_reads_the_same_in_the_markdown_page(client):
    """The words around a link keep their spaces, and a line that starts with a link or with a
    number and a dot stays a line of text."""
    from markdown_it import MarkdownIt

    from paperroute.community import comments

    paper = add_paper("2411.00471", listed=date(2024, 11, 28))
    body = "see http://example.com/a and more\nhttps://example.org/b first\n1. not a list, https://x.org/c"
    comments.add(user("ada"), paper, body)
    text = client.get("/papers/2411.00471.md").content.decode()
    html = MarkdownIt("commonmark").render(text)
    comment = html.split("<h3>", 1)[1].split("</h3>", 1)[1]
    assert "<ol>" not in comment and "<li>" not in comment
    assert re.sub(r"<[^>]+>", "", comment).strip() == body, comment
    assert comment.count('<a href="http') == 3


@pytest.mark.django_db
def test_hugging_face_submitters_go_by_username_and_show_their_name(client):
    """Hugging Face's `submitter` filter takes a username, and huggingface_hub reads the username
    from `user`; its page, like this site's, shows the full name."""
    from paperroute.catalog.ingest import Importer
    from paperroute.catalog.sources import hf_daily

    page = hf_daily.parse((FIXTURES / "hf_daily_papers/daily_papers_2026-07-31_30entries.json").read_bytes())
    assert not Importer("hf-daily").store(page.items).skipped
    items = client.get("/api/daily_papers?submitter=Consonnm&date=2026-07-31").json()
    assert "2607.23193" in [item["paper"]["id"] for item in items]
    who = next(item["submittedBy"] for item in items if item["paper"]["id"] == "2607.23193")
    assert (who["_id"], who["user"], who["name"], who["fullname"]) == (
        "hf:Consonnm",
        "Consonnm",
        "Consonnm",
        "Jinsen Su",
    )
    assert client.get("/api/daily_papers?submitter=Jinsen Su&date=2026-07-31").json() == []
    assert "Submitted by Jinsen Su" in client.get("/papers/2607.23193").content.decode()
    assert "Submitted by Jinsen Su" in client.get("/?date=2026-07-31").content.decode()


@pytest.mark.django_db
def test_a_paper_known_only_from_arxivs_listing_is_dated_by_its_announcement(client):
    """arXiv's RSS listing gives no submission time: such a paper's publishedAt is the day it was
    announced, so that a client has a date for it, and the newest-first order goes by that date."""
    from datetime import datetime

    from paperroute.catalog.ingest import Importer
    from paperroute.catalog.records import PaperRecord

    listed = PaperRecord(
        source="arxiv-rss",
        position="1",
        arxiv_id="2411.00460",
        title="Listed only",
        abstract="Known from the daily listing.",
        authors=["Ada Lovelace"],
        categories=["cs.CL"],
        announced_on=date(2024, 11, 28),
    )
    assert not Importer("arxiv-rss").store([listed]).skipped
    add_paper("2411.00461", listed=date(2024, 11, 28), published=datetime(2024, 11, 27, 9, tzinfo=UTC))
    add_paper("2411.00462", listed=date(2024, 11, 28), published=datetime(2024, 11, 29, 9, tzinfo=UTC))
    items = client.get("/api/daily_papers?date=2024-11-28").json()
    assert [(i["paper"]["id"], i["paper"]["publishedAt"]) for i in items] == [
        ("2411.00462", "2024-11-29T09:00:00Z"),
        ("2411.00460", "2024-11-28T00:00:00Z"),
        ("2411.00461", "2024-11-27T09:00:00Z"),
    ]
    assert items[1]["publishedAt"] == "2024-11-28T00:00:00Z"
    assert client.get("/api/papers/2411.00460").json()["publishedAt"] == "2024-11-28T00:00:00Z"
