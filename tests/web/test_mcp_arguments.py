"""What an agent sends the MCP tools, through the official SDK's client connected in-process: the
bounds each input schema publishes in tools/list are the ones the tools keep, and a bad argument
gets one line that names it, says what came and what would do."""

from datetime import date

import pytest

from paperroute.community import tokens
from tests.community.helpers import add_paper, user
from tests.web.test_mcp_tools import ask

pytestmark = pytest.mark.django_db(transaction=True)

# What each tool needs to run at all, besides the argument under test.
NEEDS = {"search_papers": {"query": "decoding"}, "paper": {"id": "2411.00801"}}
NEEDS["related_papers"] = NEEDS["upvote"] = NEEDS["paper"]
# For each pattern a schema publishes: a value it takes, and ones it refuses.
DAY = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
PATTERNS = {
    DAY: ("2024-11-28", ["28/11/2024", "2024-11-28T09:00", "2024-13-01", ""]),
    "^[0-9]{4}-W(0[1-9]|[1-4][0-9]|5[0-3])$": ("2024-W48", ["2024-W54", "2024W48", "2024-48"]),
    "^[0-9]{4}-(0[1-9]|1[0-2])$": ("2024-11", ["2024-13", "2024-11-28", "11/2024"]),
    "^[^\\x00-\\x1f\\x7f]+$": ("arXiv:2411.00801v2", ["2411.00801\x00", "2411.\n00801", ""]),
    "[^\\s\\x00-\\x1f\\x7f\\x85\\ufeff]": ("décodage 解码", ["", "   ", "\t\n", "\ufeff", "\x00"]),
}


def calls(*attempts):
    """Each (tool, arguments)'s result: (is_error, its text)."""

    async def work(client):
        answers = []
        for name, arguments in attempts:
            result = await client.call_tool(name, arguments)
            answers.append((result.is_error, result.content[0].text if result.content else ""))
        return answers

    return ask(work)


def refused_for(answer, name: str) -> bool:
    """Whether the call was refused for this argument (rather than run, or refused later for
    something else, such as the missing token of a reader's tool)."""
    failed, text = answer
    return failed and any(
        line.startswith((f"{name} must be ", f"{name} is required")) for line in text.split("\n")
    )


def test_a_bad_argument_gets_one_line_saying_what_came_and_what_would_do():
    """The SDK's pydantic report ran to four lines for each argument, with a link to pydantic's
    site and the model's internal name (`search_papersArguments`), and nothing about bounds."""
    add_paper("2411.00801", "Speculative decoding", listed=date(2024, 11, 28))
    secret = tokens.create(user("reader"), "agent")[1]
    answers = calls(
        ("search_papers", {"query": "decoding", "limit": "ten"}),
        ("search_papers", {"query": "decoding", "page": -1}),
        ("search_papers", {"query": 5}),
        ("search_papers", {}),
        ("search_papers", {"query": "decoding", "limit": True}),
        ("search_papers", {"query": "decoding", "mode": "fast", "limit": 0, "since": "yesterday"}),
        ("daily_papers", {"sort": "best"}),
        ("paper", {"id": "x" * 5000}),
        ("upvote", {"id": "2411.00801", "upvoted": "maybe"}),
        ("my_library", {"token": secret + "x" * 200}),
    )
    texts = [text for _, text in answers]
    assert all(failed for failed, _ in answers), answers
    assert texts[:5] == [
        'limit must be a whole number from 1 to 100 (got "ten")',
        "page must be a whole number from 0 to 999 (got -1)",
        "query must be text with something besides spaces in it, at most 10,000 characters (got 5)",
        "query is required: text with something besides spaces in it, at most 10,000 characters",
        "limit must be a whole number from 1 to 100 (got true)",
    ]
    # One line for each bad argument.
    assert texts[5].split("\n") == [
        'mode must be one of "hybrid", "lexical" or "semantic" (got "fast")',
        'since must be a date as YYYY-MM-DD (got "yesterday")',
        "limit must be a whole number from 1 to 100 (got 0)",
    ]
    assert texts[6] == 'sort must be one of "publishedAt", "trending" or "upvotes" (got "best")'
    # A long value is cut short.
    assert texts[7].startswith("id must be a paper's id such as 2411.17700") and len(texts[7]) < 250
    assert texts[7].endswith('(got "' + "x" * 50 + '…" (5,000 characters))')
    assert texts[8] == 'upvoted must be true or false (got "maybe")'
    # The reader's secret is never repeated back.
    assert texts[9] == "token must be text of at most 200 characters" and secret not in texts[9]


def test_a_number_or_a_yes_sent_as_text_is_refused():
    """`limit: "5"` ran as 5 and `upvoted: "false"` withdrew the vote: the schema says integer and
    boolean, and a client that sends text has a bug it was never told of."""
    add_paper("2411.00801", "Speculative decoding", listed=date(2024, 11, 28))
    secret = tokens.create(user("reader"), "agent")[1]
    answers = calls(
        ("search_papers", {"query": "decoding", "limit": "5"}),
        ("search_papers", {"query": "decoding", "page": "0", "exact": "true"}),
        ("related_papers", {"id": "2411.00801", "limit": "3"}),
        ("paper", {"id": "2411.00801", "comments": 1}),
        ("upvote", {"id": "2411.00801", "token": secret, "upvoted": "false"}),
        ("daily_papers", {"limit": "10"}),
        ("recommendations", {"token": secret, "limit": "10"}),
    )
    assert [text for _, text in answers] == [
        'limit must be a whole number from 1 to 100 (got "5")',
        'exact must be true or false (got "true")\npage must be a whole number from 0 to 999 (got "0")',
        'limit must be a whole number from 1 to 100 (got "3")',
        "comments must be true or false (got 1)",
        'upvoted must be true or false (got "false")',
        'limit must be a whole number from 1 to 100 (got "10")',
        'limit must be a whole number from 1 to 100 (got "10")',
    ]
    assert all(failed for failed, _ in answers)
    # A JSON number with nothing after the point is a whole number.
    [(failed, text)] = calls(("search_papers", {"query": "decoding", "limit": 5.0, "exact": True}))
    assert not failed, text


def test_an_argument_no_tool_has_is_refused_not_ignored():
    """A misspelt `limt` (or `sort_by`) was dropped without a word: the agent got 20 papers and
    could not tell that its argument did nothing."""
    add_paper("2411.00801", "Speculative decoding", listed=date(2024, 11, 28))
    (failed, text), (mixed, both) = calls(
        ("search_papers", {"query": "decoding", "limt": 5}),
        ("daily_papers", {"sort_by": "upvotes", "page": -1}),
    )
    assert failed and text == (
        'search_papers has no argument "limt": it takes query, mode, since, until, category, limit, '
        "exact and page"
    )
    assert mixed and both.startswith('daily_papers has no argument "sort_by"')

    async def schemas(client):
        return [tool.input_schema for tool in (await client.list_tools()).tools]

    assert all(schema["additionalProperties"] is False for schema in ask(schemas))


def test_every_bound_in_tools_list_is_the_bound_the_tool_keeps():
    """Read the input schemas as a client does, and send each argument a value just inside and
    just outside every bound they publish: the schemas carried no bounds at all (no limit of
    100, no date form), so a client could not check a call before making it."""
    add_paper("2411.00801", "Speculative decoding", listed=date(2024, 11, 28))

    async def schemas(client):
        return {tool.name: tool.input_schema for tool in (await client.list_tools()).tools}

    inside, outside = [], []
    for tool, schema in ask(schemas).items():
        base = NEEDS.get(tool, {})
        assert set(schema.get("required", [])) <= set(base), tool
        for name, prop in schema["properties"].items():
            value = next(arm for arm in prop.get("anyOf", [prop]) if arm.get("type") != "null")
            good, bad = _values(value)
            assert good or value["type"] == "boolean", (tool, name, value)  # every argument is bounded
            inside += [(tool, name, {**base, name: v}) for v in good]
            outside += [(tool, name, {**base, name: v}) for v in bad]
            if name in base:
                outside.append((tool, name, {k: v for k, v in base.items() if k != name}))

    answers = calls(*[(tool, arguments) for tool, _, arguments in inside + outside])
    for (tool, name, arguments), answer in zip(inside, answers[: len(inside)], strict=True):
        assert not refused_for(answer, name), (tool, arguments, answer)
    for (tool, name, arguments), answer in zip(outside, answers[len(inside) :], strict=True):
        assert refused_for(answer, name), (tool, arguments, answer)


def _values(schema: dict) -> tuple[list, list]:
    """Values just inside and just outside the bounds of one argument's JSON schema."""
    good, bad = [], []
    if "enum" in schema:
        good, bad = list(schema["enum"]), ["", "x", schema["enum"][0].upper()]
    elif schema["type"] == "integer":
        low, high = schema["minimum"], schema["maximum"]
        good, bad = [low, high, float(high)], [low - 1, high + 1, 10**30, 1.5, True, str(low)]
    elif schema["type"] == "string":
        pattern = schema.get("pattern")
        taken, refused = PATTERNS[pattern] if pattern else ("a", [])
        good, bad = [taken], list(refused)
        if "maxLength" in schema:
            high = schema["maxLength"]
            good.append((taken * high)[:high] if pattern != DAY else taken)
            bad.append((taken * (high + 1))[: high + 1])
        if schema.get("minLength"):
            bad.append("")
        if schema.get("format") == "date":
            bad.append("2024-02-30")  # the form of a date, but no day
        bad.append(7)
    elif schema["type"] == "boolean":
        good, bad = [True, False], ["maybe", 2, [True], "true", "false", 1, 0]
    return good, bad
