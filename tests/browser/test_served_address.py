"""Without PAPERROUTE_SITE_URL, every absolute link leads to the address actually served."""

from __future__ import annotations

import re
import urllib.request

import feedparser
import pytest
from django.utils import timezone

from tests.browser.conftest import LiveServer
from tests.community.helpers import add_paper
from tests.support import smtp_server

pytestmark = pytest.mark.slow


def test_links_follow_the_random_port_being_served(cli_env, browser):
    add_paper(
        "2411.17701", "Speculative decoding without a draft model", listed=timezone.localdate(), hf_upvotes=5
    )
    with smtp_server() as mailbox:
        env = {**cli_env, "PAPERROUTE_SMTP_URL": f"smtp://127.0.0.1:{mailbox.port}"}
        env.pop("PAPERROUTE_SITE_URL", None)
        server = LiveServer(env, site_url=None)
        base = server.url
        try:
            page = browser.new_context().new_page()
            page.goto(base + "/account/signin")
            page.get_by_label("Email address").fill("ada@example.org")
            page.get_by_role("button", name="Email me a sign-in link").click()
            page.get_by_text("Check your email").wait_for()
            link = mailbox.link("ada@example.org")
            assert link.startswith(base + "/account/signin/"), link
            page.goto(link)
            page.get_by_role("button", name="Sign in", exact=True).click()
            page.get_by_text("Signed in as ada.").wait_for()

            page.goto(base + "/papers/2411.17701")
            assert page.locator("link[rel=canonical]").get_attribute("href") == base + "/papers/2411.17701"
            assert (
                page.locator("meta[property='og:url']").get_attribute("content")
                == base + "/papers/2411.17701"
            )
            with urllib.request.urlopen(base + "/feeds/daily.xml") as response:
                feed = feedparser.parse(response.read())
            assert feed.entries and all(e.link.startswith(base + "/") for e in feed.entries)
            with urllib.request.urlopen(base + "/api/daily_papers?limit=1") as response:
                body = response.read().decode()
            assert re.search(r'"url": ?"' + re.escape(base) + "/papers/", body)
        finally:
            server.stop()
