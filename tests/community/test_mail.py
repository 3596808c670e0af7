"""PAPERROUTE_SMTP_URL becomes Django's EMAIL_* settings; the digest area reuses this."""

import pytest

from paperroute.conf import ConfigError
from paperroute.mail import CONSOLE_BACKEND, SMTP_BACKEND, email_settings


def test_empty_url_prints_mail_to_the_console():
    assert email_settings("", "x@y.org")["EMAIL_BACKEND"] == CONSOLE_BACKEND


@pytest.mark.parametrize(
    "url, expected",
    [
        (
            "smtp://relay.example.org",
            {
                "EMAIL_HOST": "relay.example.org",
                "EMAIL_PORT": 25,
                "EMAIL_USE_TLS": False,
                "EMAIL_USE_SSL": False,
            },
        ),
        (
            "smtp://me%40lab.org:p%40ss@mail.example.org:587?starttls=1",
            {
                "EMAIL_PORT": 587,
                "EMAIL_USE_TLS": True,
                "EMAIL_HOST_USER": "me@lab.org",
                "EMAIL_HOST_PASSWORD": "p@ss",
            },
        ),
        ("smtps://u:p@mail.example.org", {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True, "EMAIL_USE_TLS": False}),
    ],
)
def test_smtp_urls(url, expected):
    settings = email_settings(url, "x@y.org")
    assert settings["EMAIL_BACKEND"] == SMTP_BACKEND
    assert {k: settings[k] for k in expected} == expected


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://mail.example.org", "expected smtp://"),
        ("smtp://", "no host"),
        ("smtp://h:port", "not a number"),
    ],
)
def test_unusable_urls_are_explained(url, message):
    with pytest.raises(ConfigError, match=message):
        email_settings(url, "x@y.org")
