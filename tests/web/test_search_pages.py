"""Search from the site and the API, with highlights, filters, pagination and clear errors."""

import re
from datetime import date

import pytest

from paperroute import search
from paperroute.catalog.models import Paper
from tests.community.helpers import HOSTILE, add_paper, user
from tests.web.test_listings import category_chips


@pytest.fixture
def corpus(db):
    add_paper(
        "2411.00601",
        "Speculative decoding for fast inference",
        listed=date(2024, 11, 28),
        abstract="We accelerate language model inference with speculative decoding.",
        categories=("cs.CL",),
    )
    add_paper(
        "2411.00602",
        "Graph networks for molecules",
        listed=date(2024, 11, 27),
        abstract="Molecular property prediction with graph neural networks.",
        categories=("cs.LG",),
    )
    add_paper(
        "2411.00603",
        f"Decoding {HOSTILE}",
        listed=date(2024, 11, 28),
        abstract=f"Decoding text {HOSTILE}",
        categories=("cs.CL",),
    )
    search.sync(embed=False)  # as the worker does after an ingest


def test_results_are_highlighted_and_escaped(client, corpus):
    page = client.get("/search?q=speculative+decoding&mode=lexical").content.decode()
    assert "Speculative decoding for fast inference" in page.replace("<mark>", "").replace("</mark>", "")
    assert "<mark>" in page
    assert "<script>alert" not in page
    assert 'value="speculative decoding"' in page


def test_a_results_category_chips_name_their_categories(client, corpus):
    page = client.get("/search?q=graph+networks&mode=lexical").content.decode()
    assert category_chips(page) == [("cs.LG", "cs.LG (Machine Learning)", "cs.LG (Machine Learning)")]


def test_filters_narrow_the_results(client, corpus):
    page = client.get("/search?q=networks&mode=lexical&cat=cs.CL").content.decode()
    assert "Graph networks" not in page.replace("<mark>", "").replace("</mark>", "")
    dated = client.get("/search?q=graph&mode=lexical&since=2024-11-28").content.decode()
    assert "No papers match" in dated and "Search without the category and date filters" in dated


def test_the_category_field_and_a_cat_term_narrow_each_other(client, corpus):
    """The form's category and a cat: typed into the query were either one: "decoding cat:cs.LG"
    in cs.CL listed every cs.CL paper about decoding, none of them in cs.LG."""
    add_paper(
        "2411.00604",
        "Decoding with learned drafts",
        listed=date(2024, 11, 28),
        abstract="Speculative decoding with a draft model learned from the target.",
        categories=("cs.CL", "cs.LG"),
    )
    add_paper("2411.00605", "Decoding for graph learning", listed=date(2024, 11, 28), categories=("cs.LG",))
    search.sync(embed=False)
    page = client.get("/search?q=decoding+cat:cs.LG&mode=lexical&cat=cs.CL").content.decode()
    shown = page.replace("<mark>", "").replace("</mark>", "")
    assert "Decoding with learned drafts" in shown
    assert "Speculative decoding for fast inference" not in shown  # cs.CL alone
    assert "Decoding for graph learning" not in shown  # cs.LG alone


@pytest.mark.parametrize(
    "query", ["mode=fuzzy&q=x", "q=x&since=yesterday", "q=x&page=0", "q=x&since=2024-12-01&until=2024-11-01"]
)
def test_bad_options_are_explained(client, corpus, query):
    response = client.get(f"/search?{query}")
    assert response.status_code == 400 and 'role="alert"' in response.content.decode()


def test_a_page_past_the_results_leads_back_instead_of_blaming_the_query(client, corpus):
    page = client.get("/search?q=decoding&mode=lexical&page=99").content.decode()
    assert "No papers match" not in page and "past the last page of results" in page
    assert 'href="/search?q=decoding&amp;mode=lexical&amp;page=1"' in page
    assert "No papers match" in client.get("/search?q=zebrafish&mode=lexical&page=2").content.decode()
    # However large the number: a page of a million was "not a positive number" (400).
    far = client.get("/search?q=decoding&mode=lexical&page=" + "1" + "0" * 30)
    assert far.status_code == 200 and "past the last page of results" in far.content.decode()


@pytest.mark.parametrize("q", ["decoding year:0000", "speculative decoding " * 30])
def test_an_odd_year_or_a_long_query_is_answered(client, corpus, q):
    """year:0000 was a 500; a pasted paragraph (over 500 characters) a 400."""
    page = client.get("/search", {"q": q, "mode": "lexical"})
    assert page.status_code == 200 and "Speculative decoding" in page.content.decode().replace(
        "<mark>", ""
    ).replace("</mark>", "")


def test_an_author_is_found_with_or_without_the_accents_of_their_name(client, db):
    add_paper("2411.00610", "Kernel methods", authors=("Bernhard Schölkopf",), listed=date(2024, 11, 28))
    add_paper("2411.00611", "Causal inference", authors=("Soren Sorensen",), listed=date(2024, 11, 28))
    search.sync(embed=False)
    for q, key in (
        ("author:scholkopf", "2411.00610"),
        ("author:Schölkopf", "2411.00610"),
        ("scholkopf", "2411.00610"),
        ("author:sørensen", "2411.00611"),
    ):
        items = client.get("/api/papers/search", {"q": q, "mode": "lexical"}).json()
        assert [item["paper"]["id"] for item in items] == [key], q


def test_titles_and_abstracts_are_found_with_or_without_their_accents(client, db):
    """Readers type "Schrodinger" and "Levy" as often as the papers' Schrödinger and Lévy (in TeX
    or Unicode): the keyword search found only the accented spelling."""
    add_paper(
        "2411.00612",
        r"Orbital stability for Schr\"odinger equations",
        abstract=r"We study L\'evy operators and the Schrödinger flow.",
        listed=date(2024, 11, 28),
    )
    add_paper("2411.00613", "Stability of neural networks", listed=date(2024, 11, 28))
    search.sync(embed=False)
    for q in ("schrodinger orbital", "Schrödinger", "levy operators", '"Lévy operators"', "-lévy stability"):
        items = client.get("/api/papers/search", {"q": q, "mode": "lexical"}).json()
        expected = ["2411.00613"] if q.startswith("-") else ["2411.00612"]
        assert [item["paper"]["id"] for item in items] == expected, q
    # The words are marked in the snippet as written, and typing them suggests the paper.
    page = client.get("/search", {"q": "levy schrodinger", "mode": "lexical"}).content.decode()
    assert "<mark>Lévy</mark>" in page and "<mark>Schrödinger</mark>" in page
    typed = client.get("/search/suggest", {"q": "orbital schrö"})
    assert typed.status_code == 200 and "2411.00612" in typed.content.decode()


def _shown_titles(page: str) -> list[str]:
    return re.findall(
        r'class="card-title"[^>]*><a href="[^"]*">([^<]*)</a>',
        page.replace("<mark>", "").replace("</mark>", ""),
    )


@pytest.mark.parametrize(
    "pasted",
    [
        "2411.00602",
        "arXiv:2411.00602v2",
        "https://arxiv.org/abs/2411.00602v1",
        "arxiv.org/pdf/2411.00602v1.pdf",
        "https://arxiv.org/html/2411.00602v1#S2",
        "https://huggingface.co/papers/2411.00602",
        "https://doi.org/10.48550/arXiv.2411.00602",
    ],
)
def test_a_pasted_arxiv_id_or_link_finds_its_paper(client, corpus, pasted):
    page = client.get("/search", {"q": pasted}).content.decode()
    assert _shown_titles(page) == ["Graph networks for molecules"]
    assert "1 result for" in page
    found = client.get("/api/papers/search", {"q": pasted}).json()
    assert [item["paper"]["id"] for item in found] == ["2411.00602"]
    typed = client.get("/search/suggest", {"q": pasted}).json()["results"]
    assert [r["url"] for r in typed] == ["/papers/2411.00602"]


def test_the_search_box_names_two_authors_and_shortens_more(client, db):
    add_paper("2411.00701", "Two authors wrote this", authors=("Ada Lovelace", "Alan Turing"))
    add_paper(
        "2411.00702", "Three authors wrote this", authors=("Grace Hopper", "Ada Lovelace", "Alan Turing")
    )
    search.sync(embed=False)
    found = client.get("/search/suggest?q=authors+wrote").json()["results"]
    assert sorted(r["byline"] for r in found) == ["Ada Lovelace and Alan Turing", "Grace Hopper et al."]


def test_a_paper_is_found_by_its_id_before_the_index_holds_it(client, corpus):
    add_paper("2411.00609", "Ingested a minute ago", listed=date(2024, 11, 28))  # no sync since
    assert client.get("/search?q=words+it+holds&mode=lexical").status_code == 200
    assert _shown_titles(client.get("/search?q=2411.00609").content.decode()) == ["Ingested a minute ago"]


def test_a_pasted_doi_finds_its_paper(client, corpus):
    Paper.objects.filter(key="2411.00601").update(doi="10.1000/Spec.2024.7")
    for pasted in ("10.1000/Spec.2024.7", "https://doi.org/10.1000/spec.2024.7", "doi:10.1000/Spec.2024.7"):
        page = client.get("/search", {"q": pasted}).content.decode()
        assert _shown_titles(page) == ["Speculative decoding for fast inference"], pasted


def test_an_arxiv_paper_that_is_not_here_can_be_submitted_from_the_search(client, corpus):
    page = client.get("/search?q=https://arxiv.org/abs/2411.99999v3").content.decode()
    assert _shown_titles(page) == []
    assert "arXiv 2411.99999 is not on this site yet." in page
    assert 'href="/submit?arxiv=2411.99999"' in page
    assert 'href="https://arxiv.org/abs/2411.99999"' in page
    assert client.get("/api/papers/search?q=2411.99999").json() == []
    client.force_login(user("submitter"))
    form = client.get("/submit?arxiv=2411.99999").content.decode()
    assert 'value="2411.99999"' in form


def test_the_search_api(client, corpus):
    items = client.get("/api/papers/search?q=speculative&limit=5&mode=lexical").json()
    assert items[0]["paper"]["id"] == "2411.00601"
    # A blank query is no search: the newest papers (tests/web/test_api.py).
    assert client.get("/api/papers/search?q=").status_code == 200
    assert client.get("/api/papers/search?q=x&limit=500").status_code == 400


def test_a_search_reads_the_papers_it_shows_once(client, corpus):
    """The index ranks; titles, snippets, cards and API records all come from one read of the
    papers (a second read cost about 1 ms a search at 1M papers)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for url in ("/api/papers/search?q=decoding&mode=lexical", "/search?q=decoding&mode=lexical"):
        with CaptureQueriesContext(connection) as caught:
            response = client.get(url)
        assert response.status_code == 200 and b"Speculative" in response.content
        reads = [q["sql"] for q in caught.captured_queries if '"catalog_paper"."abstract"' in q["sql"]]
        assert len(reads) == 1, reads


def test_a_paper_page_reads_its_related_papers_once(client, corpus):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as caught:
        page = client.get("/papers/2411.00601")
    assert page.status_code == 200 and b'href="/papers/2411.00603"' in page.content
    reads = [q["sql"] for q in caught.captured_queries if '"catalog_paper"."abstract"' in q["sql"]]
    assert len(reads) == 2, reads  # the paper's own, and its related papers'


def test_an_identifier_with_a_date_range_is_searched_for_as_words(client, corpus):
    """A followed topic, a search's feed and the digest ask for a period's papers: a paper named
    by its id is not news every day."""
    assert search.search("2411.00602", since=date(2024, 11, 28)).hits == []
    assert [h.key for h in search.search("2411.00602").hits] == ["2411.00602"]


def test_a_category_no_paper_is_in_is_named_as_the_reason(client, corpus):
    page = client.get("/search?q=graph&mode=lexical&cat=cs.XX").content.decode()
    assert "No papers match" in page
    assert (
        "No paper here is in the category “cs.xx”: try one such as cs.CL, or an archive such as cs." in page
    )
    assert "in the category" not in client.get("/search?q=graph&mode=lexical&cat=cs.CL").content.decode()
    found = search.search("graph cat:cs", mode="lexical")
    assert found.hits and "category" not in found.message


@pytest.mark.parametrize(
    ("query", "words", "dropped"),
    [
        ("year:2023 decoding", "decoding", "year:2023"),
        ("decoding cat:hep-ex", "decoding", "cat:hep-ex"),
        ('author:"Grace Hopper" decoding -graph', "decoding -graph", 'author:"Grace Hopper"'),
        ("cat:hep-ex speculative year:2020..2021", "speculative", "cat:hep-ex, year:2020..2021"),
    ],
)
def test_filters_typed_into_the_query_can_be_dropped_when_nothing_matches(
    client, corpus, query, words, dropped
):
    """Filters typed into the query that found nothing left only "Try other words": the way out
    was offered for the form's filters alone."""
    page = client.get("/search", {"q": query, "mode": "lexical"}).content.decode()
    assert "No papers match" in page and f'value="{query.replace(chr(34), "&quot;")}"' in page
    link = re.search(r'<a href="([^"]*)">Search “([^”]*)” without ([^<]*)</a>', page)
    assert link, page
    assert (link.group(2), link.group(3)) == (words.replace('"', "&quot;"), dropped.replace('"', "&quot;"))
    assert "Try other words" not in page
    # The link searches the words as typed, in the same mode, and finds papers.
    found = client.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert f'value="{words}"' in found and "No papers match" not in found
    assert 'value="lexical" selected' in found


def test_a_query_of_filters_alone_offers_no_empty_search(client, corpus):
    page = client.get("/search", {"q": "year:2023 cat:cs.CL", "mode": "lexical"}).content.decode()
    assert "No papers match" in page and "” without" not in page
    hostile = client.get("/search", {"q": '<b>x</b> cat:"<script>"', "mode": "lexical"}).content.decode()
    assert "<script>" not in hostile and "<b>x</b>" not in hostile
