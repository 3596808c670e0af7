"""A reader's library in a real browser: save from a card, collect from the paper page, hide a
paper, import a .bib, and watch "For you" change after "not interested"."""

from __future__ import annotations

import re
import time

import pytest

from paperroute.catalog.ingest import Importer
from paperroute.catalog.sources import hf_daily
from tests.browser.conftest import LiveServer
from tests.browser.test_pages import _signed_in
from tests.community.helpers import user
from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow
DAY = "2026-07-31"  # the recorded Hugging Face day: 30 papers
LISTING = f"/papers/date/{DAY}"


@pytest.fixture
def site(cli_env):
    page = hf_daily.parse((FIXTURES / "hf_daily_papers/daily_papers_2026-07-31_30entries.json").read_bytes())
    Importer("hf-daily").store(page.items)
    user("moderator", staff=True)
    from django.conf import settings

    server = LiveServer({**cli_env, "PAPERROUTE_SECRET_KEY": settings.SECRET_KEY})
    try:
        yield server.url
    finally:
        server.stop()


def _for_you(page, base: str) -> list[str]:
    """The For-you tab's paper ids, once the worker has embedded the day (it starts with it)."""
    deadline = time.monotonic() + 90
    while True:
        page.goto(f"{base}{LISTING}?view=foryou")
        keys = [
            href.rsplit("/", 1)[1]
            for href in page.locator(".card .card-title a").evaluate_all("links => links.map(a => a.href)")
        ]
        if keys or time.monotonic() > deadline:
            return keys
        time.sleep(1)


def test_save_collect_hide_import_and_for_you(site, browser, tmp_path):
    base = site
    context = _signed_in(browser, base, viewport={"width": 1280, "height": 900})
    page = context.new_page()

    # Save from a card, with the script: the button says so without a reload.
    page.goto(base + LISTING)
    first = page.locator(".card").first
    first_title = first.locator(".card-title").inner_text()
    first.get_by_role("button", name=re.compile("^Save")).click()
    first.locator("button[aria-pressed='true']", has_text="Saved").wait_for()

    # Collect: make a collection in the library, then add the paper from its page.
    page.goto(base + "/library")
    assert first_title in page.locator("#saved-h ~ .cards").inner_text()
    page.locator("summary", has_text="New collection").click()
    page.get_by_label("Name").fill("Reading group")
    page.get_by_role("button", name="Make collection").click()
    page.wait_for_url(re.compile(r"/collections/\d+$"))
    collection_url = page.url
    page.goto(base + LISTING)
    page.get_by_role("link", name=first_title, exact=True).click()
    # The paper page's Save button: pressed, it looks pressed, as it does when the page loads so.
    save = page.locator("#library-panel button[data-on]")
    save.click()
    page.locator("#library-panel button[data-on][aria-pressed='false']").wait_for()
    assert "button-quiet" in save.get_attribute("class")
    save.click()
    page.locator("#library-panel button[data-on][aria-pressed='true']").wait_for()
    assert "button-quiet" not in save.get_attribute("class")
    page.locator("summary", has_text="Collections").click()
    page.get_by_role("button", name="Add to “Reading group”").click()
    page.goto(collection_url)
    assert first_title in page.locator("main").inner_text()

    # For you learns from the saved paper, and says so.
    before = _for_you(page, base)
    assert before, "For you stayed empty: the worker never embedded the day"
    assert page.locator(".card .why").first.inner_text().startswith("like “")

    # Not interested: the card leaves at once, and For you changes.
    dropped = page.locator(".card").first
    dropped_title = dropped.locator(".card-title").inner_text()
    counted = int(page.locator(".count-line").inner_text().split()[0])
    dropped.get_by_role("button", name=re.compile("^Not interested")).click()
    page.get_by_text("Hidden. You will see fewer papers like it.").wait_for()
    assert dropped_title not in page.locator(".cards").inner_text()
    assert page.locator(".count-line").inner_text().startswith(f"{counted - 1} paper")
    after = _for_you(page, base)
    assert before[0] not in after and after != before[1 : len(after) + 1]
    page.goto(base + LISTING + "?view=all&cat=")
    assert dropped_title not in page.locator(".cards").inner_text()  # hidden from listings too

    # Import a .bib: two entries by arXiv id, one by title, one that matches nothing.
    bib = tmp_path / "mine.bib"
    bib.write_text(
        "@misc{a, title={Anything}, eprint={2607.23193}, archivePrefix={arXiv}}\n"
        "@misc{b, title={Something}, url={https://arxiv.org/abs/2607.28319v2}}\n"
        "@article{c, title={{See2Think}: Do Multimodal Models Really Use Intermediate Visual "
        "States?}, year={2026}}\n"
        "@article{d, title={A paper nobody here has heard of}, doi={10.1000/nowhere}}\n"
    )
    page.goto(base + "/library/import")
    page.get_by_label(re.compile("^A file")).set_input_files(str(bib))
    page.get_by_label("Put the papers in").select_option(index=1)  # Saved, then Reading group
    page.get_by_role("button", name="Import").click()
    status = page.locator(".import-report [role=status]")
    status.wait_for()
    summary = status.inner_text()
    assert "Read 4 entries from the BibTeX" in summary and "3 entries matched papers here" in summary, summary
    assert "1 entry matched nothing here" in summary, summary
    page.get_by_role("link", name=re.compile("^Open Reading group")).click()
    page.get_by_role("heading", name="Reading group", exact=True).wait_for()  # the new page, not the old
    assert page.locator(".card").count() == 4  # the saved paper and the three imported
