"""The query syntax: phrases, exclusions, fields, years, and odd input that must not break it."""

from hypothesis import given
from hypothesis import strategies as st

from paperroute.search.query import MAX_QUERY_CHARS, parse


def test_free_text_phrases_and_exclusions():
    q = parse('speculative "draft model" decoding -vision -"image generation"')
    assert q.words == ["speculative", "decoding"]
    assert q.phrases == ["draft model"]
    assert q.excluded == ["vision", "image generation"]
    assert q.notes == []


def test_fields():
    q = parse('author:vaswani author:"Noam Shazeer" cat:cs.CL attention')
    assert q.authors == ["vaswani", "noam shazeer"]
    assert q.categories == ["cs.cl"]
    assert q.words == ["attention"]


def test_years():
    assert parse("year:2024").years == (2024, 2024)
    assert parse("year:2020..2023").years == (2020, 2023)
    assert parse("year:2023..2020").years == (2020, 2023)
    assert parse("year:2021..").years == (2021, None)
    bad = parse("year:soon llm")
    assert bad.years is None and bad.words == ["llm"]
    assert "year:2024" in bad.notes[0]


def test_year_zero_is_no_year():
    # The calendar starts at year 1: year:0000 made the search page fail with a 500.
    for text in ("year:0000", "year:0000..2020", "year:..0000"):
        q = parse(f"decoding {text}")
        assert q.years is None and q.words == ["decoding"] and "ignored year:" in q.notes[0], text


def test_a_filter_cannot_exclude_and_says_so():
    """-cat:, NOT cat: and -author: were read as cat: and author:, showing exactly the papers
    the reader wanted left out."""
    for text in ("-cat:cs.CL", "NOT cat:cs.CL", "-author:schölkopf", "-year:2024"):
        q = parse(f"decoding {text}")
        assert (q.categories, q.authors, q.years) == ([], [], None), text
        assert q.words == ["decoding"] and "cannot exclude" in q.notes[0], text


def test_unmatched_quote_is_searched_as_words_and_said():
    q = parse('"retrieval augmented')
    assert q.words == ["retrieval", "augmented"]
    assert q.notes == ["ignored the unmatched quote"]


def test_operators_and_engine_syntax_are_not_special():
    q = parse("tokens AND (merging OR pruning) NOT vision title:foo *")
    assert q.words == ["tokens", "merging", "pruning", "title:foo"]
    assert q.excluded == ["vision"]


def test_a_dash_inside_a_word_is_not_an_exclusion():
    q = parse("state-of-the-art - long-context")
    assert q.words == ["state-of-the-art", "long-context"]
    assert q.excluded == []


def test_bad_category_is_said():
    q = parse("cat:*** transformers")
    assert q.categories == [] and q.words == ["transformers"]
    assert "cat:" in q.notes[0]


def test_long_query_is_cut_and_said():
    q = parse("token " * 2000)
    assert len(" ".join(q.words)) <= MAX_QUERY_CHARS
    assert any("first" in note for note in q.notes)


PIECES = st.sampled_from(
    [
        '"',
        "-",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "AND",
        "OR",
        "NOT",
        "*",
        ":",
        "author:",
        "cat:",
        "year:",
        "..",
        "2024",
        "cs.CL",
        "token",
        "\\",
        "\x00",
        "é",
        " ",
        "  ",
        "\n",
        '-"',
        "year:20",
        "::",
        "'",
    ]
)


@given(st.one_of(st.text(max_size=200), st.lists(PIECES, max_size=40).map("".join)))
def test_parse_never_raises_and_keeps_only_plain_values(text):
    q = parse(text)
    for word in q.words + q.phrases + q.excluded:
        assert word and '"' not in word
    assert all(c == c.lower() for c in q.categories)
