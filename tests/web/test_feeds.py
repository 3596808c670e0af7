"""RSS 2.0 and Atom feeds parse cleanly, hold the right papers, and are discoverable."""

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import feedparser
import pytest
from django.utils import timezone

from paperroute import search
from tests.community.helpers import HOSTILE, add_paper

FEEDS = [
    "/feeds/daily.xml",
    "/feeds/daily.atom",
    "/feeds/trending.xml",
    "/feeds/trending.atom",
    "/feeds/category.xml?code=cs.CL",
    "/feeds/category.atom?code=cs.CL",
    "/feeds/author.xml?name=Ada+Lovelace",
    "/feeds/author.atom?name=Ada+Lovelace",
    "/feeds/search.xml?q=transformers",
    "/feeds/search.atom?q=transformers",
]


@pytest.fixture
def papers(db):
    today = timezone.localdate()
    add_paper(
        "2411.00401",
        "Transformers for everything",
        listed=today,
        hf_upvotes=4,
        abstract="Attention based transformers, with $O(n^2)$ cost.",
    )
    add_paper(
        "2411.00402",
        f"Hostile {HOSTILE}\x0b",
        authors=("Ada Lovelace", f"M {HOSTILE}"),
        abstract=f"Control \x01 chars and {HOSTILE}",
        listed=today,
        hf_upvotes=1,
    )
    add_paper("2411.00403", "An older paper", listed=date(2024, 11, 1))
    search.sync(embed=False)  # as the worker does after an ingest


@pytest.mark.parametrize("url", FEEDS)
def test_every_feed_parses_without_errors(client, papers, url):
    response = client.get(url)
    assert response.status_code == 200
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version in ("rss20", "atom10")
    assert parsed.entries, url
    titles = [e.title for e in parsed.entries]
    assert "Transformers for everything" in titles
    for entry in parsed.entries:
        assert entry.link.startswith("http://127.0.0.1:8000/papers/")
    # The feed's own link is the page it follows (a reader opens it from the feed's title); the
    # feed's address is its rel="self" link.
    assert "/feeds/" not in parsed.feed.link, parsed.feed.link
    assert url.split("?")[0] in [link.href for link in parsed.feed.links if link.rel == "self"][0]
    hostile = [e for e in parsed.entries if e.title.startswith("Hostile")]
    if hostile:  # the text arrives as text: the markup is characters, not elements
        assert hostile[0].title == f"Hostile {HOSTILE}"


def test_the_daily_feed_follows_the_home_page(client, papers):
    entries = feedparser.parse(client.get("/feeds/daily.xml").content).entries
    assert [e.title for e in entries][0] == "Transformers for everything"
    assert "An older paper" not in [e.title for e in entries]


@pytest.mark.parametrize(
    "page, feed",
    [
        ("/", "/feeds/daily.xml"),
        ("/trending", "/feeds/trending.atom"),
        ("/categories/cs.CL", "/feeds/category.xml?code=cs.CL"),
        ("/authors/Ada Lovelace", "/feeds/author.xml?name=Ada+Lovelace"),
        ("/search?q=transformers", "/feeds/search.xml?q=transformers"),
    ],
)
def test_pages_announce_their_feeds(client, papers, page, feed):
    html = client.get(page).content.decode()
    links = re.findall(
        r'<link rel="alternate" type="application/(?:rss|atom)\+xml" title="[^"]*" href="([^"]+)"', html
    )
    assert feed in [link.replace("&amp;", "&") for link in links]


def test_a_search_feed_needs_a_query(client, papers):
    response = client.get("/feeds/search.xml")
    assert response.status_code == 400 and "needs a query" in response.content.decode()


def test_a_filtered_search_announces_the_feed_of_the_same_search(client, papers):
    """The feed links of /search?q=…&cat=… had the words only: subscribers got every category."""
    html = client.get("/search?q=transformers&cat=cs.LG&mode=lexical").content.decode()
    links = [
        link.replace("&amp;", "&")
        for link in re.findall(
            r'<link rel="alternate" type="application/atom\+xml" title="[^"]*" href="([^"]+)"', html
        )
    ]
    assert links == ["/feeds/search.atom?q=transformers&mode=lexical&cat=cs.LG"], links
    feed = feedparser.parse(client.get(links[0]).content)
    assert feed.entries == [] and "cs.LG" in feed.feed.title
    assert feed.feed.link.endswith("/search?q=transformers&mode=lexical&cat=cs.LG")
    everything = feedparser.parse(client.get("/feeds/search.atom?q=transformers&mode=lexical").content)
    assert "Transformers for everything" in [e.title for e in everything.entries]


@pytest.mark.parametrize("url", ["/feeds/daily.atom", "/feeds/search.xml?q=transformers"])
def test_a_feed_reader_polling_an_unchanged_feed_gets_a_304(client, papers, url):
    """Feeds sent no ETag, so a reader polling every few minutes downloaded the whole feed
    (70 KB for the demo's daily feed) each time."""
    first = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    etag = first["ETag"]
    again = client.get(url, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    add_paper("2411.00409", "Transformers, again", listed=timezone.localdate(), hf_upvotes=9)
    search.sync(embed=False)
    changed = client.get(url, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


def _store(**fields):
    from paperroute.catalog.ingest import Importer
    from paperroute.catalog.records import PaperRecord

    record = PaperRecord(source="arxiv-listing", position="1", categories=["cs.CL"], **fields)
    assert not Importer("arxiv-listing").store([record]).skipped


def _entry_dates(client, url: str) -> dict[str, tuple | None]:
    """Each entry's date: RSS's pubDate, Atom's published."""
    parsed = feedparser.parse(client.get(url).content)
    return {e.title: tuple(e.published_parsed)[:6] if "published" in e else None for e in parsed.entries}


@pytest.mark.django_db
def test_a_paper_without_dates_is_not_dated_the_day_the_site_loaded_it(client):
    """A paper arXiv's listing showed only as a replacement has no submission, announcement or
    listing day: feeds dated it at the moment the site stored it, and a feed reader showed a
    paper from 2024 as new. Its date is what the pages show: its first version's date when a
    source gave one, else the month its arXiv id names (as its BibTeX and its page say)."""
    _store(
        title="Transformers replaced",
        arxiv_id="2411.00490",
        abstract="Transformers, second version.",
        version=2,
        versions={2: None},
        announcements=[(date(2024, 11, 28), "replace")],
    )
    _store(
        title="Transformers with a dated first version",
        arxiv_id="2406.00491",
        abstract="Transformers, dated by the arXiv API.",
        version=2,
        versions={1: datetime(2024, 6, 3, 17, 30, tzinfo=UTC), 2: None},
        announcements=[(date(2024, 11, 28), "cross")],
    )
    _store(
        title="Transformers announced",
        arxiv_id="2411.00492",
        abstract="Transformers, new in arXiv's listing, which gives the day alone.",
        announcements=[(date(2024, 11, 28), "new")],
    )
    _store(
        title="Transformers from nowhere",
        key="seed:transformers",
        abstract="Transformers, with nothing known of when.",
    )
    search.sync(embed=False)
    for fmt in ("xml", "atom"):
        dates = _entry_dates(client, f"/feeds/search.{fmt}?q=transformers")
        # A day without a time is given at noon UTC: a reader shows it in its own zone, and
        # midnight UTC was the evening before west of UTC. A real time stays as it is.
        assert dates["Transformers replaced"] == (2024, 11, 1, 12, 0, 0)
        assert dates["Transformers announced"] == (2024, 11, 28, 12, 0, 0)
        for zone in ("America/Los_Angeles", "Pacific/Honolulu", "Asia/Tokyo"):
            shown = datetime(*dates["Transformers announced"], tzinfo=UTC).astimezone(ZoneInfo(zone))
            assert shown.date() == date(2024, 11, 28), zone
        assert dates["Transformers with a dated first version"] == (2024, 6, 3, 17, 30, 0)
        assert dates["Transformers from nowhere"] is None  # no date rather than an invented one
    page = client.get("/papers/2411.00490").content.decode()
    assert "<dt>First version</dt><dd>November 2024" in page
    dated = client.get("/papers/2406.00491").content.decode()
    assert "First version</dt>" not in dated and "v1</a> · Jun 3, 2024" in dated


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["xml", "atom"])
def test_a_title_that_reads_as_nothing_keeps_the_days_feed_working(client, fmt):
    """A title made only of TeX that is no text (`\\label{…}`) is nothing as plain text, and Atom
    refuses an entry without a title: the day's Atom feed was a 500 for every reader."""
    today = timezone.localdate()
    add_paper("2411.00405", "Transformers for everything", listed=today)
    add_paper("2411.00406", r"\label{sec:intro}", listed=today, abstract="")
    response = client.get(f"/feeds/daily.{fmt}")
    assert response.status_code == 200
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    titles = {e.link.rsplit("/", 1)[-1]: e.title for e in parsed.entries}
    assert titles == {"2411.00405": "Transformers for everything", "2411.00406": r"\label{sec:intro}"}
