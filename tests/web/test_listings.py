"""Listing pages: today or the latest day, days, weeks, months, pagination and bad dates."""

import html
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone as dj_timezone

from paperroute.catalog.models import Paper
from tests.community.helpers import add_paper


def titles(response) -> list[str]:
    return re.findall(r'<h3 class="card-title"[^>]*><a [^>]*>(.*?)</a>', response.content.decode())


def category_chips(page: str) -> list[tuple[str, str, str | None]]:
    """Each category chip on a page of cards: the code it shows, its accessible name (its text,
    the visually hidden words too) and its tooltip."""
    chips = []
    for attributes, inner in re.findall(r'<a class="chip" ([^>]*)>(.*?)</a>', page, re.S):
        shown = re.sub(r'<span class="visually-hidden">.*?</span>', "", inner)
        title = re.search(r'title="([^"]*)"', attributes)
        chips.append((shown, re.sub(r"<[^>]+>", "", inner), title and html.unescape(title.group(1))))
    return chips


@pytest.mark.django_db
def test_home_shows_todays_papers_most_upvoted_first(client):
    today = dj_timezone.localdate()
    add_paper("2411.00101", "Quiet paper", listed=today, hf_upvotes=1)
    add_paper("2411.00102", "Popular paper", listed=today, hf_upvotes=40)
    add_paper("2411.00103", "Newer unvoted", listed=today, published=datetime(2024, 11, 27, tzinfo=UTC))
    add_paper("2411.00104", "Older unvoted", listed=today, published=datetime(2024, 11, 20, tzinfo=UTC))
    add_paper("2411.00105", "Yesterday's", listed=today - timedelta(days=1), hf_upvotes=99)
    response = client.get("/")
    assert response.status_code == 200
    # The community's picks (here: the Hugging Face papers) come first...
    assert titles(response) == ["Popular paper", "Quiet paper"]
    assert "Showing the most recent day" not in response.content.decode()
    # ...and one click shows everything new, most upvoted, then newest.
    everything = client.get("/?view=all")
    assert titles(everything) == ["Popular paper", "Quiet paper", "Newer unvoted", "Older unvoted"]


@pytest.mark.django_db
def test_home_a_day_or_two_after_the_last_papers_says_none_are_listed_today_yet(client):
    from datetime import timedelta

    from django.utils import timezone

    add_paper("2411.00108", "Two days ago", listed=timezone.localdate() - timedelta(days=2))
    page = client.get("/").content.decode()
    assert "No papers have been listed today" in page and "yet" in page and "Two days ago" in page


@pytest.mark.django_db
def test_home_on_a_day_without_papers_shows_the_latest_day_and_says_so(client):
    add_paper("2411.00106", "From July", listed=date(2026, 7, 31), hf_upvotes=3)
    add_paper("2411.00107", "Older", listed=date(2024, 11, 28))
    page = client.get("/").content.decode()
    # Months without papers: the site is idle, not late ("not listed today yet" read oddly).
    assert "No papers have been listed since July 31, 2026" in page and "yet" not in page
    assert "Friday, July 31, 2026" in page and "From July" in page and "Older" not in page
    # The "Previous" link leads to the day before that had papers.
    assert 'href="/papers/date/2024-11-28"' in page


@pytest.mark.django_db
def test_a_paper_dated_in_the_future_does_not_hide_the_latest_days(client):
    """A record dated 2027-12-31 by mistake became "the most recent day" of the home page, the
    daily feed and the API, and hid yesterday's papers from all three until that date."""
    yesterday = dj_timezone.localdate() - timedelta(days=1)
    add_paper("2411.00121", "Yesterdays paper", listed=yesterday)
    add_paper("2411.00122", "Typo-dated paper", listed=dj_timezone.localdate() + timedelta(days=200))
    home = client.get("/")
    assert titles(home) == ["Yesterdays paper"]
    feed = client.get("/feeds/daily.xml").content.decode()
    assert "Yesterdays paper" in feed
    assert "Typo-dated" not in feed
    assert [p["title"] for p in client.get("/api/daily_papers").json()] == ["Yesterdays paper"]
    assert "Typo-dated paper" not in client.get("/trending").content.decode()


@pytest.mark.django_db
def test_day_week_and_month_listings(client):
    add_paper("2411.00110", "Thursday paper", listed=date(2024, 11, 28))
    add_paper("2411.00111", "Monday paper", listed=date(2024, 11, 25))
    add_paper("2411.00112", "December paper", listed=date(2024, 12, 2))
    assert titles(client.get("/papers/date/2024-11-28")) == ["Thursday paper"]
    week = client.get("/papers/week/2024-W48")
    assert sorted(titles(week)) == ["Monday paper", "Thursday paper"]
    assert "Week 48, 2024 · Nov 25 – Dec 1" in week.content.decode()
    # A week that begins in one year and ends in the next names both.
    add_paper("2412.00113", "New Year paper", listed=date(2024, 12, 31))
    assert "Week 1, 2025 · Dec 30, 2024 – Jan 5, 2025" in client.get("/papers/week/2025-W01").content.decode()
    assert "<h1>Weekly Papers</h1>" in week.content.decode()
    assert "<h1>Monthly Papers</h1>" in client.get("/papers/month/2024-11").content.decode()
    assert sorted(titles(client.get("/papers/month/2024-11"))) == ["Monday paper", "Thursday paper"]
    tabs = client.get("/papers/date/2024-11-28").content.decode()
    for href in ("/papers/week/2024-W48", "/papers/month/2024-11", "/trending"):
        assert f'href="{href}"' in tabs
    empty = client.get("/papers/date/2024-11-30").content.decode()
    assert "No papers listed on this day" in empty and "/papers/date/2024-12-02" in empty


@pytest.mark.django_db
def test_long_listings_are_paginated(client):
    for i in range(53):
        add_paper(f"2411.{i + 200:05d}", f"Paper number {i}", listed=date(2024, 11, 28))
    first = client.get("/papers/date/2024-11-28")
    second = client.get("/papers/date/2024-11-28?page=2")
    assert len(titles(first)) == 50 and len(titles(second)) == 3
    page = first.content.decode()
    day = "/papers/date/2024-11-28"
    assert f'<a aria-current="page" href="{day}?page=1">' in page and f'href="{day}?page=2"' in page
    assert 'rel="next"' in page
    assert set(titles(first)).isdisjoint(titles(second))
    assert client.get("/papers/date/2024-11-28?page=3").status_code == 404
    assert client.get("/papers/date/2024-11-28?page=x").status_code == 404
    # The tab and the history tell the pages and the views apart (they all read the same).
    assert re.search(r"<title>[^<]*page 2[^<]*</title>", second.content.decode())
    assert "page 2" not in re.search(r"<title>[^<]*</title>", page).group(0)
    everything = client.get("/papers/date/2024-11-28?view=all").content.decode()
    assert re.search(r"<title>[^<]*All new on arXiv[^<]*</title>", everything)


@pytest.mark.django_db
def test_a_category_or_an_authors_second_page_says_so_in_its_title(client):
    """Page 2 of a category or an author had page 1's title: the tab, the history and a screen
    reader's list of open pages could not tell them apart (day listings and search did)."""
    for i in range(53):
        add_paper(f"2411.{i + 300:05d}", f"Paper number {i}", listed=date(2024, 11, 28))
    for path in ("/categories/cs.CL", "/authors/Ada Lovelace"):
        first = client.get(path).content.decode()
        second = client.get(path + "?page=2").content.decode()
        title = re.search(r"<title>([^<]*)</title>", second).group(1)
        assert title.endswith("· page 2 · paperroute"), title
        assert "page 2" not in re.search(r"<title>[^<]*</title>", first).group(0)
        assert re.search(r"<h1>([^<]*)</h1>", second).group(1) == re.search(r"<h1>([^<]*)</h1>", first).group(
            1
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/papers/date/2024-13-01",
        "/papers/date/2024-02-30",
        "/papers/date/20241128",
        "/papers/date/x",
        "/papers/date/0000-01-01",
        "/papers/week/2024-W54",
        "/papers/week/2024-W00",
        "/papers/week/2024-48",
        "/papers/month/2024-13",
        "/papers/month/2024-00",
        "/papers/month/0000-01",
        "/papers/month/24-1",
        "/papers/9999.99999",
        "/papers/a/b/c",
        "/papers/seed:missing.bib",
        "/categories/no.such",
        "/authors/Nobody%20Here",
        "/feeds/nothing.xml",
        "/feeds/daily.json",
    ],
)
def test_malformed_or_unknown_addresses_are_404_pages_not_errors(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "Not found" in response.content.decode()


@pytest.mark.django_db
def test_the_far_ends_of_the_calendar_do_not_break_navigation(client):
    assert client.get("/papers/month/9999-12").status_code == 200
    assert client.get("/papers/week/0001-W01").status_code == 200
    assert client.get("/papers/date/9999-12-31").status_code == 200


def _cards(response) -> list[str]:
    return titles(response)


@pytest.fixture
def arxiv_day(db):
    """An arXiv day: three categories, one paper submitted to the daily feed, one upvoted here."""
    from paperroute.community import votes
    from tests.community.helpers import user

    day = date(2024, 11, 28)
    add_paper("2411.00120", "Submitted to the daily feed", listed=day, hf_upvotes=3, categories=("cs.CL",))
    voted = add_paper("2411.00121", "Upvoted here", listed=day, categories=("cs.LG", "stat.ML"))
    votes.set_vote(user("fan"), voted, True)
    add_paper(
        "2411.00122",
        "A physics paper",
        listed=day,
        categories=("hep-th",),
        published=datetime(2024, 11, 27, tzinfo=UTC),
    )
    add_paper(
        "2411.00123",
        "A vision paper",
        listed=day,
        categories=("cs.CV",),
        published=datetime(2024, 11, 26, tzinfo=UTC),
    )
    return day


def test_a_day_opens_with_the_community_picks_and_one_click_shows_all(client, arxiv_day):
    page = client.get("/papers/date/2024-11-28")
    assert sorted(_cards(page)) == ["Submitted to the daily feed", "Upvoted here"]
    html = page.content.decode()
    assert 'Community picks <span class="count">2</span>' in html
    assert 'All new on arXiv <span class="count">4</span>' in html
    # Everything new opens with the categories this site follows (not hep-th)...
    everything = client.get("/papers/date/2024-11-28?view=all")
    assert sorted(_cards(everything)) == ["A vision paper", "Submitted to the daily feed", "Upvoted here"]
    assert "Showing the categories this site follows" in everything.content.decode()
    # ...and every category is one more click.
    assert len(_cards(client.get("/papers/date/2024-11-28?view=all&cat="))) == 4


@pytest.mark.django_db
def test_a_day_whose_papers_have_no_categories_yet_shows_them_all(client):
    # Papers known only from Hugging Face's feed carry no arXiv categories until arXiv's listing.
    for number in (1, 2):
        add_paper(f"2411.0050{number}", f"Picked paper {number}", listed=date(2024, 11, 29), categories=())
    everything = client.get("/papers/date/2024-11-29?view=all")
    assert sorted(_cards(everything)) == ["Picked paper 1", "Picked paper 2"]
    assert "No papers of this day match" not in everything.content.decode()
    assert "Showing the categories this site follows" not in everything.content.decode()


def test_category_facets_combine_and_count(client, arxiv_day):
    page = client.get("/papers/date/2024-11-28?view=all&cat=")
    html = page.content.decode()
    for code in ("cs.CL", "cs.LG", "stat.ML", "hep-th", "cs.CV"):
        assert f'{code} <span class="count">1</span>' in html, code
    both = client.get("/papers/date/2024-11-28?view=all&cat=hep-th&cat=cs.CV")
    assert sorted(_cards(both)) == ["A physics paper", "A vision paper"]
    # An archive stands for its categories; a facet link removes a chosen category.
    assert sorted(_cards(client.get("/papers/date/2024-11-28?view=all&cat=cs"))) == [
        "A vision paper",
        "Submitted to the daily feed",
        "Upvoted here",
    ]
    assert 'href="?view=all&amp;cat=cs.CV"' in both.content.decode()


def test_sorting_by_votes_trending_and_newest(client, arxiv_day):
    base = "/papers/date/2024-11-28?view=all&cat="
    assert _cards(client.get(base))[:2] == ["Submitted to the daily feed", "Upvoted here"]
    # The vote here is fresher than Hugging Face's upvotes of that day.
    assert _cards(client.get(base + "&sort=trending"))[:2] == ["Upvoted here", "Submitted to the daily feed"]
    newest = _cards(client.get(base + "&sort=newest"))
    assert newest[0] == "A physics paper" and newest[-1] == "A vision paper"


def _link(response, label: str) -> str:
    """The address of the listing link whose text is `label`, resolved against the page's."""
    import html
    from urllib.parse import urljoin

    found = re.search(r'href="([^"]*)"[^>]*>(?:<[^>]+>)*\s*' + re.escape(label), response.content.decode())
    assert found, label
    return urljoin(response.request["PATH_INFO"], html.unescape(found.group(1)))


def test_every_category_stays_chosen_across_sorting_and_pages(client, arxiv_day):
    """The choice of every category once lasted one page: the sort links and the page links left out the
    empty cat= that chose it, so "Next" showed page 2 of the site's categories instead."""
    for number in range(50):
        add_paper(
            f"2411.0{number + 200:04d}", f"Physics paper {number}", listed=arxiv_day, categories=("hep-th",)
        )
    everything = client.get("/papers/date/2024-11-28?view=all&cat=")
    assert "54 papers" in everything.content.decode()
    newest = client.get(_link(everything, "Newest"))
    assert "54 papers · newest first" in newest.content.decode()
    second = client.get(_link(newest, "Next"))
    assert "54 papers · newest first" in second.content.decode()
    assert len(_cards(second)) == 4 and "A vision paper" in _cards(second)


def test_a_readers_categories_are_remembered(reader_client, arxiv_day):
    page = reader_client.get("/papers/date/2024-11-28?view=all&cat=hep-th").content.decode()
    assert "Open listings with these categories" in page
    saved = reader_client.post(
        "/account/categories",
        {"categories": ["hep-th"], "next": "/papers/date/2024-11-28?view=all&cat=hep-th"},
    )
    assert saved.status_code == 302
    assert _cards(reader_client.get("/papers/date/2024-11-28?view=all")) == ["A physics paper"]
    assert "Showing your categories" in reader_client.get("/papers/date/2024-11-28?view=all").content.decode()
    assert reader_client.post("/account/categories", {"categories": ["no such; thing"]}).status_code == 400
    reader_client.post("/account/categories", {})
    assert len(_cards(reader_client.get("/papers/date/2024-11-28?view=all&cat="))) == 4


def test_navigation_skips_to_periods_that_have_papers(client, db):
    add_paper("2411.00130", "October paper", listed=date(2024, 10, 3))
    add_paper("2411.00131", "November paper", listed=date(2024, 11, 28))
    week = client.get("/papers/week/2024-W48").content.decode()
    assert 'rel="prev" href="/papers/week/2024-W40"' in week  # not the empty W47
    month = client.get("/papers/month/2024-11").content.decode()
    assert 'rel="prev" href="/papers/month/2024-10"' in month
    trending = client.get("/trending").content.decode()
    assert 'href="/papers/date/2024-11-28"' in trending and 'href="/papers/week/2024-W48"' in trending


def test_themes_are_chips_that_filter_and_have_feeds(client, arxiv_day):
    from paperroute.search.models import ThemeSet

    ids = dict(Paper.objects.values_list("title", "pk"))
    ThemeSet.objects.create(
        kind="day",
        start=arxiv_day,
        fingerprint="x",
        themes=[
            {
                "slug": "language-models",
                "label": "language models · decoding",
                "terms": [],
                "members": [ids["Submitted to the daily feed"], ids["A physics paper"]],
            },
            {"slug": "vision", "label": "vision · images", "terms": [], "members": [ids["A vision paper"]]},
        ],
    )
    page = client.get("/papers/date/2024-11-28?view=all&cat=").content.decode()
    assert 'language models · decoding <span class="count">2</span>' in page
    chosen = client.get("/papers/date/2024-11-28?view=all&cat=&theme=language-models")
    assert sorted(_cards(chosen)) == ["A physics paper", "Submitted to the daily feed"]
    assert "/feeds/theme.xml?period=2024-11-28&amp;theme=language-models" in chosen.content.decode()
    import feedparser

    feed = feedparser.parse(client.get("/feeds/theme.xml?period=2024-11-28&theme=language-models").content)
    assert [e.title for e in feed.entries] == ["Submitted to the daily feed", "A physics paper"]
    assert client.get("/feeds/theme.xml?period=2024-11-28&theme=nope").status_code == 404


@pytest.mark.django_db
def test_a_collaboration_paper_with_thousands_of_authors_lists_like_any_other(client):
    """ATLAS and CMS papers name some 3,000 authors; a page of them once crashed SQLite, whose
    expressions cannot hold one term per author."""
    day = date(2024, 11, 28)
    authors = tuple(f"Physicist Number{i} Collaborator" for i in range(2500))
    add_paper(
        "2411.09990",
        "Observation of a collaboration-sized author list",
        listed=day,
        hf_upvotes=1,
        authors=authors,
        categories=("hep-ex",),
    )
    page = client.get(f"/papers/date/{day}?view=all&cat=")
    assert page.status_code == 200
    assert "Observation of a collaboration-sized author list" in page.content.decode()


@pytest.mark.django_db
def test_an_archive_has_a_page_of_its_categories_papers(client):
    """`cs` can be followed and filtered on: its page lists every cs.* category's papers."""
    add_paper("2411.00120", "Language paper", listed=date(2024, 11, 28), categories=("cs.CL",))
    add_paper("2411.00121", "Learning paper", listed=date(2024, 11, 28), categories=("cs.LG", "cs.AI"))
    add_paper("2411.00122", "Number paper", listed=date(2024, 11, 28), categories=("math.NT",))
    assert titles(client.get("/categories/cs")) == ["Language paper", "Learning paper"]
    assert titles(client.get("/categories/cs.CL")) == ["Language paper"]
    assert client.get("/categories/zz").status_code == 404
    assert client.get("/categories/c").status_code == 404


@pytest.mark.django_db
def test_a_category_page_counts_the_papers_it_lists_newest_day_first(reader_client):
    """A category page reads its papers and counts them in two different ways (the count from
    the category links alone, which is faster): the number it gives is the number it lists,
    a paper the reader said no to left out of both, and its newest day's papers come first."""
    for n, day in enumerate((date(2024, 11, 26), date(2024, 11, 27), date(2024, 11, 28))):
        add_paper(f"2411.0013{n}", f"Paper of the {day.day}th", listed=day, categories=("cs.CL",))
    add_paper("2411.00139", "Cross-listed", listed=date(2024, 11, 25), categories=("cs.LG", "cs.CL"))
    add_paper("2411.00138", "Elsewhere", listed=date(2024, 11, 28), categories=("math.NT",))
    for path in ("/categories/cs.CL", "/categories/cs"):
        page = reader_client.get(path)
        assert titles(page) == ["Paper of the 28th", "Paper of the 27th", "Paper of the 26th", "Cross-listed"]
        assert "4 papers" in page.content.decode()
    assert reader_client.post("/papers/2411.00131/state", {"action": "dismiss"}).status_code in (200, 302)
    for path in ("/categories/cs.CL", "/categories/cs"):
        page = reader_client.get(path)
        assert titles(page) == ["Paper of the 28th", "Paper of the 26th", "Cross-listed"]
        assert "3 papers" in page.content.decode()


@pytest.mark.django_db
def test_a_category_page_says_what_its_code_means(client):
    """A category page said only "Papers in cs.LG": what cs.LG is was in a tooltip on the
    category chips, which a phone or a keyboard never shows."""
    add_paper("2411.00400", "A learning paper", categories=("cs.LG",))
    add_paper("2411.00401", "A theory paper", categories=("hep-th",))
    assert '<p class="muted">Machine Learning</p>' in client.get("/categories/cs.LG").content.decode()
    assert (
        '<p class="muted">High Energy Physics - Theory</p>'
        in client.get("/categories/hep-th").content.decode()
    )


@pytest.mark.django_db
def test_a_cards_category_chips_name_their_categories(client):
    """A card's chips said only "cs.RO" and "q-bio.NC", to a screen reader too. Each stays as
    compact, its name read out after the code it shows (which speech input can say) and shown
    as a tooltip; a code with no known name stays bare."""
    add_paper(
        "2411.00500", "A robot paper", listed=date(2024, 11, 28), categories=("cs.RO", "q-bio.NC", "cmp-lg")
    )
    page = client.get("/papers/date/2024-11-28?view=all&cat=").content.decode()
    assert category_chips(page) == [
        ("cs.RO", "cs.RO (Robotics)", "cs.RO (Robotics)"),
        ("cmp-lg", "cmp-lg", None),
        ("q-bio.NC", "q-bio.NC (Neurons and Cognition)", "q-bio.NC (Neurons and Cognition)"),
    ]


def _tab_links(page: str) -> dict[str, str]:
    nav = re.search(r'<nav class="tabs".*?</nav>', page, re.S).group(0)
    return {label: href for href, label in re.findall(r'<a href="([^"]+)"[^>]*>(\w+)</a>', nav)}


def test_tabs_of_an_empty_period_go_to_the_nearest_period_with_papers(client, db):
    """From an empty week the Daily tab led to the week's empty Monday, and from an empty day
    the Monthly tab to its empty month: the tabs go where papers are, as Previous and Next do."""
    add_paper("2411.00140", "November paper", listed=date(2024, 11, 28))
    add_paper("2407.00141", "July paper", listed=date(2026, 7, 31))
    week = _tab_links(client.get("/papers/week/2024-W47").content.decode())
    assert week["Daily"] == "/papers/date/2024-11-28"  # not the empty 2024-11-18
    assert week["Monthly"] == "/papers/month/2024-11"  # the week's month, which has papers
    assert week["Weekly"] == "/papers/week/2024-W47"  # this page
    day = _tab_links(client.get("/papers/date/2026-08-01").content.decode())
    assert day["Monthly"] == "/papers/month/2026-07"  # not the empty 2026-08
    assert day["Weekly"] == "/papers/week/2026-W31"  # the day's week has July 31
    month = _tab_links(client.get("/papers/month/2026-08").content.decode())
    assert month["Daily"] == "/papers/date/2026-07-31" and month["Weekly"] == "/papers/week/2026-W31"
    # Between two periods with papers, the nearer one: 2024-12-02 is 4 days after November 28,
    # 2024-12-30 far from both.
    add_paper("2412.00142", "December paper", listed=date(2024, 12, 30))
    near_end = _tab_links(client.get("/papers/date/2024-12-27").content.decode())
    assert near_end["Monthly"] == "/papers/month/2024-12" and near_end["Weekly"] == "/papers/week/2025-W01"
    near_start = _tab_links(client.get("/papers/week/2024-W49").content.decode())
    assert near_start["Daily"] == "/papers/date/2024-11-28"


def test_an_empty_week_or_month_links_the_nearest_ones_with_papers(client, db):
    """An empty day linked the nearest days with papers; an empty week or month said only "No
    papers listed in this week"."""
    add_paper("2411.00150", "November paper", listed=date(2024, 11, 28))
    add_paper("2407.00151", "July paper", listed=date(2026, 7, 31))
    week = client.get("/papers/week/2025-W10").content.decode()
    empty = week[week.index('<div class="empty">') :]
    assert "No papers listed in this week" in empty
    assert '<a href="/papers/week/2024-W48">← Week 48, 2024 · Nov 25 – Dec 1</a>' in empty
    assert '<a href="/papers/week/2026-W31">Week 31, 2026 · Jul 27 – Aug 2 →</a>' in empty
    month = client.get("/papers/month/2026-08").content.decode()
    empty = month[month.index('<div class="empty">') :]
    assert "No papers listed in this month" in empty
    assert '<a href="/papers/month/2026-07">← July 2026</a>' in empty and "→" not in empty
