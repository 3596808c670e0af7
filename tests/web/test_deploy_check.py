"""`paperroute check --deploy`: silent for the documented production settings, specific otherwise."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def production(tmp_path) -> dict[str, str]:
    """The settings of deploy/env.example, which the README's "Deploying on a server" documents,
    with the secrets it names written to files here."""
    files = {
        "/etc/paperroute/secret-key": "a-long-random-secret-made-by-openssl-rand-base64-48",
        "/etc/paperroute/smtp-url": "smtp://papers:password@smtp.example.org:587?starttls=1",
    }
    env = {}
    for line in (ROOT / "deploy/env.example").read_text().splitlines():
        if line.startswith("PAPERROUTE_"):
            name, _, value = line.partition("=")
            value = value.strip('"')
            if value in files:
                path = tmp_path / value.rsplit("/", 1)[1]
                path.write_text(files[value])
                path.chmod(0o600)
                value = str(path)
            env[name] = value
    env.pop("PAPERROUTE_DATA_DIR")  # the test's own, from the cli fixture
    assert {
        "PAPERROUTE_SITE_URL",
        "PAPERROUTE_TRUSTED_PROXIES",
        "PAPERROUTE_SECRET_KEY_FILE",
        "PAPERROUTE_SMTP_URL_FILE",
        "PAPERROUTE_FROM_EMAIL",
    } <= env.keys()
    return env


def test_the_documented_production_settings_pass(cli, tmp_path):
    result = cli("check", "--deploy", env=production(tmp_path))
    assert result.returncode == 0, result.stderr.decode()
    assert "System check identified no issues" in result.stdout.decode() + result.stderr.decode()


def test_the_demo_settings_are_reported_one_by_one(cli):
    result = cli("check", "--deploy")
    assert result.returncode == 1
    report = result.stderr.decode()
    for check in (
        "paperroute.W001",
        "paperroute.W002",
        "paperroute.W003",
        "paperroute.W005",
        "paperroute.W006",
        "security.W012",
        "security.W016",
    ):
        assert check in report, check
    assert "Traceback" not in report
    assert cli("check").returncode == 0  # nothing wrong for a laptop


def test_each_missing_production_setting_is_named(cli, tmp_path):
    for name, check in (
        ("PAPERROUTE_TRUSTED_PROXIES", "paperroute.W003"),
        ("PAPERROUTE_SMTP_URL_FILE", "paperroute.W005"),
    ):
        env = {**production(tmp_path), name: ""}
        result = cli("check", "--deploy", env=env)
        assert result.returncode == 1
        assert check in result.stderr.decode() and result.stderr.decode().count("(paperroute.W") == 1


def test_a_secret_file_every_user_can_read_is_named(cli, tmp_path):
    """A secret key file left 0644 by `openssl rand > file` let any local user sign sessions,
    while the check said that no issues were found."""
    env = production(tmp_path)
    key = tmp_path / "secret-key"
    key.chmod(0o644)
    result = cli("check", "--deploy", env=env)
    report = result.stderr.decode()
    assert result.returncode == 1, report
    assert "paperroute.W007" in report and f"{key} (PAPERROUTE_SECRET_KEY_FILE)" in report, report
    key.chmod(0o640)  # root's file, readable by the service's group, as step by step shares it
    assert cli("check", "--deploy", env=env).returncode == 0
