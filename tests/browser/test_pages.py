"""Every page a reader or moderator meets, in a real browser: no sideways scrolling at 320 and
390 px, no axe-core violations in light and dark, the API docs without the internet, and
keyboard focus that stays where the reader is."""

from __future__ import annotations

import re
from datetime import date

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from paperroute.community.models import Comment
from paperroute.search.models import ThemeSet
from tests.browser.conftest import LiveServer
from tests.community.helpers import add_paper, user

pytestmark = [pytest.mark.slow, pytest.mark.markup]
DAY = date(2024, 11, 28)
LONG_URL = "https://example.org/" + "a-very-long-path-segment/" * 12 + "index.html?with=query&and=more"


def _catalogue() -> dict[str, str]:
    """Papers that stretch a layout: 30 authors, long words and URLs, formulas, long BibTeX."""
    today = timezone.localdate()
    many = tuple(f"Author Number{i} Withalonglastname" for i in range(30))
    long_paper = add_paper(
        "2411.17750",
        "Pneumonoultramicroscopicsilicovolcanoconiosis-aware transformers: "
        "$\\mathcal{O}(n^2 \\log n)$ attention for supercalifragilisticexpialidocious sequences",
        listed=today,
        hf_upvotes=9,
        authors=many,
        categories=("cs.LG", "cs.CL", "stat.ML"),
        abstract=f"We define $f(x) = \\sum_{{i=1}}^{{n}} \\alpha_i x^{{2i}} + \\beta$ and show "
        f"\\(\\mathbb{{E}}[X] \\leq \\epsilon\\). Code: {LONG_URL} and "
        "https://github.com/example/a-repository-with-a-rather-long-name-indeed " * 2,
        code="https://github.com/example/a-repository-with-a-rather-long-name-indeed",
    )
    add_paper(
        "2411.17751",
        "Speculative decoding without a draft model",
        listed=today,
        hf_upvotes=5,
        abstract="Speculative decoding accelerates inference of large language models.",
    )
    add_paper("2411.17752", "An older paper", listed=DAY, categories=("hep-th",))
    Comment.objects.create(paper=long_paper, author=user("commenter"), body=f"See {LONG_URL} and {'x' * 300}")
    ThemeSet.objects.create(
        kind="day",
        start=today,
        fingerprint="-",
        themes=[
            {
                "slug": "transformers-attention",
                "label": "transformers · attention",
                "terms": [],
                "members": [long_paper.pk],
            },
            {
                "slug": "speculative-decoding",
                "label": "speculative decoding · draft models",
                "terms": [],
                "members": [long_paper.pk + 1],
            },
        ],
    )
    from tests.digest.conftest import subscriber

    return {"today": today.isoformat(), "token": subscriber("reader@example.org").token}


def _pages(made: dict[str, str]) -> list[str]:
    today = date.fromisoformat(made["today"])
    week = f"{today.isocalendar()[0]}-W{today.isocalendar()[1]:02d}"
    return [
        "/",
        f"/papers/date/{made['today']}",
        f"/papers/week/{week}",
        f"/papers/month/{today:%Y-%m}",
        f"/papers/date/{made['today']}?view=all&cat=",
        "/trending",
        "/search?q=speculative+decoding",
        "/search?q=xyzzyqwf&cat=cs.LG",
        "/search",
        "/papers/2411.17750",
        "/papers/2411.17751",
        "/authors/Author Number3 Withalonglastname",
        "/categories/cs.LG",
        "/account/signin",
        "/subscribe",
        f"/subscription/{made['token']}",
        "/submit",
        "/account/settings",
        f"/subscription/{made['token']}/unsubscribe",
        f"/account/replies/stop/{made['reply_stop']}",
        "/nowhere",
        "/library",
        "/library/following",
        "/library/import",
        f"/collections/{made['collection']}",
        f"/papers/date/{made['today']}?view=foryou&cat=",
    ]


def _library(reader) -> int:
    """A library that stretches its pages: a long collection name and note, a private note, a
    dismissed paper, follows of each kind. Returns the public collection's number."""
    from paperroute.catalog.models import Paper
    from paperroute.library import follows, shelf

    long_paper, other, older = (Paper.objects.get(key=k) for k in ("2411.17750", "2411.17751", "2411.17752"))
    shelf.add(reader, long_paper)
    collection = shelf.create_collection(reader, "Reading group: " + "x" * 100, "Week 3 " * 40, public=True)
    shelf.add(reader, long_paper, collection, note=f"Read with {LONG_URL}")
    shelf.add(reader, other, collection)
    shelf.set_note(reader, long_paper, "A private note " + "y" * 200)
    shelf.not_interested(reader, older)
    follows.follow(reader, "topic", "speculative decoding")
    follows.follow(reader, "category", "cs.LG")
    follows.follow(reader, "author", "Author Number3 Withalonglastname")
    return collection.pk


@pytest.fixture
def site(cli_env):
    made = _catalogue()
    moderator = user("moderator", staff=True)
    moderator.is_superuser = True
    moderator.save()
    made["collection"] = _library(moderator)
    from paperroute.community import notify

    made["reply_stop"] = notify.stop_token(moderator)  # the reply mail's stop page
    from django.conf import settings

    # The same secret as this process, so that the sessions made here sign the reader in there.
    server = LiveServer({**cli_env, "PAPERROUTE_SECRET_KEY": settings.SECRET_KEY})
    try:
        yield server.url, made
    finally:
        server.stop()


def _signed_in(browser, base: str, **options):
    """A browser context signed in as the moderator (session cookie made by Django)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    account = get_user_model().objects.get(username="moderator")
    session = SessionStore()
    session["_auth_user_id"] = str(account.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = account.get_session_auth_hash()
    session.create()
    context = browser.new_context(**options)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": base}])
    return context


def test_no_page_scrolls_sideways_on_phones(site, browser):
    base, made = site
    pages = [*_pages(made), "/admin/", "/admin/community/comment/", "/admin/digest/subscriber/"]
    wide = []
    for width in (320, 390):
        for scheme in ("light", "dark"):
            context = _signed_in(browser, base, viewport={"width": width, "height": 800}, color_scheme=scheme)
            page = context.new_page()
            for path in pages if scheme == "light" else pages[:6]:
                page.goto(base + path)
                scroll = page.evaluate("document.documentElement.scrollWidth")
                if scroll > width:
                    wide.append(f"{path} at {width} px ({scheme}): {scroll} px wide")
            context.close()
    assert wide == []


def test_submit_is_reachable_on_a_phone(site, browser):
    base, _ = site
    page = browser.new_context(viewport={"width": 320, "height": 700}).new_page()
    page.goto(base + "/")
    submit = page.get_by_role("link", name="Submit", exact=True)
    assert submit.is_visible()
    box = submit.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 320


def test_axe_finds_nothing_on_any_page_in_light_or_dark(site, browser):
    base, made = site
    axe = Axe()
    found = []
    for scheme in ("light", "dark"):
        context = _signed_in(browser, base, viewport={"width": 1280, "height": 900}, color_scheme=scheme)
        page = context.new_page()
        for path in _pages(made):
            page.goto(base + path)
            # Every rule axe runs by default: WCAG 2.1 A and AA, and its best practices
            # (heading order, labelled landmarks).
            result = axe.run(page)
            for violation in result.response["violations"]:
                targets = [node["target"] for node in violation["nodes"][:3]]
                found.append(f"{scheme} {path}: {violation['id']} {targets}")
        context.close()
    assert found == []


def test_anonymous_pages_pass_axe_too(site, browser):
    base, made = site
    axe = Axe()
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    found = []
    for path in _pages(made)[:8]:
        page.goto(base + path)
        found += [f"{path}: {v['id']}" for v in axe.run(page).response["violations"]]
    assert found == []


def test_the_api_docs_render_with_no_internet(site, browser):
    base, _ = site
    context = browser.new_context()
    outside = []

    def only_this_server(route):
        if route.request.url.startswith(base):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_server)
    page = context.new_page()
    page.goto(base + "/api/docs")
    page.locator(".opblock").first.wait_for(timeout=20_000)
    assert page.locator(".opblock").count() >= 5
    assert page.get_by_text("/api/daily_papers").count() >= 1
    assert outside == []


def test_focus_stays_on_the_vote_button_after_voting(site, browser):
    base, made = site
    context = _signed_in(browser, base, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(base + "/")
    loads = []
    page.on("load", lambda _: loads.append(page.url))
    card = page.locator(".card", has_text="Speculative decoding without a draft model")
    button = card.locator("form[data-vote] button[aria-pressed]")
    button.focus()
    page.keyboard.press("Enter")
    card.locator("form[data-vote] button[aria-pressed='true']").wait_for()
    assert page.evaluate("document.activeElement.closest('.card') !== null")
    assert page.evaluate("document.activeElement.getAttribute('aria-pressed')") == "true"
    page.keyboard.press("Enter")  # and again, to withdraw it, without reaching for the mouse
    card.locator("form[data-vote] button[aria-pressed='false']").wait_for()
    assert re.fullmatch(r"\d+", card.locator("[data-count]").inner_text())
    assert loads == [], "the vote reloaded the page instead of being sent by the script"
    context.close()


def test_search_as_you_type_with_the_keyboard(site, browser):
    base, _ = site
    from paperroute import search

    search.sync(embed=False)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(base + "/")
    box = page.get_by_role("combobox", name="Search papers")
    box.click()
    page.keyboard.type("speculative dec", delay=30)
    listbox = page.get_by_role("listbox", name="Matching papers")
    listbox.wait_for()
    options = listbox.get_by_role("option")
    assert options.count() >= 1
    assert "Speculative decoding without a draft model" in options.first.inner_text()
    assert box.get_attribute("aria-expanded") == "true"
    # The open list passes axe too (a combobox controlling a listbox).
    violations = Axe().run(page).response["violations"]
    assert [v["id"] for v in violations] == []
    page.keyboard.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == "site-search-option-0"
    assert options.first.get_attribute("aria-selected") == "true"
    page.keyboard.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"
    page.keyboard.press("ArrowDown")  # closed: the arrow does nothing to the page
    page.keyboard.type("o")
    listbox.wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/papers/2411\.17751$"))


def test_without_javascript_the_box_is_the_plain_search_form(site, browser):
    base, _ = site
    page = browser.new_context(java_script_enabled=False).new_page()
    page.goto(base + "/")
    box = page.get_by_role("searchbox", name="Search papers")
    box.fill("speculative decoding")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=speculative\+decoding"))
    assert page.get_by_role("listbox").count() == 0
