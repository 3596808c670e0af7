"""TeX in the recorded arXiv day reaches readers as Unicode: pages, author pages, teasers, feeds,
search and BibTeX. The stored record keeps what arXiv sent."""

from __future__ import annotations

import re
from datetime import date

import feedparser
import pytest

from paperroute import search
from paperroute.catalog.ingest import Importer
from paperroute.catalog.models import Author, Paper
from paperroute.catalog.sources import arxiv_rss
from tests.conftest import fixture_bytes

DAY = date(2024, 11, 28)
TEX = re.compile(r"\\['\"`^~=.cvuHkr]|\\(?:begin|end|cite)\b|\{\\")


@pytest.fixture
def rss_day(db):
    page = arxiv_rss.parse(fixture_bytes("arxiv_rss/rss2_allarchives_2024-11-28_1504items.xml.gz"))
    Importer("arxiv-rss").store(page.items)
    search.sync(embed=False)


def test_the_stored_record_keeps_arxivs_tex(rss_day):
    paper = Paper.objects.get(key="2411.17730")
    assert 'Schr\\"odinger' in paper.title
    assert Author.objects.filter(name="\\'Angel Luis Mu\\~noz Casta\\~neda").exists()
    # The 187 papers with TeX in an author name are all there, and no name holds an affiliation.
    tex_names = Author.objects.filter(name__contains="\\")
    assert Paper.objects.filter(authors__in=tex_names).distinct().count() == 187
    assert not Author.objects.filter(name__regex=r"[()]").exists()


def test_pages_show_unicode_titles_authors_and_teasers(client, rss_day):
    page = client.get("/papers/2411.17730").content.decode()
    assert "Schrödinger equation" in page and 'Schr\\"odinger' not in page
    # Every card of the day's 19 pages: titles, authors and teasers without TeX.
    checked = 0
    for number in range(1, 20):
        response = client.get(f"/papers/date/{DAY}?view=all&cat=&page={number}")
        if response.status_code == 404:
            break
        cards = re.findall(r'<article class="card".*?</article>', response.content.decode(), re.S)
        for card in cards:
            assert not TEX.search(card), card[:400]
        checked += len(cards)
    assert checked == Paper.objects.filter(listed_on=DAY).count()


def test_tex_and_unicode_spellings_are_one_author_page(client, rss_day):
    unicode_page = client.get("/authors/Ángel Luis Muñoz Castañeda")
    tex_page = client.get("/authors/\\'Angel Luis Mu\\~noz Casta\\~neda")
    assert unicode_page.status_code == tex_page.status_code == 200
    assert "Papers by Ángel Luis Muñoz Castañeda" in unicode_page.content.decode()
    assert re.findall(r'href="/papers/([^"]+)"', unicode_page.content.decode()) == re.findall(
        r'href="/papers/([^"]+)"', tex_page.content.decode()
    )
    paper = client.get(
        "/papers/" + Paper.objects.get(authors__name="\\'Angel Luis Mu\\~noz Casta\\~neda").key
    ).content.decode()
    assert 'href="/authors/%C3%81ngel%20Luis%20Mu%C3%B1oz%20Casta%C3%B1eda"' in paper


def test_search_feeds_and_bibtex_speak_unicode(client, rss_day):
    found = client.get("/search?q=Schrödinger+orbital+stability&mode=lexical").content.decode()
    assert "/papers/2411.17730" in found and 'Schr\\"odinger' not in found
    feed = feedparser.parse(client.get("/feeds/daily.xml").content)
    assert feed.entries and not any(TEX.search(e.title + e.description) for e in feed.entries)
    bib = client.get("/papers/2411.17730.bib").content.decode()
    assert "Schrödinger" in bib and "textbackslash" not in bib
