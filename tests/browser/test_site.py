"""A reader's session in a real browser: sign in by email, upvote, comment, submit, search, cite."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from paperroute.catalog.ingest import Importer
from paperroute.catalog.sources import hf_daily
from tests.browser.conftest import ARTIFACTS, LiveServer
from tests.community.arxiv_replay import respond
from tests.community.helpers import HOSTILE, add_paper
from tests.conftest import FIXTURES
from tests.replay import ReplayServer
from tests.support import smtp_server, wait_until

pytestmark = pytest.mark.slow
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def _catalogue() -> None:
    """The recorded Hugging Face day, and three papers listed today."""
    page = hf_daily.parse((FIXTURES / "hf_daily_papers/daily_papers_2026-07-31_30entries.json").read_bytes())
    Importer("hf-daily").store(page.items)
    today = timezone.localdate()
    add_paper(
        "2411.17700",
        "Sorting in $O(n \\log n)$ with learned comparators",
        listed=today,
        hf_upvotes=12,
        authors=("Jun Cui", "Ana Lima", "Wei Zhang", "Sam Okafor", "Lea Roth"),
        abstract="We show that transformers learn to compare keys, reaching $O(n \\log n)$ "
        "comparisons and $\\alpha = 0.9$ accuracy. Code: https://github.com/x/sort",
        categories=("cs.LG", "cs.DS"),
        code="https://github.com/x/sort",
    )
    add_paper(
        "2411.17701",
        "Speculative decoding without a draft model",
        listed=today,
        hf_upvotes=5,
        abstract="Speculative decoding accelerates inference of large language models.",
        categories=("cs.CL",),
    )
    add_paper(
        "2411.17702",
        f"Robust parsing of {HOSTILE}",
        listed=today,
        hf_upvotes=1,
        authors=(f"Eve {HOSTILE}",),
        abstract=f"Inputs like {HOSTILE} must stay text.",
    )


def _shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def test_a_readers_session(cli_env, browser, settings):
    _catalogue()
    with smtp_server() as mailbox, ReplayServer(respond) as arxiv:
        env = {
            **cli_env,
            "PAPERROUTE_SMTP_URL": f"smtp://127.0.0.1:{mailbox.port}",
            "PAPERROUTE_ARXIV_API_URL": arxiv.url + "/api/query",
        }
        server = LiveServer(env)
        try:
            _session(browser, server.url, mailbox)
            _screenshots(browser, server.url)
        finally:
            server.stop()


def _session(browser, base: str, mailbox) -> None:
    context = browser.new_context(
        viewport=WIDTHS["desktop"], permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    # The home page lists today's papers, most upvoted first; hostile text stays text.
    page.goto(base + "/")
    titles = page.locator(".card-title").all_inner_texts()
    assert titles[0].startswith("Sorting in O(n log n)"), titles
    assert f"Robust parsing of {HOSTILE}" in titles
    assert (
        page.get_by_role("navigation", name="Listings")
        .get_by_role("link", name="Daily")
        .get_attribute("aria-current")
        == "page"
    )

    # Date navigation: "Previous" goes to the Hugging Face day, and the tabs follow it.
    page.get_by_role("link", name=re.compile("Previous")).click()
    page.wait_for_url(re.compile(r"/papers/date/2026-07-31$"))
    assert page.locator("h2.period").inner_text() == "Friday, July 31, 2026"
    assert page.locator(".card").count() == 30
    page.get_by_role("link", name="Weekly").click()
    page.wait_for_url(re.compile(r"/papers/week/2026-W31$"))
    assert page.locator(".card").count() == 30

    # Keyboard: the skip link is the first stop and takes focus to the content.
    page.goto(base + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"

    # Sign in by the emailed link, read from the real SMTP server.
    page.get_by_role("link", name="Sign in", exact=True).click()
    page.get_by_label("Email address").fill("grace@example.org")
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_text("Check your email").wait_for()
    page.goto(mailbox.link("grace@example.org"))
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text("Signed in as grace.").wait_for()
    assert page.url == base + "/"

    # Upvote with the script; the count survives a reload (served by either web process).
    card = page.locator(".card", has_text="Speculative decoding without a draft model")
    card.locator("form[data-vote] button[aria-pressed]").click()
    card.locator("form[data-vote] button[aria-pressed='true']").wait_for()
    assert card.locator("[data-count]").inner_text() == "6"
    for _ in range(3):
        page.reload()
        assert (
            page.locator(".card", has_text="Speculative decoding without")
            .locator("[data-count]")
            .inner_text()
            == "6"
        )

    # Open the paper, comment with a link and some markup, and copy the BibTeX.
    page.get_by_role("link", name="Sorting in O(n log n) with learned comparators", exact=True).click()
    assert page.locator("meta[name=citation_arxiv_id]").get_attribute("content") == "2411.17700"
    assert page.locator("#paper-title sup, #paper-title .math").count() >= 1
    page.get_by_label(re.compile("Add a comment")).fill(f"Great! See https://example.org/notes {HOSTILE}")
    page.get_by_role("button", name="Post comment").click()
    comment = page.locator(".comment").first
    comment.wait_for()
    assert comment.get_by_role("link", name="https://example.org/notes").count() == 1
    assert HOSTILE in comment.locator(".comment-body").inner_text()
    said = page.locator(".copied")
    said.evaluate(
        "el => { window.said = []; new MutationObserver(() => window.said.push(el.textContent))"
        ".observe(el, {childList: true, characterData: true, subtree: true}); }"
    )
    page.get_by_role("button", name="Copy BibTeX").click()
    page.get_by_text("Copied to the clipboard.").wait_for()
    # Copying again is announced again: the live region empties and fills, so its words change.
    page.get_by_role("button", name="Copy BibTeX").click()
    wait_until(lambda: page.evaluate("window.said.filter(Boolean).length") >= 2, 5, "a second announcement")
    assert page.evaluate("window.said.filter(Boolean)") == ["Copied to the clipboard."] * 2
    assert page.evaluate("window.said.slice(-2)") == ["", "Copied to the clipboard."]
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("@misc{cui") and "eprint        = {2411.17700}" in copied
    assert "author        = {Jun Cui and Ana Lima and Wei Zhang" in copied

    # Submit a paper by its arXiv link; it lands on today's listing, credited to Grace.
    page.get_by_role("link", name="Submit", exact=True).click()
    page.get_by_label("arXiv id or link").fill("https://arxiv.org/abs/2606.13677v1")
    page.get_by_role("button", name="Submit", exact=True).click()
    page.get_by_text("Thank you: the paper is on today's listing.").wait_for()
    assert "Mana: Dexterous Manipulation" in page.locator("h1").inner_text()
    page.goto(base + "/")
    assert page.locator(".card", has_text="Mana: Dexterous").get_by_text("Submitted by grace").count() == 1

    # Search from the header box; results are highlighted.
    page.get_by_label("Search papers").fill("speculative decoding")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=speculative"))
    found = page.locator(".card-title").all_inner_texts()
    assert "Speculative decoding without a draft model" in found[:3], found
    assert page.locator(".card mark").count() >= 1
    assert dialogs == [], "a script ran from user text"
    context.close()


def _screenshots(browser, base: str) -> None:
    """Home, a paper and search results at desktop and phone widths, for people to look at."""
    for width, viewport in WIDTHS.items():
        for scheme in ("light",) if width == "phone" else ("light", "dark"):
            context = browser.new_context(viewport=viewport, color_scheme=scheme)
            page = context.new_page()
            suffix = width if scheme == "light" else f"{width}-dark"
            for name, path in (
                ("home", "/"),
                ("paper", "/papers/2411.17700"),
                ("search", "/search?q=speculative+decoding"),
            ):
                page.goto(base + path)
                _shoot(page, f"{name}-{suffix}")
            context.close()
    assert (ARTIFACTS / "home-desktop.png").stat().st_size > 10_000
