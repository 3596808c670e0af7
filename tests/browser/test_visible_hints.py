"""Hints a reader needs are text on the page, not tooltips: a phone, the keyboard and most screen
readers never show a title attribute. A category chip's name and what "Not interested" does are
visible at 320 px and read out as the control's description; a card's chip says its name with its
code, and a paper's page shows it."""

from __future__ import annotations

from datetime import date

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer
from tests.browser.test_discussions import _signed_in
from tests.community.helpers import add_paper, user
from tests.conftest import module_database, subprocess_env

pytestmark = [pytest.mark.slow, pytest.mark.markup]
DAY = date(2024, 11, 28)
LISTING = f"/papers/date/{DAY}?view=all&cat="
NAMES = {
    "cs.LG": "Machine Learning",
    "q-bio.NC": "Neurons and Cognition",
    "astro-ph.GA": "Astrophysics of Galaxies",
}
DISMISS = "“Not interested” hides a paper here and shows you fewer like it; your library can bring it back."


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.conf import settings
    from django.test import override_settings

    from paperroute import search

    data_dir = tmp_path_factory.mktemp("hints") / "data"
    with module_database(django_db_blocker):
        for number, code in enumerate(NAMES):
            add_paper(f"2411.1800{number}", f"Sparse tokenizers for {code}", listed=DAY, categories=(code,))
        user("reader")
        with override_settings(DATA_DIR=data_dir):
            search.sync(embed=False)
        server = LiveServer({**subprocess_env(data_dir), "PAPERROUTE_SECRET_KEY": settings.SECRET_KEY})
        try:
            yield server.url
        finally:
            server.stop()


def _inside(page, locator, width: int) -> bool:
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


def _axe(page, where: str) -> list[str]:
    return [f"{where}: {v['id']}" for v in Axe().run(page).response["violations"]]


def test_a_category_chip_says_its_name_on_a_phone(site, browser):
    page = browser.new_context(viewport={"width": 320, "height": 700}).new_page()
    page.goto(site + LISTING)
    facets = page.get_by_role("navigation", name="Categories")
    for code, name in NAMES.items():
        chip = facets.get_by_role("link", name=f"{code} 1", exact=True)
        expect(chip).to_have_accessible_description(name)
        assert chip.get_attribute("title") is None
    # A tap opens the names, each beside its code, inside the phone's width.
    facets.get_by_text("What the category codes mean").click()
    for code, name in NAMES.items():
        shown = facets.locator("dd", has_text=name)
        assert shown.is_visible() and _inside(page, shown, 320), name
        assert facets.locator("dt", has_text=code).is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


def test_a_category_is_named_on_a_card_and_beside_its_code_on_the_papers_page(site, browser):
    """A card's chip stays the code, its name read out with it; the paper's page shows the name."""
    page = browser.new_context(viewport={"width": 320, "height": 700}).new_page()
    page.goto(site + "/search?q=sparse+tokenizers")
    for code, name in NAMES.items():
        chip = page.locator(".card").get_by_role("link", name=f"{code} ({name})", exact=True)
        # Only the code shows: the name takes no room.
        assert chip.get_by_text(name).bounding_box()["width"] <= 1, code
        expect(chip).to_have_attribute("title", f"{code} ({name})")
    page.goto(site + "/papers/2411.18001")
    link = page.get_by_role("link", name="q-bio.NC Neurons and Cognition", exact=True)
    assert link.get_by_text("Neurons and Cognition").is_visible() and _inside(page, link, 320)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


def test_not_interested_says_what_it_does_on_a_phone(site, browser):
    for path in (LISTING, "/search?q=sparse+tokenizers"):
        page = _signed_in(browser, site, "reader", viewport={"width": 320, "height": 700}).new_page()
        page.goto(site + path)
        buttons = page.get_by_role("button", name="Not interested")
        assert buttons.count() == len(NAMES), path
        for button in buttons.all():
            expect(button).to_have_accessible_description(DISMISS)
            assert button.get_attribute("title") is None
        said = page.get_by_text("hides a paper here and shows you fewer like it")
        assert said.is_visible() and _inside(page, said, 320), path
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, path


def test_the_hints_pass_axe_in_light_and_dark(site, browser):
    found = []
    for scheme in ("light", "dark"):
        context = _signed_in(
            browser, site, "reader", viewport={"width": 1280, "height": 900}, color_scheme=scheme
        )
        page = context.new_page()
        page.goto(site + LISTING)
        page.get_by_text("What the category codes mean").click()
        found += _axe(page, f"{scheme} {LISTING}")
        page.goto(site + "/search?q=sparse+tokenizers")
        found += _axe(page, f"{scheme} search")
        context.close()
    assert found == []
