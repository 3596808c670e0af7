"""What an agent reads of the MCP tools, through the official SDK's client connected in-process:
their descriptions and hints, and paging through a search as the site's search pages do."""

from datetime import date

import anyio
import pytest
from django.db import connections
from django.db.backends.signals import connection_created
from mcp import Client

from paperroute import search
from paperroute.catalog.models import Paper
from paperroute.community import tokens
from paperroute.library import follows
from paperroute.search import service
from paperroute.web import mcp_server
from tests.community.helpers import add_paper, user

pytestmark = pytest.mark.django_db(transaction=True)


def ask(work):
    """Run `work(client)` against the site's MCP server; close the connections the tools opened
    in the SDK's worker threads."""
    opened = []

    def keep(sender, connection, **kwargs):
        opened.append(connection)

    async def main():
        try:
            async with Client(mcp_server.build()) as client:
                return await work(client)
        finally:
            connections.close_all()

    connection_created.connect(keep)
    try:
        return anyio.run(main)
    finally:
        connection_created.disconnect(keep)
        # Those threads outlive the call, idle, with their connections open (CONN_MAX_AGE), and
        # PostgreSQL would not drop the test database while they are.
        for connection in opened:
            if connection.connection is not None:
                connection.connection.close()


def test_a_search_pages_through_every_paper_it_found():
    for n in range(1, 8):
        add_paper(f"2411.0080{n}", f"Speculative decoding, part {n}", listed=date(2024, 11, 28))
    search.sync(embed=False)

    async def pages(client):
        shown = []
        for page in range(4):
            args = {"query": "speculative decoding", "mode": "lexical", "limit": 3, "page": page}
            result = await client.call_tool("search_papers", args)
            assert not result.is_error, result.content
            shown.append(result.structured_content)
        return shown

    shown = ask(pages)
    assert [len(one["papers"]) for one in shown] == [3, 3, 1, 0]
    assert [one["more"] for one in shown] == [True, True, False, False]
    assert all(one["total"] == 7 for one in shown)
    ids = [p["id"] for one in shown for p in one["papers"]]
    assert sorted(ids) == [f"2411.0080{n}" for n in range(1, 8)]


def test_tools_read_as_prose_and_say_which_only_read():
    tools = {tool.name: tool for tool in ask(lambda client: client.list_tools()).tools}
    for tool in tools.values():
        # Docstrings' indentation is no part of what the model reads.
        assert "\n " not in tool.description and "  " not in tool.description, tool.description
    reading = {name for name, tool in tools.items() if tool.annotations and tool.annotations.read_only_hint}
    assert reading == set(tools) - {"upvote"}
    vote = tools["upvote"].annotations
    assert vote.read_only_hint is False and vote.idempotent_hint and vote.destructive_hint is False
    assert all(tool.annotations.open_world_hint is False for tool in tools.values())
    # An argument's description names no argument the tool has not (the JSON API's `sort` spoke
    # of its `submitter`), and daily_papers says what its default is not, with sort=trending.
    for tool in tools.values():
        for name, prop in tool.input_schema["properties"].items():
            assert "submitter" not in prop.get("description", ""), (tool.name, name)
    assert "trending without a period ranks what trends now" in tools["daily_papers"].description


def test_a_search_tells_the_agent_what_the_site_says_beside_the_results():
    """How the query was read, and a shorter one that finds papers: the site shows both, and an
    agent got neither, so it could not tell a cut query or a missing paper from no matches."""
    add_paper("2411.00801", "Speculative decoding with tiny drafts", listed=date(2024, 11, 28))
    search.sync(embed=False)

    async def answers(client):
        found = []
        for query in ("speculative decoding " * 60, "2411.99999", "speculative decoding zebrafish"):
            args = {"query": query, "mode": "lexical", "exact": True}
            result = await client.call_tool("search_papers", args)
            assert not result.is_error, result.content
            found.append(result.structured_content)
        return found

    cut, missing, fewer = ask(answers)
    assert "first 1,000 characters" in cut["notes"] and cut["papers"]
    assert missing["notes"] == "no paper with the arXiv id 2411.99999 is here" and not missing["papers"]
    assert fewer["fewer_words"] == "speculative decoding" and not fewer["papers"]
    assert fewer["index_behind"] is False


def test_a_category_and_a_cat_term_in_the_query_narrow_each_other():
    """`category` and a cat: in the query were either one, so a second filter widened the search:
    cs.CL with "decoding cat:cs.LG" gave the cs.CL and the cs.LG papers about decoding."""
    add_paper("2411.00801", "Speculative decoding", listed=date(2024, 11, 28), categories=("cs.CL",))
    add_paper("2411.00802", "Decoding graphs", listed=date(2024, 11, 28), categories=("cs.LG",))
    add_paper("2411.00803", "Decoding, learned", listed=date(2024, 11, 28), categories=("cs.CL", "cs.LG"))
    search.sync(embed=False)

    async def found(client):
        args = {"query": "decoding cat:cs.LG", "category": "cs.CL", "mode": "lexical"}
        result = await client.call_tool("search_papers", args)
        assert not result.is_error, result.content
        return result.structured_content

    answer = ask(found)
    assert [p["id"] for p in answer["papers"]] == ["2411.00803"] and answer["total"] == 1


def test_a_paper_is_found_by_the_link_or_doi_an_agent_holds():
    """An agent meets daily papers as Hugging Face links, and papers elsewhere by their DOIs; the
    search box finds a paper by either, but `paper` said "unknown paper" for a paper that is here."""
    add_paper("2411.00801", "Speculative decoding", listed=date(2024, 11, 28))
    add_paper("doi:10.1234/abc.5", "A paper only in a journal", listed=date(2024, 11, 28))
    Paper.objects.filter(key="doi:10.1234/abc.5").update(doi="10.1234/ABC.5")
    named = {
        "https://huggingface.co/papers/2411.00801": "2411.00801",
        "hf.co/papers/2411.00801": "2411.00801",
        "arxiv.org/abs/2411.00801v1": "2411.00801",
        "10.48550/arXiv.2411.00801": "2411.00801",
        "https://doi.org/10.1234/abc.5": "doi:10.1234/abc.5",
        "10.1234/ABC.5": "doi:10.1234/abc.5",
    }

    async def look(client):
        answers = {}
        for id, _ in named.items():
            for tool in ("paper", "related_papers"):
                result = await client.call_tool(tool, {"id": id})
                assert not result.is_error, (tool, id, result.content)
                answers[tool, id] = result.structured_content["id"]
        missing = await client.call_tool("paper", {"id": "https://huggingface.co/papers/2411.99999"})
        return answers, missing

    answers, missing = ask(look)
    assert answers == {(tool, id): key for id, key in named.items() for tool in ("paper", "related_papers")}
    assert missing.is_error and "unknown paper" in missing.content[0].text


def test_no_recommendations_say_why():
    """An empty "For you" list read to an agent as "no papers that day", where the site says the
    reader has given it nothing to go on yet, and what it learns from."""
    add_paper("2411.00801", "Graph networks", listed=date(2024, 11, 28), authors=("Grace Hopper",))
    add_paper("2411.00701", "Analytical engines", listed=date(2024, 11, 20), authors=("Ada Lovelace",))
    reader = user("reader")
    secret = tokens.create(reader, "agent")[1]
    arguments = {"token": secret, "date": "2024-11-28"}

    def picks():
        async def work(client):
            result = await client.call_tool("recommendations", arguments)
            assert not result.is_error, result.content
            return result.structured_content

        return ask(work)

    blank = picks()
    assert blank["papers"] == [] and "learns from the papers you save and upvote" in blank["notes"]
    follows.follow(reader, "author", "Ada Lovelace")
    assert "no paper of this period is near what you" in picks()["notes"]
    follows.follow(reader, "author", "Grace Hopper")
    found = picks()
    assert [p["paper"]["id"] for p in found["papers"]] == ["2411.00801"] and found["notes"] is None


def test_related_papers_say_when_the_index_cannot_answer(settings, tmp_path):
    """Before the worker has built the search index, related_papers answered an empty list, which
    an agent reads as "nothing like it"; the search says why in `notes`, and now it does too."""
    settings.DATA_DIR = tmp_path
    service._indexes.clear()
    add_paper("2411.00801", "Speculative decoding", listed=date(2024, 11, 28))
    add_paper("2411.00802", "Speculative decoding with drafts", listed=date(2024, 11, 28))

    async def near(client):
        result = await client.call_tool("related_papers", {"id": "2411.00801"})
        assert not result.is_error, result.content
        return result.structured_content

    try:
        missing = ask(near)
        search.sync(embed=False)
        found = ask(near)
    finally:
        service._indexes.clear()
    assert missing["papers"] == [] and "search index has not been built yet" in missing["notes"]
    assert [p["id"] for p in found["papers"]] == ["2411.00802"] and found["notes"] is None
