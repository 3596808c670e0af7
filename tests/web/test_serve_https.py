"""`paperroute serve` as a TLS-terminating proxy on the same host talks to it: plain HTTP from
127.0.0.1 with X-Forwarded-Proto and X-Forwarded-For, for the site https://papers.example.org.
"""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
import time

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.conftest import ROOT, stop_server
from tests.support import free_port, smtp_server

pytestmark = pytest.mark.slow
SITE = "https://papers.example.org"


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.log = ARTIFACTS / "serve-https.log"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "paperroute",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                "2",
                "--no-worker",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                self.request("GET", "/static/css/site.css")
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the server did not start:\n" + self.log.read_text()[-3000:]) from None
                time.sleep(0.3)

    def request(
        self, method: str, path: str, body: str = "", headers: dict | None = None, client: str = "203.0.113.5"
    ):
        """A request as the proxy sends it: HTTPS outside, the client's address appended."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = {
            "Host": "papers.example.org",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": client,
            **(headers or {}),
        }
        if body:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body.encode(), headers=sent)
        response = connection.getresponse()
        response.text = response.read().decode()
        connection.close()
        return response


@pytest.fixture
def server(cli_env):
    with smtp_server() as mailbox:
        env = {
            **cli_env,
            "PAPERROUTE_SITE_URL": SITE,
            "PAPERROUTE_TRUSTED_PROXIES": "127.0.0.1",
            "PAPERROUTE_SMTP_URL": f"smtp://127.0.0.1:{mailbox.port}",
            "PAPERROUTE_RATE_SIGNIN": "3/hour",
        }
        running = Server(env)
        running.mailbox = mailbox
        try:
            yield running
        finally:
            stop_server(running.process)


def _signin(server, email: str, client: str = "203.0.113.5"):
    form = server.request("GET", "/account/signin", client=client)
    cookie = re.search(r"csrftoken=([^;]+)", form.getheader("Set-Cookie")).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    return form, server.request(
        "POST",
        "/account/signin",
        f"csrfmiddlewaretoken={token}&email={email}",
        {"Origin": SITE, "Referer": SITE + "/account/signin", "Cookie": f"csrftoken={cookie}"},
        client=client,
    )


def test_sign_in_works_through_the_proxy_with_secure_cookies_and_hsts(server):
    form, sent = _signin(server, "ada@example.org")
    assert form.status == 200
    assert "Secure" in form.getheader("Set-Cookie")
    assert form.getheader("Strict-Transport-Security") == "max-age=31536000"
    assert sent.status == 200, sent.text[:500]
    assert "Check your email" in sent.text
    link = server.mailbox.link("ada@example.org")
    assert link.startswith(SITE + "/account/signin/")


def test_each_client_behind_the_proxy_has_its_own_limit(server):
    for i in range(3):
        assert _signin(server, f"a{i}@example.org", client="203.0.113.5")[1].status == 200
    assert _signin(server, "a4@example.org", client="203.0.113.5")[1].status == 429
    assert _signin(server, "b@example.org", client="203.0.113.6")[1].status == 200


def test_plain_http_through_the_proxy_is_sent_to_https(server):
    response = server.request("GET", "/trending", headers={"X-Forwarded-Proto": "http"})
    assert response.status == 301
    assert response.getheader("Location") == SITE + "/trending"


def test_a_refused_host_is_one_log_line_without_a_traceback(server):
    response = server.request("GET", "/", headers={"Host": "evil.example"})
    assert response.status == 400
    time.sleep(0.5)
    log = server.log.read_text()
    assert "Invalid HTTP_HOST header: 'evil.example'" in log
    # The setting an operator changes, not the Django setting made from it.
    assert "add 'evil.example' to PAPERROUTE_ALLOWED_HOSTS, or make it PAPERROUTE_SITE_URL's host." in log
    assert "Traceback" not in log
