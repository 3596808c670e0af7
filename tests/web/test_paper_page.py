"""Paper pages: ids of every shape, LaTeX, citation and OpenGraph tags, BibTeX, votes, comments."""

import re
from datetime import date

import pytest
from django.utils.html import escape

from paperroute import search
from paperroute.community.models import Comment
from tests.community.helpers import HOSTILE, add_paper


@pytest.mark.django_db
@pytest.mark.parametrize(
    "key", ["2411.17700", "hep-th/9901001", "seed:0123456789abcdef", "doi:10.1000/xyz.1"]
)
def test_every_kind_of_id_has_a_page_and_a_bib_file(client, key):
    add_paper(key, "Shapes of identifiers", listed=date(2024, 11, 28))
    page = client.get(f"/papers/{key}")
    assert page.status_code == 200 and "Shapes of identifiers" in page.content.decode()
    bib = client.get(f"/papers/{key}.bib")
    assert bib.status_code == 200 and bib["Content-Type"].startswith("application/x-bibtex")
    assert "title         = {{Shapes of identifiers}}" in bib.content.decode()


@pytest.mark.django_db
def test_a_versioned_or_prefixed_arxiv_id_redirects_to_the_paper(client):
    add_paper("2411.17700")
    assert client.get("/papers/2411.17700v2")["Location"] == "/papers/2411.17700"
    assert client.get("/papers/arXiv:2411.17700")["Location"] == "/papers/2411.17700"


@pytest.mark.django_db
@pytest.mark.parametrize("written", ["2411.17700v2", "arXiv:2411.17700"])
def test_exports_and_the_api_know_a_paper_by_a_versioned_or_prefixed_id(client, written):
    """Only the page did: its BibTeX, its Markdown, the API (and MCP, which looks papers up as
    the API does) answered "unknown paper" for 2411.17700v2."""
    add_paper("2411.17700", "Shapes of identifiers")
    bib = client.get(f"/papers/{written}.bib")
    assert bib.status_code == 200 and "eprint        = {2411.17700}" in bib.content.decode()
    markdown = client.get(f"/papers/{written}.md")
    assert markdown.status_code == 200 and markdown.content.decode().startswith("# Shapes of identifiers")
    api = client.get(f"/api/papers/{written}")
    assert api.status_code == 200 and api.json()["id"] == "2411.17700"
    assert client.get("/api/papers/2411.17701v2").status_code == 404


@pytest.mark.django_db
def test_reference_managers_and_link_previews_find_their_tags(client):
    add_paper(
        "2411.17700",
        "Fast $O(n^2)$ sorting",
        authors=("Jun Cui", "Ana Lima"),
        abstract="We reach $\\alpha = 0.5$ and 21\\% gains.",
        listed=date(2024, 11, 28),
    )
    page = client.get("/papers/2411.17700").content.decode()
    meta = dict(re.findall(r'<meta (?:name|property)="([^"]+)" content="([^"]*)"', page))
    assert meta["citation_title"] == "Fast O(n^2) sorting"
    assert re.findall(r'name="citation_author" content="([^"]+)"', page) == ["Jun Cui", "Ana Lima"]
    assert meta["citation_date"] == "2024/11/26"
    assert meta["citation_pdf_url"] == "https://arxiv.org/pdf/2411.17700"
    assert meta["citation_arxiv_id"] == "2411.17700"
    assert meta["og:title"] == "Fast O(n^2) sorting"
    assert meta["og:url"] == "http://127.0.0.1:8000/papers/2411.17700"
    # LaTeX is shown readably: superscripts, Greek letters, escaped percent signs.
    assert "O(n<sup>2</sup>)" in page and "α = 0.5" in page and "21% gains" in page
    assert 'href="https://arxiv.org/abs/2411.17700"' in page and 'href="/papers/2411.17700.bib"' in page


@pytest.mark.django_db
def test_bibtex_escapes_special_characters_and_joins_authors():
    from paperroute.catalog import bibtex

    paper = add_paper(
        "2411.17701", "R&D at 100% for $O(n)$ {cases} \\{x\\}", authors=("José Ñandú", "A_B #1")
    )
    entry = bibtex.entry(paper)
    # TeX grouping braces go; BibTeX counts braces whatever precedes them, so literal ones
    # (\{ in TeX) become balanced commands.
    assert (
        "title         = {{R\\&D at 100\\% for $O(n)$ cases \\textbraceleft{}x\\textbraceright{}}}"
    ) in entry
    assert "author        = {José Ñandú and A\\_B \\#1}" in entry
    assert "eprint        = {2411.17701}" in entry and "archivePrefix = {arXiv}" in entry
    assert entry.startswith("@misc{nandu2024r,")
    assert entry.count("{") == entry.count("}")


@pytest.mark.django_db
def test_bibtex_writes_greek_letters_and_math_symbols_outside_math_as_math():
    """arXiv titles write "{\\Lambda}CDM" outside math. Its Unicode "ΛCDM" stops pdflatex ("Unicode
    character Λ not set up for use with LaTeX"); accented letters and dashes it sets."""
    from paperroute.catalog import bibtex

    title = r"Constraints on {\Lambda}CDM -- and \alpha-decay, ℓ≤∞ and √2, for Schr\"odinger; $\mu$ stays"
    entry = bibtex.entry(add_paper("2411.17702", title, authors=("Ana Λ. Muñoz",)))
    assert (
        "{{Constraints on $\\Lambda$CDM – and $\\alpha$-decay, $\\ell$$\\leq$$\\infty$ and $\\surd$2, "
        "for Schrödinger; $\\mu$ stays}}"
    ) in entry
    assert "author        = {Ana $\\Lambda$. Muñoz}" in entry
    # What is left outside ASCII is Latin letters and punctuation, which pdflatex's UTF-8 sets.
    assert {ch for ch in entry if ord(ch) > 127} == {"–", "ö", "ñ"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "arxiv_id, year, month",
    [("2411.00880", "2024", "nov"), ("hep-th/9901001", "1999", "jan"), ("", "2024", "nov")],
)
def test_a_paper_known_only_from_arxivs_listing_is_cited_with_its_date(arxiv_id, year, month):
    """arXiv's daily listing gives no submission time: the year and month come from the arXiv id
    (its first version's month), or else from the day arXiv announced the paper."""
    from paperroute.catalog import bibtex
    from paperroute.catalog.ingest import Importer
    from paperroute.catalog.records import PaperRecord

    record = PaperRecord(
        source="arxiv-rss" if arxiv_id else "jsonl",
        position="1",
        arxiv_id=arxiv_id,
        title="Exploring listings",
        authors=["Jun Cui"],
        announced_on=date(2024, 11, 28),
    )
    assert not Importer(record.source).store([record]).skipped
    paper = listings_paper("Exploring listings")
    assert paper.published is None
    entry = bibtex.entry(paper)
    assert f"year          = {{{year}}}" in entry and f"month         = {month}" in entry
    assert entry.startswith(f"@misc{{cui{year}exploring,")


def listings_paper(title: str):
    from paperroute.community import listings

    return listings.annotated(listings.Paper.objects.filter(title=title)).get()


@pytest.mark.django_db
def test_hostile_text_is_escaped_on_pages_and_in_meta_tags(client):
    paper = add_paper(
        "2411.17702",
        f"Title {HOSTILE}",
        authors=(f"Eve {HOSTILE}",),
        abstract=f"Abstract {HOSTILE}",
        listed=date(2024, 11, 28),
    )
    from tests.community.helpers import user

    Comment.objects.create(paper=paper, author=user("mallory"), body=f"Comment {HOSTILE}")
    for url in ("/papers/2411.17702", "/papers/date/2024-11-28", f"/authors/Eve {HOSTILE}"):
        page = client.get(url).content.decode()
        assert "<script>alert" not in page and "<img src=x" not in page, url
        assert "&lt;script&gt;" in page, url
    # BibTeX is plain text, never HTML: a browser will not run what it holds.
    bib = client.get("/papers/2411.17702.bib")
    assert bib["Content-Type"].startswith("application/x-bibtex")
    assert "onerror=alert(1)>" in bib.content.decode()


@pytest.mark.django_db
def test_the_comments_heading_counts_this_sites_and_names_hugging_faces(client, reader_client):
    from paperroute.catalog.models import Paper

    add_paper("2411.00890", listed=date(2024, 11, 28))
    Paper.objects.filter(key="2411.00890").update(hf_num_comments=2)
    section = _comments(client.get("/papers/2411.00890").content.decode())
    assert "0 comments" in section and "No comments here yet · 2 on" in section
    assert "more on" not in section and "No comments yet" not in section
    reader_client.post("/papers/2411.00890/comments", {"body": "A first one"})
    section = _comments(client.get("/papers/2411.00890").content.decode())
    assert "1 comment" in section and "2 more on" in section and "No comments" not in section


def _comments(page: str) -> str:
    return re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", "", page.split('id="comments"', 1)[1].split("</section>", 1)[0])
    )


@pytest.mark.django_db
def test_a_paper_with_no_dates_shows_no_empty_dates_section(client):
    from paperroute.catalog.models import Paper

    dated = add_paper("2411.00990", listed=date(2024, 11, 28))
    bare = add_paper("seed:0000000000000001")
    Paper.objects.filter(pk=bare.pk).update(published=None, announced_on=None, listed_on=None)
    bare.versions.all().delete()
    assert "Dates and versions" in client.get(f"/papers/{dated.key}").content.decode()
    page = client.get(f"/papers/{bare.key}").content.decode()
    assert "Abstract" in page and "Dates and versions" not in page


@pytest.mark.django_db
def test_a_paper_listed_on_no_day_has_no_stray_separator_above_its_title(client):
    """A paper known only as a replacement (no listing day) read "· arXiv:2411.00490"."""
    from paperroute.catalog.ingest import Importer
    from paperroute.catalog.records import PaperRecord

    record = PaperRecord(source="arxiv-listing", position="1", title="Replaced", arxiv_id="2411.00490")
    Importer("arxiv-listing").store([record])
    page = client.get("/papers/2411.00490").content.decode()
    assert '<p class="crumbs muted">arXiv:2411.00490</p>' in page
    listed = add_paper("2411.00491", listed=date(2024, 11, 28))
    assert "</a> · arXiv:2411.00491</p>" in client.get(f"/papers/{listed.key}").content.decode()


def _category_links(page: str) -> dict[str, str]:
    """Each category link's address and what it says, tags gone (a hidden span's words kept)."""
    return {
        href: " ".join(re.sub(r"<[^>]+>", " ", inner).split())
        for href, inner in re.findall(r'<a [^>]*href="(/categories/[^"]+)"[^>]*>(.*?)</a>', page, re.S)
    }


@pytest.mark.django_db
def test_a_paper_page_names_each_category_beside_its_code(client):
    """A first-time reader saw "cs.LG" and "math-ph" and had to know what they are. The arXiv
    API's own record of a paper, as the harvest stores it; a code with no known name stays bare."""
    from paperroute.catalog.ingest import Importer
    from paperroute.catalog.sources import arxiv_api
    from tests.conftest import fixture_bytes

    data = fixture_bytes("arxiv_atom_api/query_newapi_transformer_cs.LG_2026-06-14_5entries.xml")
    Importer("arxiv-api").store(arxiv_api.parse(data).items)
    page = client.get("/papers/2606.13568").content.decode()
    assert "Adjusted Cup-Product Neural Layer" in page
    assert _category_links(page) == {
        "/categories/cs.LG": "cs.LG Machine Learning",
        "/categories/math-ph": "math-ph Mathematical Physics",
    }
    add_paper("2411.17760", "An old computational linguistics paper", categories=("cmp-lg",))
    assert _category_links(client.get("/papers/2411.17760").content.decode()) == {
        "/categories/cmp-lg": "cmp-lg"
    }


@pytest.mark.django_db
@pytest.mark.parametrize("title", ["{}", r"\label{sec:intro}"])
def test_a_title_that_reads_as_nothing_is_shown_as_stored_on_cards_and_pages(client, title):
    """TeX that is no text made the title blank: a card with a link of no words, a page with an
    empty heading and tab title. Feeds already showed such a title as stored."""
    add_paper("2411.00611", title, listed=date(2024, 11, 28), abstract="Braces where a title should be.")
    search.sync(embed=False)
    shown = escape(title)
    for url in ["/papers/date/2024-11-28?view=all", "/authors/Ada Lovelace", "/search?q=braces"]:
        page = client.get(url).content.decode()
        assert f'<a href="/papers/2411.00611">{shown}</a></h3>' in page, url
    page = client.get("/papers/2411.00611").content.decode()
    assert f'<h1 id="paper-title">{shown}</h1>' in page
    assert f"<title>{shown} · paperroute</title>" in page
    markdown = client.get("/papers/2411.00611.md").content.decode()
    # Markdown escapes the braces and backslashes: read without its escapes, the heading is the title.
    assert markdown.split("\n", 1)[0].replace("\\", "") == "# " + title.replace("\\", "")
