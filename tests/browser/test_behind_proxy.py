"""The documented deployment, for real: Debian's nginx terminating TLS (deploy/nginx.conf, with a
certificate made by openssl here) in front of `paperroute serve`, for https://papers.example.org.

Chromium reaches the site by name (its resolver maps the name to nginx) and trusts the
certificate, so cookies, HSTS and CSRF origins are what a reader's browser would see. Two more
clients, on 127.0.0.2 and 127.0.0.3, show that rate limits count each client, not the proxy.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import re
import shutil
import ssl
import subprocess
import time
from pathlib import Path

import pytest
from django.utils import timezone

from tests.browser.conftest import LiveServer
from tests.community.helpers import add_paper
from tests.conftest import ROOT
from tests.support import free_port, smtp_server

pytestmark = pytest.mark.slow
HOST = "papers.example.org"
SITE = f"https://{HOST}"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _certificate(directory: Path) -> tuple[Path, Path]:
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            f"/CN={HOST}",
            "-addext",
            f"subjectAltName=DNS:{HOST}",
        ],
        check=True,
        capture_output=True,
    )
    return key, cert


def _spki_hash(cert: Path) -> str:
    """The certificate's key hash, which Chromium can be told to trust."""
    pem = ssl.PEM_cert_to_DER_cert(cert.read_text())
    public = subprocess.run(
        ["openssl", "x509", "-inform", "der", "-pubkey", "-noout"], input=pem, capture_output=True, check=True
    ).stdout
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "der"], input=public, capture_output=True, check=True
    ).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


class Nginx:
    """deploy/nginx.conf as shipped, with its ports, upstream and certificate paths filled in."""

    def __init__(self, directory: Path, upstream_port: int, key: Path, cert: Path) -> None:
        self.http_port, self.https_port = free_port(), free_port()
        site = (ROOT / "deploy/nginx.conf").read_text()
        replacements = {
            "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream_port};",
            "listen 80;": f"listen 127.0.0.1:{self.http_port};",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{self.https_port} ssl http2;",
            f"/etc/letsencrypt/live/{HOST}/fullchain.pem": str(cert),
            f"/etc/letsencrypt/live/{HOST}/privkey.pem": str(key),
        }
        for old, new in replacements.items():
            assert old in site, f"deploy/nginx.conf no longer has {old!r}"
            site = site.replace(old, new)
        # The test machine may have no IPv6 loopback.
        site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)
        (directory / "site.conf").write_text(site)
        temp = {name: directory / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
        (directory / "nginx.conf").write_text(f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
error_log {directory}/error.log warn;
pid {directory}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log {directory}/access.log;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {directory}/site.conf;
}}
""")
        self.directory = directory
        self.process = subprocess.Popen(
            [NGINX, "-p", str(directory), "-c", str(directory / "nginx.conf"), "-g", "daemon off;"],
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=2).connect()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError(
                        "nginx did not start: "
                        + self.process.stderr.read().decode()
                        + (directory / "error.log").read_text()
                    ) from None
                time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Client:
    """A client of the site with its own address on the loopback network."""

    def __init__(self, nginx: Nginx, cert: Path, address: str) -> None:
        self.nginx, self.address = nginx, address
        self.context = ssl.create_default_context(cafile=str(cert))
        self.context.check_hostname = False  # connecting by address; the certificate is checked
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: str = "", headers: dict | None = None):
        connection = http.client.HTTPSConnection(
            "127.0.0.1",
            self.nginx.https_port,
            timeout=30,
            context=self.context,
            source_address=(self.address, 0),
        )
        sent = {"Host": HOST, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form:
            sent.update(
                {"Content-Type": "application/x-www-form-urlencoded", "Origin": SITE, "Referer": SITE + path}
            )
        connection.request(method, path, body=form.encode(), headers=sent)
        response = connection.getresponse()
        response.text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        connection.close()
        return response

    def sign_in(self, email: str, **headers):
        form = self.request("GET", "/account/signin")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        return self.request("POST", "/account/signin", f"csrfmiddlewaretoken={token}&email={email}", headers)


@pytest.fixture
def deployment(cli_env, tmp_path):
    if not Path(NGINX).exists():
        if os.environ.get("PAPERROUTE_REQUIRE_BROWSER", "").strip().lower() in {"1", "true", "yes"}:
            pytest.fail(f"PAPERROUTE_REQUIRE_BROWSER=1 but {NGINX} is missing (apt-get install nginx)")
        pytest.skip(f"{NGINX} is missing (apt-get install nginx)")
    add_paper(
        "2411.17701",
        "Speculative decoding without a draft model",
        listed=timezone.localdate(),
        hf_upvotes=5,
        abstract="Speculative decoding accelerates inference.",
    )
    key, cert = _certificate(tmp_path)
    with smtp_server() as mailbox:
        env = {
            **cli_env,
            "PAPERROUTE_SMTP_URL": f"smtp://127.0.0.1:{mailbox.port}",
            "PAPERROUTE_TRUSTED_PROXIES": "127.0.0.1",
            "PAPERROUTE_RATE_SIGNIN": "4/hour",
        }
        server = LiveServer(env, site_url=SITE)
        nginx = None
        try:
            (tmp_path / "nginx").mkdir()
            nginx = Nginx(tmp_path / "nginx", server.port, key, cert)
            yield nginx, cert, mailbox
        finally:
            if nginx:
                nginx.stop()
            server.stop()


def test_a_reader_signs_in_votes_comments_and_subscribes_through_nginx(deployment, browser_with):
    nginx, cert, mailbox = deployment
    browser = browser_with(
        f"--host-resolver-rules=MAP {HOST}:443 127.0.0.1:{nginx.https_port}, "
        f"MAP {HOST}:80 127.0.0.1:{nginx.http_port}",
        f"--ignore-certificate-errors-spki-list={_spki_hash(cert)}",
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    # Plain http is sent to https by nginx; the answer carries HSTS.
    response = page.goto(f"http://{HOST}/")
    assert page.url == SITE + "/"
    assert response.headers["strict-transport-security"] == "max-age=31536000"

    # Sign in by the emailed link, whose address is the public https one.
    page.get_by_role("link", name="Sign in", exact=True).click()
    page.get_by_label("Email address").fill("grace@example.org")
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_text("Check your email").wait_for()
    link = mailbox.link("grace@example.org")
    assert link.startswith(SITE + "/account/signin/")
    page.goto(link)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text("Signed in as grace.").wait_for()
    cookies = {c["name"]: c for c in context.cookies(SITE)}
    assert cookies["sessionid"]["secure"] and cookies["sessionid"]["httpOnly"]
    assert cookies["csrftoken"]["secure"]

    # Vote with the script (a same-origin POST with the CSRF token), then comment.
    card = page.locator(".card", has_text="Speculative decoding without a draft model")
    card.locator("form[data-vote] button[aria-pressed]").click()
    card.locator("form[data-vote] button[aria-pressed='true']").wait_for()
    page.reload()
    assert page.locator(".card", has_text="Speculative decoding").locator("[data-count]").inner_text() == "6"
    page.get_by_role("link", name="Speculative decoding without a draft model", exact=True).click()
    page.get_by_label(re.compile("Add a comment")).fill("Read through the proxy: https://example.org/x")
    page.get_by_role("button", name="Post comment").click()
    page.locator(".comment").first.wait_for()
    assert "Read through the proxy" in page.locator(".comment-body").first.inner_text()

    # Subscribe from the box on a listing page, and confirm from the mail.
    page.goto(SITE + "/subscribe")
    page.get_by_label("Email address").fill("grace@example.org")
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    confirmation = mailbox.wait_for("grace@example.org", count=2)
    confirm = re.search(r"https://\S+/subscribe/confirm/\S+", mailbox.text(confirmation)).group(0)
    page.goto(confirm)
    page.get_by_role("button", name=re.compile("Confirm")).click()
    page.wait_for_url(re.compile(r"/subscription/.+\?welcome=1$"))
    context.close()


def test_two_clients_behind_the_proxy_have_separate_limits(deployment):
    nginx, cert, _ = deployment
    first, second = Client(nginx, cert, "127.0.0.2"), Client(nginx, cert, "127.0.0.3")
    # The allowance is counted by the clock's hour: requests on both sides of an hour's end fall
    # in two windows (a CI run at 22:00 UTC saw the fifth allowed). Start well inside one.
    left = 3600 - time.time() % 3600
    if left < 60:
        time.sleep(left + 1)
    for i in range(4):
        assert first.sign_in(f"first{i}@example.org").status == 200
    # The first client's allowance is used up, and claiming another address does not help...
    assert first.sign_in("first9@example.org").status == 429
    assert first.sign_in("first9@example.org", **{"X-Forwarded-For": "198.51.100.7"}).status == 429
    # ...while the second client, behind the same proxy, is unaffected.
    assert second.sign_in("second@example.org").status == 200
    access = (nginx.directory / "access.log").read_text()
    assert "127.0.0.2 - " in access and "127.0.0.3 - " in access
