"""Search tells the truth on the demo sample: nothing for nonsense, typos corrected, real counts,
and answers while the query is being typed."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from paperroute import search
from tests.search.conftest import titles

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("mode", search.MODES)
@pytest.mark.parametrize("query", ["xyzzyqwf", "qwertyuiop asdfghjkl", "zzkx vvqq wwpt"])
def test_a_query_nothing_matches_finds_nothing(sample, mode, query):
    found = search.search(query, mode=mode)
    assert found.hits == [] and found.total == 0


def test_the_count_is_how_many_match_not_a_cap(sample):
    counts = {}
    for query in ("speculative decoding", "dark matter halos", "graph neural networks"):
        found = search.search(query, limit=100)
        # Every paper counted can be paged to, and nothing more.
        assert found.exact and found.total == len(found.hits) < 100, (query, found.total)
        counts[query] = found.total
    assert len(set(counts.values())) > 1, counts


def test_the_tail_of_a_ranking_is_not_unrelated_papers(sample):
    results = search.search("speculative decoding", limit=50)
    found = titles(results)
    # The first papers are about it: named so in the title, or at least in the abstract.
    assert found[:4] and sum("peculative" in t for t in found[:4]) >= 3
    assert all(
        "speculative decoding" in h.snippet.lower() or "peculative" in h.title for h in results.hits[:4]
    )
    unrelated = [
        t
        for t in found
        if any(w in t for w in ("LDPC", "Spectre", "Surface Code", "Stabilizer", "stabilizer"))
    ]
    assert unrelated == [], found


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("speculatve decodng", "speculative decoding"),
        ("difusion modls", "diffusion models"),
        ("gravitatonal waves", "gravitational waves"),
    ],
)
def test_typos_are_corrected_and_said(sample, typed, meant):
    found = search.search(typed)
    assert found.corrected == meant and found.original == typed
    assert found.hits
    if "speculative" in meant:
        assert all("peculative" in t for t in titles(found)[:3]), titles(found)


@pytest.mark.parametrize("surname", ["akter", "amini", "albers"])
def test_an_authors_surname_is_no_typo(sample, surname):
    """Typed as a free word, a surname that no title or abstract holds was 'corrected' to
    another word (akter to after), and the page said no paper contained it above its papers."""
    found = search.search(surname)
    assert found.corrected == "" and found.hits, found.corrected
    assert "no paper contains" not in found.message
    from paperroute.catalog.models import Paper

    first = Paper.objects.get(key=found.hits[0].key)
    assert surname in " ".join(first.author_names).lower(), (first.key, first.author_names)


@pytest.mark.parametrize(
    "query, mode",
    [("language models reasoning", "hybrid"), ("neural networks", "hybrid"), ("dark matter", "semantic")],
)
def test_paging_through_a_search_shows_each_paper_once(sample, query, mode):
    """Each page used to rank its own number of candidates, and a deeper ranking is no prefix of
    a shallower one: page 4 repeated papers of page 3 and others were never shown."""
    pages = [search.search(query, mode=mode, limit=20, offset=20 * n) for n in range(8)]
    keys = [hit.key for page in pages for hit in page.hits]
    assert len(keys) == len(set(keys)), [k for k in keys if keys.count(k) > 1]
    last = pages[-1]
    if last.exact:  # every paper counted could be paged to, and nothing more
        assert len(keys) == last.total, (len(keys), last.total)


@pytest.mark.parametrize(
    "query",
    ["how do draft models speed up decoding", "robot manipulation with vision language action models"],
)
def test_an_estimated_count_is_near_how_many_papers_match(sample, query):
    """The estimate took the share of single passages close to the query, but a paper matches
    by its best passage: "about 819 results" where 968 papers are that close."""
    from paperroute.search.service import FLOOR, POOLING, _query_embedder, open_index

    store = open_index().vectors
    vector = _query_embedder().embed_queries([query])[0]
    everyone = np.flatnonzero(store.count > 0)
    close = int((store.score_papers(vector[None, :], everyone, POOLING) >= FLOOR.loose).sum())
    found = search.search(query)
    assert not found.exact and abs(found.total - close) <= 0.05 * close, (found.total, close)


def test_the_count_of_a_keyword_search_is_the_same_on_its_first_and_last_pages(sample):
    """Papers close in meaning or holding every word match a keyword query; the first page
    said "about 69", the fifth an exact 88."""
    query = "language models reasoning"
    first = search.search(query, limit=20)
    last = search.search(query, limit=20, offset=80)
    assert last.exact and 80 < last.total < 100, last.total
    assert abs(first.total - last.total) <= 0.05 * last.total, (first.total, last.total)


def test_the_next_page_or_another_filter_does_not_run_the_model_again(sample, monkeypatch):
    from paperroute.search.service import _query_embedder

    model = _query_embedder()
    ran: list[str] = []
    run = model._run_queries
    monkeypatch.setattr(model, "_run_queries", lambda texts: ran.extend(texts) or run(texts))
    query = "how do speculative draft models speed up decoding on small devices"
    first = search.search(query, limit=20)
    assert ran == [query]
    second = search.search(query, limit=20, offset=20)
    narrowed = search.search(f"{query} cat:cs.CL", limit=20)
    assert ran == [query]
    assert not {h.key for h in first.hits} & {h.key for h in second.hits}
    assert narrowed.hits and len(narrowed.hits) <= 20


def test_a_nearest_neighbour_search_brings_as_many_papers_as_asked(sample):
    """Candidates are passages, several a paper: rows for k papers held fewer, and a short
    answer was read as "no more papers" (an exact count of 178 where about 708 matched)."""
    from paperroute.search.service import _query_embedder, open_index

    store = open_index().vectors
    query = _query_embedder().embed_queries(["large language models reasoning"])[0]
    everything = store.alive.copy()  # a filter that keeps every row: the exact scan's path
    for allowed in (None, everything):
        for k in (50, 180, 400):
            found = store.search(query, k, allowed)
            assert len(found) == min(k, store.papers), (k, len(found), allowed is None)
            assert len({pid for pid, _ in found}) == len(found)


def test_a_correct_query_is_left_alone(sample):
    found = search.search("speculative decoding")
    assert found.corrected == "" and found.suggestion == ""


def test_correction_can_be_turned_off_and_is_then_offered(sample):
    found = search.search("speculatve decodng", correct=False)
    assert found.corrected == ""
    assert found.suggestion == "speculative decoding" or not found.hits


def test_fewer_words_are_suggested_when_nothing_matches(sample):
    found = search.search("speculative decoding xyzzyqwf", mode="lexical")
    assert found.hits or found.fewer


def test_the_fewer_words_offered_leave_out_a_quote_the_query_left_open(sample):
    found = search.search('"speculative xyzzyqwf', mode="lexical")
    assert not found.hits and found.fewer == "speculative"


def test_as_you_type_finds_papers_from_a_prefix(sample):
    hits = search.suggest("speculative dec")
    assert hits and all("peculative" in h.title or "Decod" in h.title for h in hits[:3])
    assert search.suggest("x") == []


def test_the_cli_and_the_api_tell_the_same(sample, client):
    from paperroute.search.terminal import results_json

    payload = results_json(search.search("xyzzyqwf"))
    assert payload["hits"] == [] and payload["total"] == 0 and payload["total_exact"] is True
    response = client.get("/api/papers/search?q=xyzzyqwf")
    assert response.json() == [] and response["X-Total-Count"] == "0"
    typo = client.get("/api/papers/search?q=speculatve+decodng")
    assert typo["X-Search-Corrected"] == "speculative%20decoding"
    page = client.get("/search?q=xyzzyqwf").content.decode()
    assert "No papers match" in page and "1000 results" not in page
    corrected = client.get("/search?q=speculatve+decodng").content.decode()
    assert "Showing results for <strong>speculative decoding</strong>" in corrected
    assert "spell=0" in corrected
    suggestions = json.loads(client.get("/search/suggest?q=speculative+dec").content)
    assert suggestions["results"] and suggestions["results"][0]["url"].startswith("/papers/")


@pytest.mark.parametrize(
    "query",
    [
        "speculative decoding",
        "graph neural networks -molecules",
        '"language models" reasoning',
        "dark matter",
    ],
)
def test_picking_candidates_by_their_terms_or_as_a_set_ranks_alike(sample, monkeypatch, query):
    """The keyword side scores, checks and filters the embedding side's candidates by their ids:
    one term query each for a few (the quick way), a term set for many. Both must find the same."""
    from paperroute.search import lexical

    found = {}
    for way, among_terms in (("terms", lexical.AMONG_TERMS), ("set", 0)):
        monkeypatch.setattr(lexical, "AMONG_TERMS", among_terms)
        found[way] = {
            mode: [(h.key, h.score) for h in search.search(query, mode=mode, limit=30).hits]
            for mode in ("hybrid", "semantic")
        }
    assert found["terms"] == found["set"]
    assert all(found["set"].values()), found


@pytest.mark.parametrize("topic", ["speculative decoding", "language models", "LoRA"])
def test_a_topic_s_papers_by_its_words_are_the_same_whichever_way_they_are_read(sample, topic):
    """For you reads a followed topic's papers by its words: across the index from its rarest
    word when few papers hold it, else among the papers being ranked. Both give the same."""
    from paperroute.catalog.models import Paper

    papers = dict(Paper.objects.values_list("pk", "title"))
    everyone = sorted(papers)
    found = search.papers_about(topic, everyone)
    stems = {"speculative decoding": ("speculat", "decod"), "language models": ("languag", "model")}
    for pid in found:
        paper = Paper.objects.get(pk=pid)
        text = (paper.title + " " + paper.abstract).lower()
        assert all(stem in text for stem in stems.get(topic, ("lora",))), paper.title
    assert len(found) >= 3
    # A few papers: a common word is then read among them, not across the index.
    few = everyone[::7]
    assert search.papers_about(topic, few) == found.intersection(few)
    # Its exclusions and filters hold, as in the topic's search.
    in_cs_lg = set(Paper.objects.filter(categories__code="cs.LG").values_list("pk", flat=True))
    assert search.papers_about(topic + " cat:cs.LG", everyone) == found & in_cs_lg
    assert found - in_cs_lg, "some of the papers are in other categories"
    one = min(found)
    word = next(w for w in re.findall(r"[a-z]{6,}", papers[one].lower()) if w[:4] not in topic.lower())
    without = search.papers_about(f"{topic} -{word}", everyone)
    assert one not in without and without < found
    assert search.papers_about("xyzzyqwf", everyone) == set()


@pytest.mark.parametrize("query", ["speculative decoding", "diffusion models cat:cs.CV"])
def test_a_search_without_snippets_ranks_the_same_papers(sample, query):
    """The API, MCP and feeds show no snippets and skip making them: the papers, their order,
    scores, titles and the count are those the search page gets."""
    full, bare = search.search(query, limit=20), search.search(query, limit=20, snippets=False)
    assert full.hits and full.total == bare.total
    assert [(h.key, h.score, h.title) for h in bare.hits] == [(h.key, h.score, h.title) for h in full.hits]
    assert all(h.snippet for h in full.hits) and any(h.highlights for h in full.hits)
    assert all(not h.snippet and not h.highlights and not h.title_highlights for h in bare.hits)


@pytest.mark.parametrize("mode", search.MODES)
def test_a_word_longer_than_the_index_holds_finds_nothing(sample, mode):
    """tantivy drops a token of over 40 characters: the query counted as one of filters only,
    and "pneumonoultramicroscopicsilicovolcanoconiosis" listed every paper, newest first."""
    found = search.search("pneumonoultramicroscopicsilicovolcanoconiosis", mode=mode)
    assert found.total == 0 and found.hits == [], (found.total, found.message)


@pytest.mark.parametrize("query", ["protein folding", "robot learning year:2026", "qwertyuiop diffusion"])
def test_semantic_mode_finds_what_hybrid_finds_by_meaning(sample, query):
    """With no paper holding every word, semantic mode took it for no paper holding any word,
    and kept only papers of cosine 0.50 or more (hybrid keeps 0.40)."""
    hybrid = {h.key for h in search.search(query, mode="hybrid", limit=50).hits}
    semantic = {h.key for h in search.search(query, mode="semantic", limit=50).hits}
    assert hybrid and hybrid <= semantic, hybrid - semantic


@pytest.mark.parametrize("mode", ["hybrid", "semantic"])
def test_a_filtered_estimate_is_near_what_paging_reaches(sample, mode):
    """The estimate applied the share of close papers among all papers (37%) to a category's
    (76% in cs.AI): "about 71" on the first page where 148 could be paged to."""
    query, cats = "how do agents use tools to solve tasks", ["cs.AI"]
    first = search.search(query, mode=mode, categories=cats, limit=20)
    reached = sum(
        len(search.search(query, mode=mode, categories=cats, limit=20, offset=20 * n).hits) for n in range(20)
    )
    assert abs(first.total - reached) <= 0.2 * reached, (first.total, first.exact, reached)


def test_as_you_type_keeps_to_the_querys_filters_and_exclusions(sample):
    """Suggestions read the whole text as words: "-diffusion" offered diffusion papers, and
    typing a filter ("cat:cs") left no suggestion at all."""
    shown = search.suggest("language models -diffusion")
    assert shown and not [h.title for h in shown if "diffus" in h.title.lower()]
    assert search.suggest("speculative decoding cat:cs")
    assert search.suggest("speculative decoding cat:math") == []


def test_a_limit_of_120_lists_the_papers_in_the_order_the_pages_show(sample):
    """A first page of 120 (the API's most) was ranked at 200 at once, pages of 20 grow from 50:
    past the 40th paper the two orders differed."""
    paged = [h.key for n in range(6) for h in search.search("diffusion", limit=20, offset=20 * n).hits]
    assert [h.key for h in search.search("diffusion", limit=120).hits] == paged[:120]


def test_an_offset_past_the_last_result_shows_nothing(sample):
    """The offset was cut to the last page: page 51, or --offset 1500, showed page 50 again."""
    query = "how do draft models speed up decoding of large language models"
    last = search.search(query, mode="lexical", limit=20, offset=980)
    past = search.search(query, mode="lexical", limit=20, offset=1000)
    assert last.hits and past.hits == [] and past.total == last.total


@pytest.mark.parametrize("query", ["нейронные сети", "大语言模型", "ニューラルネットワーク"])
def test_a_query_in_another_script_is_told_to_try_english(sample, query):
    """The papers and the model are English: a Russian or Chinese query found nothing, and the
    page said only that nothing matched."""
    found = search.search(query)
    assert found.hits == []
    assert "in English" in found.message and "try the query in English" in found.message


@pytest.mark.parametrize("query", ["xyzzyqwf", "β-xyzzyqwf", "café xyzzyqwf"])
def test_a_latin_query_that_finds_nothing_is_not_told_to_use_english(sample, query):
    found = search.search(query)
    assert found.hits == [] and "English" not in found.message


def test_when_nothing_matches_the_words_no_paper_holds_are_named(sample):
    found = search.search("speculative xyzzyqwf", mode="lexical")
    assert found.hits == [] and "no paper contains “xyzzyqwf”" in found.message
    assert "speculative”" not in found.message
    # One word that no paper holds: "No papers match" already says it.
    assert "no paper contains" not in search.search("xyzzyqwf").message
