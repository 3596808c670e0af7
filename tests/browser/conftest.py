"""The browser suite: Debian's Chromium driven by Playwright against a live `paperroute serve`."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connections

from tests.conftest import ROOT, stop_server
from tests.support import free_port

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Screenshots and server logs, a folder for each database: the SQLite and PostgreSQL passes run
# side by side, and with one folder for both, one pass's server wrote over the other's log.
ARTIFACTS = (
    ROOT
    / "test-artifacts"
    / ("postgresql" if os.environ.get("PAPERROUTE_DATABASE_URL", "").startswith("postgres") else "sqlite")
)
# Playwright's sync API keeps an event loop running in this thread; the test's own database work
# is still synchronous, so Django's guard against async callers does not apply.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    here = [item for item in items if Path(str(item.fspath)).is_relative_to(Path(__file__).parent)]
    if os.environ.get("PAPERROUTE_REQUIRE_BROWSER", "").strip().lower() in {"1", "true", "yes"}:
        return  # the `browser` fixture fails each test, naming what is missing
    for item in here:
        item.add_marker(
            pytest.mark.skip(
                reason=f"browser suite skipped: {CHROMIUM} is missing (apt-get install chromium; "
                "PAPERROUTE_REQUIRE_BROWSER=1 makes this a failure)"
            )
        )


class WatchedBrowser:
    """A launched Chromium whose every page is watched for CSP violations and script errors."""

    def __init__(self, launched) -> None:
        self.launched = launched
        self.problems: list[str] = []

    def new_context(self, **options):
        context = self.launched.new_context(**options)
        context.on("console", self._console)
        context.on("page", lambda page: page.on("pageerror", self._page_error))
        return context

    def _console(self, message) -> None:
        # Chromium reports a blocked script, style or frame on the console, as an error.
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.problems.append(
                f"CSP violation on {message.page.url if message.page else '?'}: {message.text}"
            )

    def _page_error(self, error) -> None:
        self.problems.append(f"script error: {error}")

    def __getattr__(self, name):
        return getattr(self.launched, name)


def launch(playwright, extra_args: tuple[str, ...] = ()):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*ARGS, *extra_args], headless=True)


@pytest.fixture(scope="module")
def _playwright():
    """Playwright and Chromium, started once for a module's tests: starting both for every test
    took 2-4 s a test on a busy machine. Module-scoped rather than session-scoped: while
    Playwright's sync API runs, an event loop is running in this thread, which the tests of
    other modules must not find."""
    if not CHROMIUM.exists():
        pytest.fail(f"PAPERROUTE_REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        shared: list = []

        def chromium():
            if not (shared and shared[0].is_connected()):  # started, or started again after a crash
                shared[:] = [launch(playwright)]
            return shared[0]

        try:
            yield playwright, chromium
        finally:
            for launched in shared:
                launched.close()
            # Django keeps its connections per context (asgiref's Local), and while Playwright's
            # sync API runs, the tests' queries open a connection that pytest-django's teardown
            # does not see: on PostgreSQL it kept the test database from being dropped ("1 other
            # session"). Close it here, where it is seen.
            connections.close_all()


@pytest.fixture
def browser_with(_playwright):
    """Chromium, started with extra command-line switches if given; CSP violations fail the test.

    Without switches it is the module's Chromium, in which each test's contexts are its own
    (cookies, cache, storage) and are closed after it."""
    playwright, chromium = _playwright
    watched, own = [], []

    def start(*extra_args: str) -> WatchedBrowser:
        if extra_args:
            launched = launch(playwright, extra_args)
            own.append(launched)
        else:
            launched = chromium()
        browser = WatchedBrowser(launched)
        watched.append(browser)
        return browser

    try:
        yield start
    finally:
        for launched in {id(b.launched): b.launched for b in watched}.values():
            if launched in own:
                launched.close()
            elif launched.is_connected():
                for context in launched.contexts:
                    context.close()
    problems = [p for browser in watched for p in browser.problems]
    assert problems == [], "\n".join(problems)


@pytest.fixture
def browser(browser_with):
    return browser_with()


class LiveServer:
    """`paperroute serve` in a subprocess on a free port, against the test database."""

    def __init__(
        self, env: dict[str, str], workers: int = 2, site_url: str | None = "", worker: bool = True
    ) -> None:
        """`site_url` is the address the site says it has: its own by default, None for unset;
        `worker`: run the background worker beside it, as `serve` does."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = ARTIFACTS / "server.log"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "paperroute",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                *([] if worker else ["--no-worker"]),
            ],
            cwd=ROOT,
            env={
                key: value
                for key, value in {**env, "PAPERROUTE_SITE_URL": site_url or self.url}.items()
                if site_url is not None or key != "PAPERROUTE_SITE_URL"
            },
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                # Any answer will do: an https site redirects plain requests.
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/static/css/site.css")
                connection.getresponse().read()
                connection.close()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("the server did not start:\n" + self.log.read_text()[-3000:]) from None
                time.sleep(0.3)

    def stop(self) -> None:
        stop_server(self.process)


def focused_id(page, expected: str) -> str:
    """The id of the element the keyboard is on, once it is `expected` or after 5 s: Chromium
    moves the keyboard to an `autofocus` field when it next renders, which on a busy machine
    came after the load event the test had waited for."""
    import contextlib

    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(
            "id => document.activeElement && document.activeElement.id === id", arg=expected, timeout=5000
        )
    return page.evaluate("document.activeElement.id")
