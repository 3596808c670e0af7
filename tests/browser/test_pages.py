"""Every page a reader or moderator meets, in a real browser: no sideways scrolling at 320 and
390 px, no axe-core violations in light and dark, the API docs without the internet, and
keyboard focus that stays where the reader is."""

from __future__ import annotations

import re
from datetime import date

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from paperroute.catalog.ingest import Importer
from paperroute.catalog.records import PaperRecord
from paperroute.community import comments
from paperroute.community.models import Comment
from paperroute.search.models import ThemeSet
from tests.browser.conftest import LiveServer, focused_id
from tests.community.helpers import add_paper, user
from tests.conftest import module_database, subprocess_env

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
    # A submitted paper with neither authors nor a date: its card and suggestion have no byline.
    Importer("submission").store(
        [
            PaperRecord(
                source="submission",
                position="1",
                key="doi:10.5555/speculative-notes",
                title="Speculative decoding notes, unsigned and undated",
                abstract="Notes on speculative decoding.",
                categories=["cs.CL"],
            )
        ]
    )
    Comment.objects.create(paper=long_paper, author=user("commenter"), body=f"See {LONG_URL} and {'x' * 300}")
    # A comment its author deleted after someone replied: a placeholder over the reply.
    leaver = user("leaver")
    gone = Comment.objects.create(paper=long_paper, author=leaver, body="Soon deleted")
    Comment.objects.create(paper=long_paper, author=user("commenter"), body="A reply that stays", parent=gone)
    comments.delete(leaver, gone)
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
        "/search?q=" + "supercalifragilistic" * 3,  # a long word, said back in the empty box
        "/search?q=https://arxiv.org/abs/2411.99999",  # a paper that is not here
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
        "/account/delete",
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


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker, tmp_path_factory):
    """One server for the module, over a catalogue committed for it: each test only reads, or
    puts back what it changed (a vote withdrawn). A server and a catalogue for each test took
    5 s of the suite's longer pass, eleven times."""
    from django.conf import settings
    from django.test import override_settings

    from paperroute import search
    from paperroute.community import notify

    data_dir = tmp_path_factory.mktemp("pages") / "data"
    with module_database(django_db_blocker):
        made = _catalogue()
        moderator = user("moderator", staff=True)
        moderator.is_superuser = True
        moderator.save()
        made["collection"] = _library(moderator)
        made["reply_stop"] = notify.stop_token(moderator)  # the reply mail's stop page
        with override_settings(DATA_DIR=data_dir):
            search.sync(embed=False)  # the server's index, ready before it starts
        # The same secret as this process, so that the sessions made here sign the reader in there.
        # No worker: it embeds an index's waiting papers as soon as it starts, and then makes
        # the day's themes again from four papers, none, over the two made by hand above.
        server = LiveServer(
            {**subprocess_env(data_dir), "PAPERROUTE_SECRET_KEY": settings.SECRET_KEY}, worker=False
        )
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


def _with_axe(context):
    """axe-core in every page the context opens, before the page's own scripts. Handing the 572 KB
    script over to each page after it has loaded, as Axe.run does, was a fifth of the time of the
    tests that check every page."""
    context.add_init_script(AXE_SCRIPT)
    return context


def _violations(page, where: str) -> list[str]:
    """What axe finds on the page, with every rule it runs by default: WCAG 2.1 A and AA, and its
    best practices (heading order, labelled landmarks)."""
    if not page.evaluate("'axe' in window"):  # a page of a context not made _with_axe
        page.evaluate(AXE_SCRIPT)
    return [
        f"{where}: {violation['id']} {[node['target'] for node in violation['nodes'][:3]]}"
        for violation in page.evaluate("axe.run({resultTypes: ['violations']})")["violations"]
    ]


def test_axe_finds_nothing_on_any_page_in_light_or_dark(site, browser):
    base, made = site
    found = []
    for scheme in ("light", "dark"):
        context = _signed_in(browser, base, viewport={"width": 1280, "height": 900}, color_scheme=scheme)
        page = _with_axe(context).new_page()
        for path in _pages(made):
            page.goto(base + path)
            found += _violations(page, f"{scheme} {path}")
        context.close()
    assert found == []


def test_anonymous_pages_pass_axe_too(site, browser):
    base, made = site
    page = _with_axe(browser.new_context(viewport={"width": 390, "height": 844})).new_page()
    found = []
    for path in _pages(made)[:8]:
        page.goto(base + path)
        found += _violations(page, path)
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
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(base + "/")
    box = page.get_by_role("combobox", name="Search papers")
    box.click()
    page.keyboard.type("speculative dec", delay=30)
    listbox = page.get_by_role("listbox", name="Matching papers")
    listbox.wait_for()
    options = listbox.get_by_role("option")
    titles = listbox.locator(".suggest-title").all_inner_texts()
    assert "Speculative decoding without a draft model" in titles
    # What a screen reader hears of each option: the title, a pause, and the byline, if any.
    heard = [option.text_content() for option in options.all()]
    assert "Speculative decoding notes, unsigned and undated" in heard, heard
    # Two authors are both named ("et al." hid the second), with the listing day.
    bylines = listbox.locator(".suggest-meta").all_inner_texts()
    assert any(b.startswith("Ada Lovelace and Alan Turing · ") for b in bylines), bylines
    assert [text for text in heard if text.endswith(", ")] == [], heard
    assert box.get_attribute("aria-expanded") == "true"
    # The open list passes axe too (a combobox controlling a listbox).
    violations = Axe().run(page).response["violations"]
    assert [v["id"] for v in violations] == []
    page.keyboard.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == "site-search-option-0"
    assert options.first.get_attribute("aria-selected") == "true"
    page.keyboard.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"
    page.keyboard.press("ArrowDown")  # closed by Escape: the arrow opens the list again
    assert box.get_attribute("aria-expanded") == "true"
    assert box.get_attribute("aria-activedescendant") == "site-search-option-0"
    # Escape while the next answer is on its way: the list closed, then opened by itself.
    page.keyboard.type("o")
    page.keyboard.press("Escape")
    page.wait_for_timeout(1500)
    assert box.get_attribute("aria-expanded") == "false" and not listbox.is_visible()
    page.keyboard.press("ArrowDown")
    listbox.wait_for()
    assert "“speculative deco”" in page.locator("#site-search-status").inner_text()
    page.keyboard.press("ArrowDown")
    chosen = listbox.locator("[aria-selected=true] .suggest-title").inner_text()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/papers/.+"))
    assert page.get_by_role("heading", level=1).inner_text() == chosen


def test_what_has_the_keyboard_focus_is_not_under_the_header(site, browser):
    """The header stays at the top of a wide window: Shift+Tab up a listing left the focused
    vote or link under it, and the paper page's Cite link scrolled its section beneath it. In a
    short window (a page zoomed to 400%) the header covered most of the screen."""
    base, made = site
    context = _signed_in(browser, base, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(base + _pages(made)[2])  # the week's listing
    page.locator("footer a").first.focus()
    covered = []
    for _ in range(40):
        page.keyboard.press("Shift+Tab")
        where = page.evaluate(
            """() => { const e = document.activeElement, h = document.querySelector('.site-header');
            if (!e || e === document.body || h.contains(e) || e.matches('.skip')) return null;
            const r = e.getBoundingClientRect();
            return [r.top, h.getBoundingClientRect().bottom, e.textContent.trim().slice(0, 40)] }"""
        )
        if where and where[0] < where[1]:
            covered.append(where)
    assert covered == []
    page.goto(base + "/papers/2411.17750")
    page.get_by_role("link", name="Cite", exact=True).click()
    header = page.evaluate("document.querySelector('.site-header').getBoundingClientRect().bottom")
    assert page.evaluate("document.getElementById('cite').getBoundingClientRect().top") >= header
    context.close()
    short = browser.new_context(viewport={"width": 640, "height": 360}, device_scale_factor=2).new_page()
    short.goto(base + "/papers/2411.17750")
    short.mouse.wheel(0, 600)
    short.wait_for_timeout(200)
    assert short.evaluate("document.querySelector('.site-header').getBoundingClientRect().bottom") <= 0
    # The suggestions fit the short window, and the one chosen is scrolled into view.
    short.evaluate("window.scrollTo(0, 0)")
    box = short.get_by_role("combobox", name="Search papers")
    box.click()
    box.type("speculative", delay=30)
    short.get_by_role("listbox", name="Matching papers").wait_for()
    for _ in range(short.get_by_role("option").count()):
        short.keyboard.press("ArrowDown")
        top, bottom = short.evaluate(
            "(() => { const r = document.querySelector('[role=option][aria-selected=true]')"
            ".getBoundingClientRect(); return [r.top, r.bottom]; })()"
        )
        assert top >= 0 and bottom <= 360


def test_the_controls_of_a_card_name_their_paper(site, browser):
    """A screen reader's list of links and buttons held 30 "N upvotes" and "N comments" and
    as many "Code", none saying which paper."""
    base, _ = site
    for context in (
        browser.new_context(viewport={"width": 1280, "height": 900}),
        _signed_in(browser, base, viewport={"width": 1280, "height": 900}),
    ):
        page = context.new_page()
        for path in ("/", "/search?q=transformers+attention"):
            page.goto(base + path)
            card = page.locator(".card", has_text="Pneumonoultramicroscopicsilicovolcanoconiosis")
            card.first.wait_for()
            names = [
                control.evaluate("e => e.getAttribute('aria-label') || e.textContent.replace(/\\s+/g, ' ')")
                for control in card.first.locator(".vote a, .vote button, .badge-code, .comments-link").all()
            ]
            assert len(names) >= 2 + (path == "/"), (path, names)
            assert all("Pneumonoultramicroscopicsilicovolcanoconiosis" in name for name in names), names
        context.close()


def test_a_form_sent_back_with_an_error_puts_the_keyboard_on_the_field(site, browser):
    base, _ = site
    context = _signed_in(browser, base, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(base + "/search?q=attention&since=2025-02-01&until=2024-01-01")
    assert page.title().startswith("Error:")
    assert focused_id(page, "since") == "since"
    assert page.input_value("#since") == "2025-02-01" and page.input_value("#until") == "2024-01-01"
    assert page.get_by_role("alert").inner_text() == "The From date is after the To date."
    assert page.locator("[aria-invalid=true]").count() == 2
    page.goto(base + "/account/settings")
    name = page.get_by_role("textbox", name="Your name")
    name.fill("not a name!")
    with page.expect_navigation():
        name.press("Enter")
    assert page.title().startswith("Error:")
    assert focused_id(page, "username") == "username"
    # What was typed stays, beside the error, so that it can be mended.
    assert name.input_value() == "not a name!"
    assert "2 to 30 letters" in page.get_by_role("alert").inner_text()
    # A new API token's Copy button says what it did.
    page.get_by_role("textbox", name="Token name").fill("laptop")
    with page.expect_navigation():
        page.get_by_role("button", name="Create token").click()
    page.get_by_role("button", name="Copy the token").click()
    status = page.locator(".notice .copied")
    for _ in range(50):  # (wait_for_function evaluates a string, which the CSP forbids)
        if status.inner_text():
            break
        page.wait_for_timeout(100)
    # Copied, or where the clipboard is refused, selected with what to press.
    assert "cop" in status.inner_text().lower()
    # The token is one long word: on a phone it widened the page.
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    context.close()


def test_a_follow_that_cannot_be_done_is_shown_on_the_following_page(site, browser):
    base, _ = site
    found = []
    for scheme in ("light", "dark"):
        context = _signed_in(browser, base, viewport={"width": 320, "height": 800}, color_scheme=scheme)
        page = context.new_page()
        page.goto(base + "/library/following")
        page.get_by_label("Kind").select_option("author")
        what = page.get_by_role("textbox", name="What")
        what.fill("Nobody Herexyz")
        with page.expect_navigation():
            what.press("Enter")
        assert page.title().startswith("Error: Following")
        # The keyboard is on the field, which keeps what was typed and names its error.
        assert focused_id(page, "f-value") == "f-value"
        assert what.input_value() == "Nobody Herexyz" and page.get_by_label("Kind").input_value() == "author"
        assert "once one of their papers is" in page.get_by_role("alert").inner_text()
        assert page.locator("[aria-invalid=true]").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        found += _violations(page, scheme)
        context.close()
    assert found == []


def test_without_javascript_the_box_is_the_plain_search_form(site, browser):
    base, _ = site
    page = browser.new_context(java_script_enabled=False).new_page()
    page.goto(base + "/")
    box = page.get_by_role("searchbox", name="Search papers")
    box.fill("speculative decoding")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=speculative\+decoding"))
    assert page.get_by_role("listbox").count() == 0


def test_a_chip_in_a_row_that_scrolls_sideways_shows_its_whole_focus_ring(site, browser):
    """On a phone the themes and the categories are rows that scroll sideways, and clip what
    overflows them: the focus ring of the chip Tab reached was cut off at its top and left, a
    chip half past the row's end stayed half hidden, and at 320 px a long theme was wider than
    the row."""
    base, made = site
    ring = """e => { const s = getComputedStyle(e), row = e.closest('ul');
        const pad = parseFloat(s.outlineWidth) + parseFloat(s.outlineOffset);
        const r = e.getBoundingClientRect(), c = row.getBoundingClientRect();
        return [s.outlineStyle, r.left - pad >= c.left - 0.5 && r.right + pad <= c.right + 0.5
            && r.top - pad >= c.top - 0.5 && r.bottom + pad <= c.bottom + 0.5] }"""
    cut = []
    for width in (320, 390):
        page = browser.new_context(viewport={"width": width, "height": 800}).new_page()
        for path, row in (("/", ".themes ul"), (f"/papers/date/{made['today']}?view=all&cat=", ".facets ul")):
            page.goto(base + path)
            chips = page.locator(f"{row} a")
            assert chips.count() >= 2
            assert page.locator(row).evaluate("e => getComputedStyle(e).overflowX") == "auto"
            if width == 390 and row == ".themes ul":  # the two themes together are wider
                assert page.locator(row).evaluate("e => e.scrollWidth > e.clientWidth")
            chips.first.focus()
            for index in range(chips.count()):
                if index:
                    page.keyboard.press("Tab")
                focused = page.locator(":focus")
                style, whole = focused.evaluate(ring)
                assert style == "solid"
                if not whole:
                    cut.append(f"{path} at {width} px: {focused.inner_text()}")
        page.context.close()
    assert cut == []


def test_an_import_sent_back_ties_its_error_to_the_field_at_fault(site, browser, tmp_path):
    """Pasted text with no arXiv id in it came back with its error tied to the file input, the
    keyboard at the top of the page, and a title that did not say anything was wrong."""
    base, _ = site
    context = _signed_in(browser, base, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(base + "/library/import")
    page.get_by_label("Or paste arXiv ids").fill("my reading list, without any ids")
    with page.expect_navigation():
        page.get_by_role("button", name="Import").click()
    assert page.title().startswith("Error: ")
    assert focused_id(page, "import-text") == "import-text"
    text = page.locator("#import-text")
    assert text.input_value() == "my reading list, without any ids"  # kept, to be mended
    assert text.get_attribute("aria-invalid") == "true"
    assert page.locator("#" + text.get_attribute("aria-describedby")).inner_text().startswith("No arXiv id")
    assert page.locator("[aria-invalid=true]").count() == 1

    # A file that is not a bibliography: the file input is the one at fault.
    picture = tmp_path / "holiday.bib"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    page.get_by_label("A file: BibTeX").set_input_files(str(picture))
    with page.expect_navigation():
        page.get_by_role("button", name="Import").click()
    assert page.title().startswith("Error: ")
    assert focused_id(page, "import-file") == "import-file"
    assert page.locator("[aria-invalid=true]").evaluate_all("es => es.map(e => e.id)") == ["import-file"]
    context.close()


def test_digest_preferences_sent_back_put_the_keyboard_on_the_field_at_fault(site, browser):
    """The digest's preferences came back with an error as plain text: not announced, the keyboard
    at the top of the page, the title the same as a page without one, and a topic's error tied
    to its field only by a description."""
    base, made = site
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    page.goto(f"{base}/subscription/{made['token']}")
    for field, typed, error in (
        ("Other categories or archives", "cs.LG, no.such.category", "categories-error"),
        ("Followed topics, one per line", "x" * 300, "topics-error"),
    ):
        page.goto(f"{base}/subscription/{made['token']}")
        box = page.get_by_label(field)
        box.fill(typed)
        with page.expect_navigation():
            page.get_by_role("button", name="Save preferences").click()
        assert page.title().startswith("Error: ")
        assert focused_id(page, box.get_attribute("id")) == box.get_attribute("id")
        assert box.input_value() == typed  # kept, to be mended
        assert box.get_attribute("aria-invalid") == "true"
        assert error in box.get_attribute("aria-describedby").split()
        assert page.get_by_role("alert").inner_text() == page.locator(f"#{error}").inner_text()
    page.context.close()


def test_hiding_the_last_card_leaves_the_keyboard_on_the_count(site, browser):
    """ "Not interested" on a page's last paper took its card away with the keyboard focus in it:
    the focus fell to the page's start, and the search's count still said one result."""
    from paperroute.catalog.models import Paper
    from paperroute.library import shelf

    base, _ = site
    context = _signed_in(browser, base, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(base + "/search?q=draft+model&mode=lexical")
    assert page.locator(".card").count() == 1
    assert page.locator(".count-line").inner_text().startswith("1 result for")
    loads = []
    page.on("load", lambda _: loads.append(page.url))
    try:
        page.locator(".card").get_by_role("button", name=re.compile("^Not interested")).focus()
        page.keyboard.press("Enter")
        page.locator(".card").wait_for(state="detached")
        assert page.evaluate("document.activeElement.classList.contains('count-line')")
        assert page.locator(".count-line").inner_text().startswith("0 results for")
        assert page.locator("#shelf-status").inner_text().startswith("Hidden.")
        assert loads == []
    finally:  # the module's other tests see the paper again
        shelf.not_interested(user("moderator"), Paper.objects.get(key="2411.17751"), False)
        context.close()


def test_the_paper_pages_library_forms_bring_the_keyboard_back_to_them(site, browser):
    """Mark read or unread, Not interested and Save note reload the paper page: it opened at its
    top, and the keyboard was twenty stops away from the form it had just used."""
    base, _ = site
    context = _signed_in(browser, base, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(base + "/papers/2411.17751")
    for button, then in (("Mark unread", "Mark read"), ("Mark read", "Mark unread")):
        page.locator("#library-panel").get_by_role("button", name=button).focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        panel = page.locator("#library-panel")
        assert panel.get_by_role("button", name=then).is_visible()
        assert panel.evaluate("e => e.getBoundingClientRect().top < innerHeight")  # in view
        page.keyboard.press("Tab")
        assert page.evaluate("document.getElementById('library-panel').contains(document.activeElement)")
    note = page.get_by_label("Your private note")
    note.fill("Read the appendix first")
    page.locator("#library-panel").get_by_role("button", name="Save note").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert note.evaluate("e => e.getBoundingClientRect().top < innerHeight") and note.input_value() == (
        "Read the appendix first"
    )
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#note') !== null")
    note.fill("")
    with page.expect_navigation():
        page.locator("#library-panel").get_by_role("button", name="Save note").click()
    context.close()
