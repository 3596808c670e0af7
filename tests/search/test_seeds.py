"""Search over the 45 seed papers with the real embedding model."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperroute import search
from tests.search.conftest import titles

pytestmark = pytest.mark.django_db

SPECULATIVE = {
    "Lookahead: An Inference Acceleration Framework for Large Language Model with Lossless Generation Accuracy",
    "DySpec: Faster Speculative Decoding with Dynamic Token Tree Structure",
    "Adaptive Draft-Verification for Efficient Large Language Model Decoding",
    "Turning Trash into Treasure: Accelerating Inference of Large Language Models with Token Recycling",
}

# Paraphrases that share few or no words with the paper they describe.
PARAPHRASES = [
    ("guess several tokens and verify them to speed up decoding", SPECULATIVE),
    (
        "keep the first tokens cached so a chatbot can run on endless streams of text",
        {"Efficient Streaming Language Models with Attention Sinks"},
    ),
    (
        "evaluation suite for natural language understanding in Korean",
        {"KLUE: Korean Language Understanding Evaluation"},
    ),
    (
        "how well do LLMs follow threads of information through very long contexts",
        {"Needle Threading: Can LLMs Follow Threads through Near-Million-Scale Haystacks?"},
    ),
    (
        "linear-complexity attention derived from network flow conservation",
        {"Flowformer: Linearizing Transformers with Conservation Flows"},
    ),
    (
        "complete code several tokens at a time using syntax structure and identifier names",
        {"CodeFill: Multi-token Code Completion by Jointly Learning from Structure and Naming Sequences"},
    ),
    (
        "pair spreadsheet columns with terms from a company's vocabulary",
        {"Matching Table Metadata with Business Glossaries Using Large Language Models"},
    ),
    (
        "let a pretrained model switch to a new vocabulary without retraining it",
        {
            "Zero-Shot Tokenizer Transfer",
            "Trans-Tokenization and Cross-lingual Vocabulary Transfers: Language Adaptation of LLMs for Low-Resource NLP",
            "Achieving Tokenizer Flexibility in Language Models through Heuristic Adaptation and Supertoken Learning",
            "Retrofitting (Large) Language Models with Dynamic Tokenization",
        },
    ),
]


def test_the_index_holds_every_seed_embedded(seeds):
    assert seeds.papers == 45 and seeds.embedded == 45 and seeds.pending == 0


@pytest.mark.parametrize("mode", ["hybrid", "semantic"])
@pytest.mark.parametrize("query,expected", PARAPHRASES, ids=[q[:30] for q, _ in PARAPHRASES])
def test_paraphrases_find_the_right_paper_in_the_top_3(seeds, mode, query, expected):
    top = titles(search.search(query, mode=mode, limit=3))
    assert set(top) & expected, top
    if len(expected) >= 3:
        assert len(set(top) & expected) >= 2, top


def test_lexical_ranks_title_words_first(seeds):
    results = search.search("attention sinks streaming", mode="lexical", limit=5)
    assert titles(results)[0] == "Efficient Streaming Language Models with Attention Sinks"
    assert results.total >= 1 and results.mode == "lexical"


def test_a_phrase_must_appear_and_an_excluded_word_must_not(seeds):
    with_phrase = search.search('"speculative decoding"', mode="lexical", limit=20)
    assert with_phrase.hits
    for title, hit in zip(titles(with_phrase), with_phrase.hits):
        assert "speculative decoding" in (title + " " + hit.snippet).lower() or hit.highlights
    without = search.search('"speculative decoding" -dyspec', mode="lexical", limit=20)
    assert "DySpec: Faster Speculative Decoding with Dynamic Token Tree Structure" in titles(with_phrase)
    assert "DySpec: Faster Speculative Decoding with Dynamic Token Tree Structure" not in titles(without)
    assert len(without.hits) == len(with_phrase.hits) - 1


@pytest.mark.parametrize("mode", ["hybrid", "semantic"])
def test_exclusions_apply_to_the_semantic_side_too(seeds, mode):
    everything = titles(search.search("speed up decoding of language models", mode=mode, limit=45))
    assert "DySpec: Faster Speculative Decoding with Dynamic Token Tree Structure" in everything
    excluded = titles(search.search("speed up decoding of language models -tree", mode=mode, limit=45))
    assert "DySpec: Faster Speculative Decoding with Dynamic Token Tree Structure" not in excluded
    assert excluded  # the rest is still there


def test_snippets_highlight_the_query_words(seeds):
    hit = search.search("attention sinks", mode="lexical", limit=1).hits[0]
    marked = [hit.snippet[a:b].lower() for a, b in hit.highlights]
    assert marked and set(marked) <= {"attention", "sink", "sinks"}
    assert "<" not in hit.snippet or "&lt;" not in hit.snippet  # plain text, escaped by callers
    assert hit.title_highlights


def test_paging_returns_the_next_results(seeds):
    first = search.search("token", mode="hybrid", limit=5)
    second = search.search("token", mode="hybrid", limit=5, offset=5)
    assert len(first.hits) == len(second.hits) == 5
    assert not {h.key for h in first.hits} & {h.key for h in second.hits}
    assert first.total == second.total >= 10


def test_related_papers_are_about_the_same_thing(seeds):
    from paperroute.catalog.models import Paper

    key = Paper.objects.get(title__startswith="DySpec").key
    related = titles(search.related(key, limit=3))
    assert len(related) == 3 and not any(t.startswith("DySpec") for t in related)
    assert set(related) & SPECULATIVE


def test_related_to_an_unknown_paper_says_so(seeds):
    with pytest.raises(search.SearchError, match="no paper"):
        search.related("9999.99999")


def test_empty_query_asks_for_words(seeds):
    results = search.search("   ")
    assert results.hits == [] and "type words" in results.message


ODD = st.sampled_from(
    [
        '"',
        "-",
        "(",
        ")",
        "[",
        "]",
        "AND",
        "OR",
        "NOT",
        "*",
        ":",
        "author:",
        "cat:",
        "year:",
        "year:2020..",
        "..",
        "token",
        "decoding",
        "cs.CL",
        "\\",
        "é",
        " ",
        '-"',
        "'",
        "~",
        "^2",
        "{!",
        "\x00",
        "title:",
        "+",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    query=st.one_of(st.text(max_size=120), st.lists(ODD, max_size=30).map("".join)),
    mode=st.sampled_from(search.MODES),
)
def test_odd_queries_give_results_or_a_clear_message(seeds, query, mode):
    try:
        results = search.search(query, mode=mode, limit=5)
    except search.SearchError as exc:
        assert str(exc)
        return
    assert len(results.hits) <= 5 and results.total >= len(results.hits)
    for hit in results.hits:
        for start, end in hit.highlights:
            assert 0 <= start < end <= len(hit.snippet)


@pytest.mark.parametrize("mode", search.MODES)
def test_a_10000_character_query_is_answered(seeds, mode):
    results = search.search("decoding tokens verify " * 435, mode=mode, limit=3)
    assert results.hits and "first" in results.message


def test_an_unknown_mode_is_a_clear_error(seeds):
    with pytest.raises(search.SearchError, match="unknown search mode"):
        search.search("tokens", mode="fuzzy")
