"""A reader subscribes in a real browser, confirms from the mail, follows a topic, receives the
digest, and unsubscribes with one click."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date

import pytest

from paperroute.digest.models import Subscriber
from tests.browser.conftest import ARTIFACTS, LiveServer
from tests.community.helpers import add_paper
from tests.conftest import ROOT
from tests.support import smtp_server as running_sink

pytestmark = pytest.mark.slow
DAY = date(2024, 11, 28)  # an old day: the server's worker never sends its digest by itself


def _catalogue() -> None:
    add_paper(
        "2411.30001",
        "Scaling laws for sparse mixture of experts",
        listed=DAY,
        hf_upvotes=30,
        categories=("cs.LG",),
        code="https://github.com/example/moe",
    )
    add_paper(
        "2411.30002",
        "Vision transformers without attention",
        listed=DAY,
        hf_upvotes=20,
        categories=("cs.CV",),
    )
    for i in range(4, 8):  # enough voted papers that the trending section is full without it
        add_paper(
            f"2411.3000{i}",
            f"Benchmarks for long-context retrieval, part {i}",
            listed=DAY,
            hf_upvotes=10 - i,
            categories=("cs.IR",),
        )
    add_paper(
        "2411.30003",
        "Tree-based speculative decoding for faster serving",
        listed=DAY,
        abstract="We verify draft tokens along a tree in speculative decoding.",
        categories=("cs.CL",),
    )


def test_subscribe_confirm_follow_a_topic_receive_and_unsubscribe(cli_env, browser):
    _catalogue()
    with running_sink() as sink:
        env = {
            **cli_env,
            "PAPERROUTE_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
            "PAPERROUTE_FROM_EMAIL": "Daily papers <digest@papers.example.org>",
        }
        server = LiveServer(env)
        try:
            _flow(browser, server.url, sink, env)
        finally:
            server.stop()


def _flow(browser, base: str, sink, env) -> None:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()

    # The Subscribe box on a listing page.
    page.goto(f"{base}/papers/date/{DAY.isoformat()}")
    page.get_by_label("Email address").fill("reader@example.org")
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()

    # The confirmation mail, read from the SMTP server; its link shows a button, which confirms.
    confirmation = sink.wait_for("reader@example.org")
    link = re.search(r"https?://\S+/subscribe/confirm/\S+", sink.text(confirmation)).group(0)
    assert link.startswith(base)
    page.goto(link)
    assert Subscriber.objects.get().status == Subscriber.PENDING  # opening the link is not enough
    page.get_by_role("button", name="Confirm subscription").click()
    page.get_by_text("You are subscribed").wait_for()
    assert "/subscription/" in page.url

    # Preferences: follow a topic, fewer papers.
    page.get_by_label("Followed topics, one per line").fill("speculative decoding")
    page.get_by_label("Trending papers per digest").select_option("5")
    page.get_by_role("button", name="Save preferences").click()
    page.get_by_text("Your preferences were saved").wait_for()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "digest-preferences.png"), full_page=True)
    subscriber = Subscriber.objects.get()
    assert subscriber.status == Subscriber.CONFIRMED and subscriber.topics == ["speculative decoding"]

    # The day's digest, sent by the command an operator (or the worker) runs.
    sent = subprocess.run(
        [
            sys.executable,
            "-m",
            "paperroute",
            "digest",
            "send",
            "--period",
            "daily",
            "--date",
            DAY.isoformat(),
        ],
        cwd=ROOT,
        env={**env, "PAPERROUTE_SITE_URL": base},
        capture_output=True,
        timeout=300,
    )
    assert sent.returncode == 0, sent.stderr.decode()
    digest = sink.wait_for("reader@example.org", 2)
    text = sink.text(digest)
    trending, topic = text.split("FOLLOWING: speculative decoding")
    assert "Scaling laws for sparse mixture of experts" in trending
    assert "Tree-based speculative decoding for faster serving" in topic

    # How it looks in a mail client's viewer (a blank page: not the site, whose policy forbids
    # the inline styles a mail needs), and its links lead to the site.
    viewer = page.context.new_page()
    viewer.set_content(sink.html(digest))
    viewer.screenshot(path=str(ARTIFACTS / "digest-email.png"), full_page=True)
    paper_link = viewer.get_by_role("link", name="Scaling laws for sparse mixture of experts")
    assert paper_link.get_attribute("href") == f"{base}/papers/2411.30001"
    assert viewer.locator("script").count() == 0
    unsubscribe = viewer.get_by_role("link", name="Unsubscribe").get_attribute("href")
    viewer.close()
    header = digest.parsed()["List-Unsubscribe"]
    assert f"<{unsubscribe}>" in header
    assert digest.parsed()["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # A link scanner's GET changes nothing; the reader's one click unsubscribes.
    page.goto(unsubscribe)
    assert Subscriber.objects.get().status == Subscriber.CONFIRMED
    page.get_by_role("button", name="Unsubscribe").click()
    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    assert Subscriber.objects.get().status == Subscriber.UNSUBSCRIBED

    # A mail client's RFC 8058 one-click POST works on its own too, without cookies or tokens.
    Subscriber.objects.update(status=Subscriber.CONFIRMED)
    answer = page.request.post(
        unsubscribe,
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status == 200
    assert Subscriber.objects.get().status == Subscriber.UNSUBSCRIBED
