"""`paperroute mcp`, driven by the official MCP SDK's own client over stdio and streamable HTTP:
every tool answers what the site itself shows (its API, its CLI, its database)."""

import json
import sys
from datetime import UTC, date, datetime

import anyio
import httpx2  # the HTTP client the mcp SDK itself depends on
import pytest
from django.conf import settings
from django.db import connections
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from paperroute import search
from paperroute.community import comments, tokens, votes
from paperroute.library import follows, shelf
from tests.community.helpers import add_paper, user
from tests.conftest import ROOT, start_server, stop_server
from tests.support import free_port

pytestmark = pytest.mark.slow


TOOLS = {
    "search_papers",
    "daily_papers",
    "paper",
    "related_papers",
    "my_library",
    "recommendations",
    "upvote",
}
DAY = "2024-11-28"
MCP_CALLS = 40  # tool calls a day for each client over HTTP: exercise() makes fewer


@pytest.fixture
def site(cli, cli_env):
    """A few papers with the keyword index built, and a reader with a token and a saved paper."""
    spec = add_paper(
        "2411.00801",
        "Speculative decoding for fast inference",
        listed=date(2024, 11, 28),
        hf_upvotes=7,
        abstract="We accelerate inference with speculative decoding.",
        code="https://github.com/a/spec",
        published=datetime(2024, 11, 26, 9, tzinfo=UTC),
    )
    add_paper(
        "2411.00802",
        "Graph networks for molecules",
        listed=date(2024, 11, 28),
        abstract="Molecular property prediction with graph networks.",
        authors=("Grace Hopper",),
        published=datetime(2024, 11, 26, 15, tzinfo=UTC),
    )
    add_paper(
        "2411.00803",
        "Decoding with a tiny draft model",
        listed=date(2024, 11, 20),
        hf_upvotes=2,
        abstract="Speculative decoding with a small draft model.",
        published=datetime(2024, 11, 18, 12, tzinfo=UTC),
    )
    comments.add(user("bob"), spec, "Nice paper")
    reader = user("reader")
    shelf.add(reader, spec, note="read this week")
    follows.follow(reader, "author", "Grace Hopper")  # so that "For you" has something to pick
    _, secret = tokens.create(reader, "agent")
    # The MCP server's index (in its own data directory) and this process's, which the API
    # calls below read: web requests never build one.
    assert cli("index", "sync", "--no-embed", "--quiet").returncode == 0
    search.sync(embed=False)
    # Links in answers lead to the site this test process knows, as the API's do.
    env = {
        **cli_env,
        "PAPERROUTE_SITE_URL": settings.CONFIG.site_url,
        "PAPERROUTE_RATE_VOTES": "3/day",
        "PAPERROUTE_RATE_MCP": f"{MCP_CALLS}/day",
    }
    return {"env": env, "secret": secret, "reader": reader}


def call(client, name: str, **arguments):
    """A tool's structured answer; fails the test when the tool reports an error."""

    async def go():
        result = await client.call_tool(name, arguments)
        assert not result.is_error, result.content
        return result.structured_content

    return go()


async def error_of(client, name: str, **arguments) -> str:
    result = await client.call_tool(name, arguments)
    assert result.is_error, result.structured_content
    return result.content[0].text


async def exercise(client, api, cli, auth: dict, secret: str) -> None:
    """List the tools and call each one, checking the answers against the site's."""
    assert {tool.name for tool in (await client.list_tools()).tools} == TOOLS

    found = await call(client, "search_papers", query="speculative decoding", mode="lexical")
    shown = api("/api/papers/search?q=speculative+decoding&mode=lexical&limit=20")
    assert [p["id"] for p in found["papers"]] == [item["paper"]["id"] for item in shown]
    assert found["papers"][0]["title"] == shown[0]["paper"]["title"]
    dated = await call(client, "search_papers", query="decoding", mode="lexical", since=DAY)
    assert [p["id"] for p in dated["papers"]] == ["2411.00801"]
    assert "since" in await error_of(client, "search_papers", query="x", since="yesterday")

    daily = await call(client, "daily_papers", date=DAY, sort="upvotes")
    assert daily["papers"] == [item["paper"] for item in api(f"/api/daily_papers?date={DAY}&sort=upvotes")]
    assert daily["total"] == 2 and daily["more"] is False
    weekly = await call(client, "daily_papers", week="2024-W48")
    assert weekly["papers"] == [item["paper"] for item in api("/api/daily_papers?week=2024-W48")]
    monthly = await call(client, "daily_papers", month="2024-11", sort="trending")
    assert monthly["papers"] == [
        item["paper"] for item in api("/api/daily_papers?month=2024-11&sort=trending")
    ]
    assert len(monthly["papers"]) == 3
    assert "YYYY-MM-DD" in await error_of(client, "daily_papers", date="28/11/2024")
    assert "2024-02-30" in await error_of(client, "daily_papers", date="2024-02-30")

    detail = await call(client, "paper", id="2411.00801", comments=True)
    assert detail == api("/api/papers/2411.00801?field=comments")
    assert detail["summary"].startswith("We accelerate") and detail["githubRepo"]
    assert detail["comments"][0]["content"] == "Nice paper"
    assert "unknown paper" in await error_of(client, "paper", id="2401.99999")

    near = await call(client, "related_papers", id="2411.00801", limit=2)
    expected = json.loads(cli("related", "2411.00801", "--limit", "3", "--json").stdout)
    assert near["papers"], "the draft-model paper shares words with it"
    assert [p["id"] for p in near["papers"]] == [h["id"] for h in expected if h["id"] != "2411.00801"][:2]
    assert "unknown paper" in await error_of(client, "related_papers", id="2401.99999")
    # No id holds a NUL (PostgreSQL refused the lookup outright): the schema says so, and the tool.
    for tool, token in (("paper", {}), ("related_papers", {}), ("upvote", auth)):
        assert "no control characters" in await error_of(client, tool, id="2411.00801\x00", **token)
    assert (await call(client, "search_papers", query="10.1234/ab\x00c"))["papers"] == []

    if auth:  # over HTTP the header is always sent; the anonymous client checks it is needed
        assert "API token" in await error_of(client, "my_library")
        assert "bad token" in await error_of(client, "my_library", token="prt_nonsense")
    library = await call(client, "my_library", **auth)
    assert library["user"] == "reader"
    saved = library["collections"][0]
    assert saved["saved"] and saved["count"] == 1
    assert [(i["note"], i["paper"]["id"]) for i in saved["items"]] == [("read this week", "2411.00801")]

    picks = await call(client, "recommendations", date=DAY, **auth)
    assert picks["papers"] and picks["papers"] == api(f"/api/recommendations?date={DAY}", secret)
    assert "2024-02-30" in await error_of(client, "recommendations", date="2024-02-30", **auth)

    voted = await call(client, "upvote", id="2411.00802", **auth)
    assert voted == {"id": "2411.00802", "upvoted": True, "upvotes": api("/api/papers/2411.00802")["upvotes"]}
    assert votes.has_voted(user("reader"), _paper("2411.00802"))
    assert (await call(client, "upvote", id="2411.00802", upvoted=False, **auth))["upvoted"] is False
    assert "unknown paper" in await error_of(client, "upvote", id="2401.99999", **auth)
    # PAPERROUTE_RATE_VOTES is 3/day: the fourth vote (the unknown paper's never counted) is refused.
    await call(client, "upvote", id="2411.00803", **auth)
    assert "rate limited" in await error_of(client, "upvote", id="2411.00801", **auth)


def _paper(key):
    from paperroute.catalog.models import Paper

    return Paper.objects.get(key=key)


@pytest.fixture
def api(client, monkeypatch):
    """GET from the site's JSON API, as an anonymous reader or with a token."""
    # Called between the client's awaits: the test client and the ORM run in the event loop's thread.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    def get(path: str, secret: str = ""):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
        response = client.get(path, **headers)
        assert response.status_code == 200, response.content
        return response.json()

    return get


def run(main) -> None:
    """Run the client; close the connections the ORM opened inside its event loop (asgiref gives
    the loop's code connections of its own), or PostgreSQL cannot drop the test database."""

    async def closing():
        try:
            await main()
        finally:
            connections.close_all()

    anyio.run(closing)


def test_stdio(site, api, cli):
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "paperroute", "mcp"], env=site["env"], cwd=str(ROOT)
    )

    async def main():
        async with Client(params, read_timeout_seconds=120) as client:
            await exercise(client, api, cli, {"token": site["secret"]}, site["secret"])

    run(main)


@pytest.mark.parametrize(
    "command",
    [
        ("serve", "--workers", "1", "--no-worker"),  # /mcp in the site's own web server
        ("mcp", "--http"),  # a server of its own
    ],
    ids=["site", "standalone"],
)
def test_streamable_http(site, api, cli, command):
    port = free_port()
    server = start_server(*command, "--port", str(port), env=site["env"], port=port)
    try:
        url = f"http://127.0.0.1:{port}/mcp"

        async def main():
            # The token travels as HTTP clients send it: in the Authorization header.
            headers = {"Authorization": f"Bearer {site['secret']}"}
            async with (
                httpx2.AsyncClient(headers=headers, timeout=120) as http,
                Client(streamable_http_client(url, http_client=http)) as client,
            ):
                await exercise(client, api, cli, {}, site["secret"])
                # The reader's calls run out within the day's allowance, with a clear error.
                answers = [await client.call_tool("paper", {"id": "2411.00801"})]
                while not answers[-1].is_error and len(answers) <= MCP_CALLS:
                    answers.append(await client.call_tool("paper", {"id": "2411.00801"}))
                assert len(answers) < MCP_CALLS, "exercise() made some of the day's calls"
                assert "rate limited: too many MCP tool calls" in answers[-1].content[0].text
            # A client without a token counts by its address: its own allowance.
            async with Client(url) as anonymous:
                assert "API token" in await error_of(anonymous, "upvote", id="2411.00801")
                assert (await call(anonymous, "paper", id="2411.00801"))["id"] == "2411.00801"
                # The token as the tool's argument counts for its reader too, whose allowance is spent.
                assert "rate limited" in await error_of(anonymous, "my_library", token=site["secret"])
            bad = {"Authorization": "Bearer prt_nonsense"}
            async with (
                httpx2.AsyncClient(headers=bad, timeout=120) as http,
                Client(streamable_http_client(url, http_client=http)) as client,
            ):
                assert "bad token" in await error_of(client, "my_library")

        run(main)
    finally:
        stop_server(server)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "head", "put"])
def test_only_posts_reach_the_mcp_endpoint(client, method):
    """A GET asked the SDK for a stream a stateless server never ends, holding a web thread for
    good; uptime monitors send HEAD, which the site answers as GET. Both get 405 at once."""
    response = getattr(client, method)("/mcp", HTTP_ACCEPT="*/*")
    assert response.status_code == 405 and "POST" in response["Allow"]
