"""A paper's day is the same day for a reader west of UTC. Sources that know only the day
(Hugging Face's publishedAt, arXiv's announcement) give it as 00:00 UTC, which is the evening
before in Los Angeles: a listing, a paper page, a search result and a suggestion show the day,
never that instant moved to the reader's clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.browser.conftest import LiveServer
from tests.community.helpers import add_paper
from tests.conftest import module_database, subprocess_env

pytestmark = [pytest.mark.slow, pytest.mark.markup]
DAY = date(2024, 11, 28)
MIDNIGHT = "2411.18101"  # dated by its day alone: 00:00 UTC
TIMED = "2411.18102"  # submitted at a real time, the evening before in UTC
WEST = {"timezone_id": "America/Los_Angeles", "locale": "en-US"}


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.test import override_settings

    from paperroute import search

    data_dir = tmp_path_factory.mktemp("dates") / "data"
    with module_database(django_db_blocker):
        add_paper(
            MIDNIGHT,
            "Midnight tokenizers for the date line",
            listed=DAY,
            hf_upvotes=3,
            published=datetime(2024, 11, 28, tzinfo=UTC),
        )
        add_paper(
            TIMED,
            "Evening tokenizers submitted before the day",
            listed=DAY,
            hf_upvotes=2,
            published=datetime(2024, 11, 27, 18, 59, 59, tzinfo=UTC),
        )
        with override_settings(DATA_DIR=data_dir):
            search.sync(embed=False)
        server = LiveServer(subprocess_env(data_dir))
        try:
            yield server.url
        finally:
            server.stop()


def _west(browser):
    page = browser.new_context(viewport={"width": 390, "height": 844}, **WEST).new_page()
    # The browser does read the instant as the evening before: the check below means something.
    assert page.evaluate("new Date('2024-11-28T00:00:00Z').getDate()") == 27
    return page


def _fact(page, label: str):
    return page.locator(f"dl.facts dt:text-is('{label}') + dd")


def test_the_listing_shows_the_papers_day(site, browser):
    page = _west(browser)
    page.goto(f"{site}/papers/date/{DAY}")
    assert page.locator("h2.period").inner_text() == "Thursday, November 28, 2024"
    titles = page.locator(".card-title").all_inner_texts()
    assert "Midnight tokenizers for the date line" in titles


def test_the_paper_page_shows_a_day_as_a_day(site, browser):
    page = _west(browser)
    page.goto(f"{site}/papers/{MIDNIGHT}")
    assert page.locator(".crumbs").inner_text().startswith("Daily papers · Nov 28, 2024")
    # Not "November 28, 2024, 00:00 UTC": a time nobody gave, and the 27th here.
    assert _fact(page, "Submitted").inner_text() == "November 28, 2024"
    assert _fact(page, "Submitted").locator("time").get_attribute("datetime") == "2024-11-28"
    assert _fact(page, "Listed here").inner_text() == "November 28, 2024"
    # A real submission time keeps its hour, in UTC, said so.
    page.goto(f"{site}/papers/{TIMED}")
    assert _fact(page, "Submitted").inner_text() == "November 27, 2024, 18:59 UTC"
    assert _fact(page, "Submitted").locator("time").get_attribute("datetime") == "2024-11-27T18:59:59Z"


def test_a_search_result_and_a_suggestion_show_the_papers_day(site, browser):
    page = _west(browser)
    page.goto(f"{site}/search?q=midnight+tokenizers")
    card = page.locator(".card", has_text="Midnight tokenizers for the date line")
    assert card.locator(".authors").inner_text().endswith("· Nov 28, 2024")
    box = page.get_by_role("combobox", name="Search papers")
    box.fill("")
    box.type("midnight tok", delay=30)
    option = page.get_by_role("option", name="Midnight tokenizers for the date line")
    option.wait_for()
    assert option.locator(".suggest-meta").inner_text().endswith("· 2024-11-28")
