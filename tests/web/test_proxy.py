"""Behind a reverse proxy: the real client and scheme come from trusted proxies, and no one else.

The Django test client plays the proxy here (REMOTE_ADDR is the proxy's address); the browser
suite's test_behind_proxy.py does the same through a real nginx terminating TLS.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from paperroute.web.middleware import client_address, parse_address, rate_key
from tests.conftest import ROOT

PROXY = "10.0.0.2"


@pytest.fixture
def behind_proxy(settings):
    settings.CONFIG = settings.CONFIG.replace(trusted_proxies=("10.0.0.0/24",), rate_signin="2/hour")
    return settings


def _signin(client, email: str, **headers):
    return client.post("/account/signin", {"email": email}, REMOTE_ADDR=PROXY, **headers)


@pytest.mark.parametrize(
    "forwarded, expected",
    [
        ("203.0.113.9", "203.0.113.9"),
        ("198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the left part is the client's to invent
        ("203.0.113.9, 10.0.0.7", "203.0.113.9"),  # a second trusted proxy in the chain
        ("10.0.0.8, 10.0.0.7", "10.0.0.8"),
        ("", PROXY),
        ("not-an-address", PROXY),
        ("[2001:db8::1]:4711", "2001:db8::1"),
        ("203.0.113.9:5555", "203.0.113.9"),
    ],
)
def test_the_client_is_the_rightmost_hop_no_trusted_proxy_wrote(forwarded, expected):
    import ipaddress

    assert client_address(PROXY, forwarded, [ipaddress.ip_network("10.0.0.0/24")]) == expected


@pytest.mark.django_db
def test_readers_on_ipv6_can_subscribe_and_are_limited_by_their_64(client, settings, mailbox):
    """An IPv6 client's key was its network, "2001:db8:1:2::/64", which the digest also keeps as
    the address a subscription came from: PostgreSQL refused it, and no reader on IPv6 could
    subscribe (500)."""
    settings.CONFIG = settings.CONFIG.replace(rate_subscribe="2/hour")
    for n in (1, 2):
        response = client.post(
            "/subscribe", {"email": f"v6-{n}@example.org"}, REMOTE_ADDR=f"2001:db8:1:2::{n}"
        )
        assert response.status_code == 200
        mailbox.wait_for(f"v6-{n}@example.org")
    other_host = client.post("/subscribe", {"email": "v6-3@example.org"}, REMOTE_ADDR="2001:db8:1:2:ff::3")
    assert other_host.status_code == 429


def test_ipv6_clients_are_counted_by_their_64():
    assert rate_key("2001:db8:1:2:aaaa::1") == rate_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::"
    assert rate_key("2001:db8:1:3::1") != rate_key("2001:db8:1:2::1")
    assert rate_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert parse_address("[::1]:80") == parse_address("::1")


@pytest.mark.django_db
def test_clients_behind_a_trusted_proxy_have_limits_of_their_own(client, behind_proxy, mailbox):
    for i in range(2):
        assert _signin(client, f"a{i}@example.org", HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 200
    # The first client has used its allowance; it cannot dodge it by inventing addresses...
    refused = _signin(client, "a3@example.org", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.1")
    assert refused.status_code == 429
    # ...and a second client behind the same proxy is not held up by the first.
    assert _signin(client, "b@example.org", HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 200


@pytest.mark.django_db
def test_forwarded_headers_from_an_untrusted_peer_are_ignored(client, settings, mailbox):
    settings.CONFIG = settings.CONFIG.replace(trusted_proxies=(), rate_signin="2/hour")
    for i in range(2):
        _signin(client, f"c{i}@example.org", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
    # Without a trusted proxy, a made-up X-Forwarded-For does not make a new client.
    assert _signin(client, "c9@example.org", HTTP_X_FORWARDED_FOR="203.0.113.77").status_code == 429
    response = client.get("/", HTTP_X_FORWARDED_PROTO="https")
    assert "Strict-Transport-Security" not in response


def _settings_for(env: dict[str, str], tmp_path) -> dict:
    """Django's settings as `paperroute` builds them from these PAPERROUTE_* variables."""
    code = (
        "import json, paperroute.settings as s; print(json.dumps({k: getattr(s, k) for k in ("
        "'CSRF_TRUSTED_ORIGINS', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
        "'SECURE_HSTS_SECONDS', 'SECURE_SSL_REDIRECT', 'ALLOWED_HOSTS')}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "PAPERROUTE_DATA_DIR": str(tmp_path), **env},
    )
    return json.loads(result.stdout)


def test_an_https_site_url_makes_cookies_secure_and_turns_on_hsts(tmp_path):
    secure = _settings_for(
        {"PAPERROUTE_SITE_URL": "https://papers.example.org", "PAPERROUTE_HSTS_SECONDS": "600"}, tmp_path
    )
    assert secure["CSRF_TRUSTED_ORIGINS"] == ["https://papers.example.org"]
    assert secure["SESSION_COOKIE_SECURE"] and secure["CSRF_COOKIE_SECURE"]
    assert secure["SECURE_HSTS_SECONDS"] == 600 and secure["SECURE_SSL_REDIRECT"]
    assert "papers.example.org" in secure["ALLOWED_HOSTS"]
    plain = _settings_for({"PAPERROUTE_SITE_URL": "http://127.0.0.1:8141"}, tmp_path)
    assert not plain["SESSION_COOKIE_SECURE"] and plain["SECURE_HSTS_SECONDS"] == 0
    assert plain["CSRF_TRUSTED_ORIGINS"] == ["http://127.0.0.1:8141"]


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("PAPERROUTE_TRUSTED_PROXIES", "10.0.0.0/8, nginx", "expected IP addresses or networks"),
        ("PAPERROUTE_SITE_URL", "papers.example.org", "expected the site's address"),
        ("PAPERROUTE_SIGNIN_MAIL_MINUTES", "45", "must be at most 10"),
    ],
)
def test_bad_security_settings_are_refused_with_a_message(cli, name, value, message):
    result = cli("check", env={name: value})
    assert result.returncode == 2
    assert message in result.stderr.decode() and "Traceback" not in result.stderr.decode()
