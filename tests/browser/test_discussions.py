"""Discussions and authors in a real browser: a signed-in reader replies to a comment, reacts to it
and claims an authorship, a moderator approves the claim in the admin, and the paper page (badge,
forms, the reaction picker) and the author page pass axe-core in light and dark, with no CSP
violation and no sideways scrolling on a phone."""

from __future__ import annotations

from datetime import date

import pytest
from axe_playwright_python.sync_playwright import Axe

from paperroute.community import comments
from paperroute.community.models import AuthorClaim, Comment
from tests.browser.conftest import LiveServer, focused_id
from tests.community.helpers import add_paper, user
from tests.conftest import subprocess_env

pytestmark = pytest.mark.slow
KEY = "2411.00931"
AUTHORS = ("Jos\\'e Mu\\~noz", "Ada Lovelace", "Author Number3 Withaverylonglastnameindeed")


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    """One server for the module: each test's data is committed before it asks for a page, and
    pytest-django empties the database after each test (transactional_db), which leaves the
    server nothing of the test before (rate limits and sessions are kept in the database, and
    the page cache's key changes with the catalogue). A server for each test took 5-8 s a test."""
    from django.conf import settings

    with django_db_blocker.unblock():
        env = subprocess_env(tmp_path_factory.mktemp("discussions") / "data")
    server = LiveServer({**env, "PAPERROUTE_SECRET_KEY": settings.SECRET_KEY})
    try:
        yield server.url
    finally:
        with django_db_blocker.unblock():
            server.stop()


@pytest.fixture
def site(server, transactional_db):
    paper = add_paper(KEY, "Claimed papers and their discussions", authors=AUTHORS, listed=date(2024, 11, 28))
    add_paper("2411.00932", "Another paper by the same author", authors=AUTHORS[:1], hf_upvotes=7)
    comments.add(user("alice"), paper, "Is the **code** out?")
    reader = user("jose")
    moderator = user("moderator", staff=True)
    moderator.is_superuser = True
    moderator.save()
    return server, reader


def _signed_in(browser, base: str, username: str, **options):
    """A browser context signed in as `username` (a session cookie made by Django)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    account = get_user_model().objects.get(username=username)
    session = SessionStore()
    session["_auth_user_id"] = str(account.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = account.get_session_auth_hash()
    session.create()
    context = browser.new_context(**options)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": base}])
    return context


def _axe(page) -> list[str]:
    return [
        f"{page.url}: {v['id']} {[n['target'] for n in v['nodes'][:3]]}"
        for v in Axe().run(page).response["violations"]
    ]


def test_reply_claim_approve_and_the_pages_pass_axe(site, browser):
    base, reader = site
    context = _signed_in(browser, base, "jose", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/papers/{KEY}")

    # Reply to alice's comment.
    page.get_by_text("Reply", exact=True).click()
    page.get_by_label("Reply to alice").fill(
        "Yes: see the *appendix*, where $$\\sum_{i=1}^{n} \\frac{x_i^2}{\\sigma} \\le \\sqrt{n}$$"
    )
    page.get_by_role("button", name="Post reply").click()
    # A click returns once the form is sent; wait for the page it leads to before asking the database.
    page.locator("article.comment-reply em", has_text="appendix").wait_for()
    reply = Comment.objects.get(author=reader)
    assert reply.parent is not None and page.locator(f"#comment-{reply.pk} em").inner_text() == "appendix"
    # The TeX is set as a formula the browser draws (MathML): a fraction is taller than a line.
    formula = page.locator(f"#comment-{reply.pk} math[display=block]")
    line = page.locator(f"#comment-{reply.pk} em").bounding_box()
    assert formula.locator("mfrac").count() == 1 and formula.bounding_box()["height"] > 1.5 * line["height"]

    # React to alice's comment from the picker, a <details> that needs no JavaScript.
    page.locator("article[aria-label='Comment by alice']").get_by_label("Add a reaction").click()
    page.get_by_role("button", name="hugging face, 0").click()
    given = page.locator("article[aria-label='Comment by alice']").get_by_role(
        "button", name="hugging face, 1"
    )
    assert given.get_attribute("aria-pressed") == "true"

    # Claim the first author.
    page.get_by_text("Are you an author? Claim authorship").click()
    page.get_by_label("This is me:").select_option(label="José Muñoz")
    page.get_by_role("button", name="Claim authorship").click()
    page.locator("#authors", has_text="your claim is pending").wait_for()
    assert AuthorClaim.objects.get().status == "pending"

    # A moderator approves it in the admin.
    admin = _signed_in(browser, base, "moderator", viewport={"width": 1280, "height": 900}).new_page()
    admin.goto(f"{base}/admin/community/authorclaim/")
    admin.locator("input[name=_selected_action]").first.check()
    admin.locator("select[name=action]").select_option("approve")
    admin.get_by_role("button", name="Go").click()
    admin.get_by_text("1 claim(s) approved").wait_for()
    assert AuthorClaim.objects.get().status == "approved"

    found = []
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.goto(f"{base}/papers/{KEY}")
        assert "verified" in page.locator("#authors").inner_text()
        assert "@jose" in page.locator("#authors").inner_text()
        page.get_by_text("Set the code and project links").click()  # the open form is checked too
        page.get_by_label("Add a reaction").first.click()  # and the open reaction picker
        found += _axe(page)
        page.goto(f"{base}/authors/José Muñoz")
        assert "@jose" in page.locator("h1 ~ .verified-note").inner_text()
        assert page.get_by_role("link", name="Another paper by the same author", exact=True).is_visible()
        found += _axe(page)
    assert found == []

    # Set the code link from the paper page, then check the pages on a phone.
    page.goto(f"{base}/papers/{KEY}")
    page.get_by_text("Set the code and project links").click()
    page.get_by_label("Code repository").fill("https://github.com/jose/claimed")
    page.get_by_role("button", name="Save links").click()
    assert page.get_by_role("link", name="Code", exact=True).get_attribute("href") == (
        "https://github.com/jose/claimed"
    )
    wide = []
    for width in (320, 390):
        phone = _signed_in(browser, base, "jose", viewport={"width": width, "height": 800}).new_page()
        for path in (f"/papers/{KEY}", "/authors/José Muñoz"):
            phone.goto(base + path)
            if "papers" in path:
                phone.get_by_text("Set the code and project links").click()
            scroll = phone.evaluate("document.documentElement.scrollWidth")
            if scroll > width:
                wide.append(f"{path} at {width} px: {scroll} px wide")
    assert wide == []


def test_anonymous_readers_see_the_badge_and_no_claim_form(site, browser):
    base, reader = site
    from paperroute.catalog.models import Paper
    from paperroute.community import authors

    authors.approve(user("moderator"), authors.claim(reader, Paper.objects.get(key=KEY), 0))
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    page.goto(f"{base}/papers/{KEY}")
    assert "@jose" in page.locator("#authors").inner_text()
    assert page.get_by_text("Claim authorship").count() == 0
    found = _axe(page)
    page.goto(f"{base}/authors/José Muñoz")
    found += _axe(page)
    assert found == []


def test_deleting_asks_first_without_javascript_and_tables_scroll_inside_the_comment(site, browser):
    base, reader = site
    from paperroute.catalog.models import Paper

    columns = range(12)
    wide = "\n".join(
        ["| " + " | ".join(f"column {i}" for i in columns) + " |", "|---" * 12 + "|"]
        + ["| " + " | ".join(f"{i * 1.5}" for i in columns) + " |"]
    )
    body = f"See ![the chart](https://example.org/c.png).\n\n{wide}"
    mine = comments.add(reader, Paper.objects.get(key=KEY), body)
    comments.add(user("alice"), mine.paper, "A reply that stays", parent=mine)

    # Everything needed is there without JavaScript, and works from the keyboard.
    size = {"width": 390, "height": 844}
    page = _signed_in(browser, base, "jose", java_script_enabled=False, viewport=size).new_page()
    page.goto(f"{base}/papers/{KEY}")
    article = page.locator(f"#comment-{mine.pk}")
    assert article.get_by_role("link", name="the chart", exact=True).get_attribute("href") == (
        "https://example.org/c.png"
    )
    assert "See the chart." in article.inner_text() and "UTC" in article.locator("time").inner_text()
    confirm = article.get_by_role("button", name="Yes, delete")
    summary = article.locator("summary", has_text="Delete")
    assert not confirm.is_visible()
    summary.focus()
    page.keyboard.press("Enter")
    assert confirm.is_visible() and "the 1 reply under it stays" in article.inner_text()
    page.keyboard.press("Enter")  # "Delete" again: the way back, and nothing went
    assert not confirm.is_visible() and Comment.objects.get(pk=mine.pk).deleted_at is None
    page.keyboard.press("Enter")
    confirm.focus()
    page.keyboard.press("Enter")
    page.get_by_text("Your comment was deleted. The replies others wrote to it stay.").wait_for()
    assert Comment.objects.get(pk=mine.pk).deleted_at is not None

    # The open disclosure and a table pass axe-core, light and dark; the table scrolls inside its
    # comment (focusable, for the keyboard) and the page does not scroll sideways on a phone.
    other = comments.add(reader, mine.paper, f"Again:\n\n{wide}")
    found, wide_pages = [], []
    for scheme in ("light", "dark"):
        for width in (320, 390, 1280):
            context = _signed_in(browser, base, "jose", viewport={"width": width, "height": 900})
            phone = context.new_page()
            phone.emulate_media(color_scheme=scheme)
            phone.goto(f"{base}/papers/{KEY}")
            phone.locator(f"#comment-{other.pk} summary", has_text="Delete").click()
            table = phone.locator(f"#comment-{other.pk} .comment-table")
            assert table.evaluate("box => box.scrollWidth > box.clientWidth && box.tabIndex === 0")
            scroll = phone.evaluate("document.documentElement.scrollWidth")
            if scroll > width:
                wide_pages.append(f"{scheme} at {width} px: {scroll} px wide")
            found += _axe(phone)
            context.close()
    assert found == [] and wide_pages == []


def test_a_comment_reply_or_links_form_sent_back_puts_the_keyboard_on_its_field(site, browser):
    """A comment of only spaces came back with its error by the comment form, but the keyboard
    was at the top of the page and the title did not say so; a refused reply's error was shown
    by the comment form, not the reply's; the links form named its field "githubRepo"."""
    base, reader = site
    context = _signed_in(browser, base, "moderator", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/papers/{KEY}")
    page.get_by_label("Add a comment").fill("   ")
    with page.expect_navigation():
        page.get_by_role("button", name="Post comment").click()
    assert page.title().startswith("Error: ")
    assert focused_id(page, "comment-body") == "comment-body"
    assert page.get_by_role("alert").inner_text() == "Your comment was not posted: the comment is empty."
    assert page.locator("#comment-body").get_attribute("aria-describedby") == "comment-error"

    # A reply: its error is beside the reply's form, open, with the keyboard in it.
    page.get_by_text("Reply", exact=True).click()
    page.get_by_label("Reply to alice").fill(" \n ")
    with page.expect_navigation():
        page.get_by_role("button", name="Post reply").click()
    assert page.title().startswith("Error: ")
    focused = page.locator(":focus")
    assert focused.get_attribute("aria-label") is None and focused.evaluate(
        "e => e.labels[0].textContent"
    ) == ("Reply to alice (Markdown)")
    assert focused.get_attribute("aria-invalid") == "true"
    error = page.locator("#" + focused.get_attribute("aria-describedby"))
    assert error.inner_text() == "Your reply was not posted: the comment is empty."
    assert page.get_by_role("alert").count() == 1
    assert page.locator("#comment-body").get_attribute("aria-invalid") is None

    # The links form says which field is wrong, in the words of its label.
    page.get_by_text("Set the code and project links").click()
    page.get_by_label("Code repository").fill("https://gitlab.com/jose/claimed")
    with page.expect_navigation():
        page.get_by_role("button", name="Save links").click()
    assert page.title().startswith("Error: ")
    assert focused_id(page, "github-repo") == "github-repo"
    said = page.get_by_role("alert").inner_text()
    assert (
        said.startswith("The links were not saved: the code repository must be") and "githubRepo" not in said
    )
    assert page.locator("[aria-invalid=true]").count() == 1
    assert page.get_by_text("The links were not saved").count() == 1  # not also at the top

    # Editing a comment: the same.
    mine = comments.add(user("moderator"), Comment.objects.get(author__username="alice").paper, "First words")
    page.goto(f"{base}/comments/{mine.pk}/edit")
    page.get_by_label("Comment").fill("  ")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    assert page.title().startswith("Error: ")
    assert focused_id(page, "comment-body") == "comment-body"
    assert page.get_by_role("alert").inner_text() == "The comment is empty."
    context.close()
