"""In Chromium: a page on another origin (a lab's site) reads the public API with fetch(), and
cannot vote through it, with the reader's cookie or with a token."""

from __future__ import annotations

import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from paperroute.community import tokens
from paperroute.community.models import Vote
from tests.browser.conftest import LiveServer
from tests.browser.test_pages import _signed_in
from tests.community.helpers import add_paper, user

pytestmark = pytest.mark.slow
KEY = "2411.00861"
DAY = "2024-11-28"


@pytest.fixture
def site(cli_env):
    add_paper(KEY, "A paper on a lab's reading list", listed=date.fromisoformat(DAY))
    user("moderator", staff=True)
    from django.conf import settings

    server = LiveServer({**cli_env, "PAPERROUTE_SECRET_KEY": settings.SECRET_KEY}, workers=1)
    try:
        yield server
    finally:
        server.stop()


class LabPage(BaseHTTPRequestHandler):
    """A lab's page, on another port of this machine: another origin in the same address space
    (Chromium refuses a page that is not on this machine access to it)."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        body = b"<!doctype html><title>Lab</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def lab():
    server = ThreadingHTTPServer(("127.0.0.1", 0), LabPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


READ = """async (url) => {
  const response = await fetch(url);
  const items = await response.json();
  return [response.status, response.headers.get("X-Total-Count"), items.map((i) => i.paper.id)];
}"""
# What a page can learn of a request: its answer, or that the browser refused to show it.
TRY = """async ([url, options]) => {
  try {
    const response = await fetch(url, options);
    return "read " + response.status;
  } catch (error) {
    return "refused";
  }
}"""


def test_another_sites_page_reads_the_public_api_and_cannot_vote(site, lab, browser):
    base = site.url
    context = _signed_in(browser, base)
    page = context.new_page()
    page.goto(lab)
    assert page.evaluate(READ, f"{base}/api/daily_papers?date={DAY}") == [200, "1", [KEY]]
    secret = tokens.create(user("moderator"), "script")[1]
    upvote = f"{base}/api/papers/{KEY}/upvote"
    attempts = [
        {"method": "POST", "credentials": "include"},
        {"method": "POST", "credentials": "include", "body": "{}", "headers": {"Content-Type": "text/plain"}},
        {"method": "POST", "headers": {"Authorization": f"Bearer {secret}"}},
        {"method": "DELETE", "credentials": "include"},
    ]
    for options in attempts:
        assert page.evaluate(TRY, [upvote, options]) == "refused", options
    assert (
        page.evaluate(
            TRY, [f"{base}/api/recommendations", {"headers": {"Authorization": f"Bearer {secret}"}}]
        )
        == "refused"
    )
    assert not Vote.objects.filter(paper__key=KEY).exists()
