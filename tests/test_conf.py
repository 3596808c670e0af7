"""`conf.Config` and `conf.SETTINGS` describe the same settings, with the same types."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from paperroute import conf

ROOT = Path(__file__).resolve().parent.parent


def _fits(value: object, annotation: object) -> bool:
    if typing.get_origin(annotation) is tuple:
        item, ellipsis = typing.get_args(annotation)
        assert ellipsis is Ellipsis
        return isinstance(value, tuple) and all(isinstance(part, item) for part in value)
    assert isinstance(annotation, type)
    return isinstance(value, annotation)


def test_there_is_one_typed_field_per_setting_in_the_same_order():
    fields = typing.get_type_hints(conf.Config)
    assert list(fields) == [setting.name.lower() for setting in conf.SETTINGS]
    for setting in conf.SETTINGS:
        declared = fields[setting.name.lower()]
        # What the parser says it returns, and what it returns for the default, is the field's type.
        assert typing.get_type_hints(setting.parse)["return"] == declared, setting.name
        assert _fits(setting.parse(setting.default), declared), setting.name


def test_the_defaults_parse_into_a_frozen_config():
    config = conf.read({})
    assert config.rate_votes == "120/hour"
    assert config.arxiv_categories == ("cs.AI", "cs.CL", "cs.CV", "cs.LG", "stat.ML")
    assert config.digest_retry_schedule == (60, 300, 1800, 7200, 21600)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.rate_votes = "1/hour"  # type: ignore[misc]


def test_replace_changes_only_what_it_names():
    config = conf.read({"PAPERROUTE_RATE_VOTES": "5/minute"})
    changed = config.replace(rate_votes="2/hour", worker_ingest=("arxiv-rss",))
    assert (changed.rate_votes, changed.worker_ingest) == ("2/hour", ("arxiv-rss",))
    assert config.rate_votes == "5/minute"
    assert changed.site_url == config.site_url
    with pytest.raises(TypeError):
        config.replace(no_such_setting=1)


def test_reading_the_settings_writes_nothing(tmp_path):
    data = tmp_path / "data"
    config = conf.read({"PAPERROUTE_DATA_DIR": str(data)})
    assert conf.data_dir(config) == data
    assert not data.exists()
    conf.prepare(config)
    assert (data / "secret_key").exists() and (data / "paperroute.sqlite3").exists()
    assert conf.secret_key(config) == (data / "secret_key").read_text().strip()


def test_importing_the_django_settings_creates_nothing(tmp_path):
    data = tmp_path / "data"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PAPERROUTE_DATA_DIR": str(data)}
    code = "import paperroute.settings as s; print(s.DATA_DIR, repr(s.SECRET_KEY))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, check=True)
    assert result.stdout.decode().split() == [str(data), "''"]
    assert not data.exists()


@pytest.mark.django_db
def test_postgresql_connections_run_without_its_jit_compiler():
    """PostgreSQL's JIT compiled a listing's query for about a second per page (an author page:
    0.92 s with it, 0.055 s without), so paperroute's connections turn it off."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_a_negative_number_of_query_runs_is_refused():
    with pytest.raises(conf.ConfigError, match="PAPERROUTE_QUERY_RUNS"):
        conf.read({"PAPERROUTE_QUERY_RUNS": "-1"})
    assert conf.read({"PAPERROUTE_QUERY_RUNS": "3"}).query_runs == 3


@pytest.mark.parametrize(
    "name, value, expected",
    [
        # What a reviewer found `paperroute check` accepting without a word.
        ("DIGEST_HOUR", "25", "a whole number from 0 to 23"),
        ("DIGEST_HOUR", "-1", "a whole number from 0 to 23"),
        ("EMBED_THREADS", "-3", "a whole number of at least 0"),
        ("WEB_WORKERS", "-1", "a whole number of at least 0"),
        ("DIGEST_CONCURRENCY", "0", "a whole number of at least 1"),
        ("EMBED_BATCH", "0", "a whole number of at least 1"),
        ("PAGE_CACHE_SECONDS", "-5", "a whole number of at least 0"),
        ("HSTS_SECONDS", "-1", "a whole number of at least 0"),
        ("WORKER_INGEST_MINUTES", "0", "a whole number of at least 1"),
        ("DIGEST_SUPPRESS_AFTER", "0", "a whole number of at least 1"),
        # Settings beside them that a zero or a negative number breaks as badly.
        ("DIGEST_LEASE_SECONDS", "0", "a whole number of at least 1"),
        ("DIGEST_CONFIRM_HOURS", "0", "a whole number of at least 1"),
        ("SIGNIN_LINK_MINUTES", "1", "a whole number of at least 2"),
        ("MAX_INPUT_MB", "0", "a whole number of at least 1"),
        ("HTTP_TIMEOUT", "0", "a number more than 0"),
        ("TRENDING_HALF_LIFE", "0", "a number more than 0"),
        ("TRENDING_HALF_LIFE", "inf", "a number more than 0"),
        ("ARXIV_DELAY", "-1", "a number of at least 0"),
        ("ARXIV_DELAY", "nan", "a number of at least 0"),
        # Not a number at all: the same sentence, not Python's "invalid literal for int()".
        ("DIGEST_HOUR", "6am", "a whole number from 0 to 23"),
        ("EMBED_BATCH", "eight", "a whole number of at least 1"),
    ],
)
def test_a_number_out_of_its_range_is_refused_naming_the_range(name, value, expected):
    with pytest.raises(conf.ConfigError) as refused:
        conf.read({f"PAPERROUTE_{name}": value})
    assert str(refused.value) == f"PAPERROUTE_{name}: expected {expected}, got {value!r}"


@pytest.mark.parametrize(
    "name, value",
    [
        ("DIGEST_HOUR", "0"),
        ("DIGEST_HOUR", "23"),
        ("EMBED_THREADS", "0"),
        ("WEB_WORKERS", "0"),
        ("DIGEST_CONCURRENCY", "1"),
        ("EMBED_BATCH", "1"),
        ("PAGE_CACHE_SECONDS", "0"),
        ("HSTS_SECONDS", "0"),
        ("WORKER_INGEST_MINUTES", "1"),
        ("DIGEST_SUPPRESS_AFTER", "1"),
        ("DIGEST_LEASE_SECONDS", "1"),
        ("DIGEST_CONFIRM_HOURS", "1"),
        ("MAX_INPUT_MB", "1"),
        ("ARXIV_DELAY", "0"),
        ("HTTP_TIMEOUT", "0.5"),
        ("TRENDING_HALF_LIFE", "0.5"),
    ],
)
def test_the_edges_of_each_range_are_accepted(name, value):
    parsed = getattr(conf.read({f"PAPERROUTE_{name}": value}), name.lower())
    assert parsed == float(value)


def test_a_sign_in_link_may_last_two_minutes_when_mail_is_sent_every_minute():
    config = conf.read({"PAPERROUTE_SIGNIN_LINK_MINUTES": "2", "PAPERROUTE_SIGNIN_MAIL_MINUTES": "1"})
    assert (config.signin_link_minutes, config.signin_mail_minutes) == (2, 1)


def test_no_number_setting_takes_a_negative_or_not_a_number():
    """Whatever setting is added next: a bare int() or float() parser would let these through."""
    fields = typing.get_type_hints(conf.Config)
    numbers = [s for s in conf.SETTINGS if fields[s.name.lower()] in (int, float)]
    assert len(numbers) >= 18
    for setting in numbers:
        for value in ("-1", "nan", "inf", "many"):
            with pytest.raises(ValueError, match="expected a"):
                setting.parse(value)


def test_the_worker_ingests_only_sources_with_a_live_service():
    with pytest.raises(conf.ConfigError) as refused:
        conf.read({"PAPERROUTE_WORKER_INGEST": "arxiv-rss, bogus"})
    assert str(refused.value) == (
        "PAPERROUTE_WORKER_INGEST: expected sources among arxiv-oai, arxiv-api, arxiv-rss, hf-daily, "
        "got 'bogus'"
    )
    # jsonl reads files only: the worker's ingest, with no input, would fail every time.
    with pytest.raises(conf.ConfigError, match="got 'jsonl'"):
        conf.read({"PAPERROUTE_WORKER_INGEST": "jsonl"})
    every = conf.read({"PAPERROUTE_WORKER_INGEST": "arxiv-oai,arxiv-api, arxiv-rss ,hf-daily"})
    assert every.worker_ingest == ("arxiv-oai", "arxiv-api", "arxiv-rss", "hf-daily")
    assert conf.read({"PAPERROUTE_WORKER_INGEST": ""}).worker_ingest == ()


def test_the_worker_sources_are_those_the_harvester_has_a_live_service_for():
    from paperroute.catalog.harvest import DEFAULT_URLS, PARSERS

    assert set(conf.WORKER_SOURCES) == set(DEFAULT_URLS) <= set(PARSERS)


def test_a_digest_rate_of_nothing_is_refused_but_empty_means_unlimited():
    # 0/second would let one message through, then sleep forever (an infinite interval).
    with pytest.raises(conf.ConfigError) as refused:
        conf.read({"PAPERROUTE_DIGEST_RATE": "0/second"})
    assert "PAPERROUTE_DIGEST_RATE: expected a COUNT of at least 1" in str(refused.value)
    assert conf.read({"PAPERROUTE_DIGEST_RATE": "1/day"}).digest_rate == "1/day"
    assert conf.read({"PAPERROUTE_DIGEST_RATE": ""}).digest_rate == ""
    with pytest.raises(conf.ConfigError, match="expected COUNT/second"):
        conf.read({"PAPERROUTE_DIGEST_RATE": "fast"})


def test_allowed_hosts_are_host_names_and_empty_allows_the_site_url_host_alone(tmp_path):
    with pytest.raises(conf.ConfigError) as refused:
        conf.read({"PAPERROUTE_ALLOWED_HOSTS": "localhost,https://papers.example.org"})
    assert str(refused.value) == (
        "PAPERROUTE_ALLOWED_HOSTS: expected host names such as papers.example.org, not a URL, "
        "got 'https://papers.example.org'"
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PAPERROUTE_DATA_DIR": str(tmp_path / "data"),
        "PAPERROUTE_ALLOWED_HOSTS": "",
        "PAPERROUTE_SITE_URL": "https://papers.example.org",
    }
    code = "import paperroute.settings as s; print(s.ALLOWED_HOSTS)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, check=True)
    assert result.stdout.decode().strip() == "['papers.example.org']"


@pytest.mark.slow
def test_check_stops_with_exit_status_2_at_a_digest_hour_of_25(cli):
    result = cli("check", env={"PAPERROUTE_DIGEST_HOUR": "25"})
    assert result.returncode == 2
    stderr = result.stderr.decode()
    assert "PAPERROUTE_DIGEST_HOUR: expected a whole number from 0 to 23, got '25'" in stderr
    assert "Traceback" not in stderr
    assert cli("check", env={"PAPERROUTE_DIGEST_HOUR": "23"}).returncode == 0


@pytest.mark.slow
def test_a_data_directory_that_cannot_be_made_is_one_line_and_exit_status_2(cli, tmp_path):
    """The deploy guide ran `check --deploy` as the service user before its home existed: a
    PermissionError traceback. A file stands in the way here, as root may make any directory."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    result = cli("check", env={"PAPERROUTE_DATA_DIR": str(blocker / "paperroute")})
    stderr = result.stderr.decode()
    assert result.returncode == 2 and "Traceback" not in stderr, stderr
    assert (
        stderr.strip()
        == f"paperroute: PAPERROUTE_DATA_DIR: cannot use {blocker / 'paperroute'} as this user: Not a directory"
    )


def test_the_database_url_is_read_from_a_file_as_the_other_secrets_are(tmp_path):
    """A database URL holds the database's password: PAPERROUTE_DATABASE_URL_FILE was ignored."""
    secret = tmp_path / "database-url"
    secret.write_text("postgres://paperroute:s3cret@db.internal:5432/paperroute\n")
    config = conf.read({"PAPERROUTE_DATABASE_URL_FILE": str(secret)})
    assert config.database_url == "postgres://paperroute:s3cret@db.internal:5432/paperroute"
    both = {
        "PAPERROUTE_DATABASE_URL_FILE": str(secret),
        "PAPERROUTE_DATABASE_URL": "sqlite:////tmp/x.sqlite3",
    }
    assert conf.read(both).database_url == "sqlite:////tmp/x.sqlite3"  # the variable itself wins


@pytest.mark.slow
def test_check_names_a_mistyped_variable_and_the_setting_meant(cli):
    result = cli(
        "check", env={"PAPERROUTE_SMTP_URI": "smtp://mail.example.org", "PAPERROUTE_SITE_URL_FILE": "x"}
    )
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert "PAPERROUTE_SMTP_URI is not a paperroute setting: it is ignored." in stderr
    assert "Did you mean PAPERROUTE_SMTP_URL?" in stderr
    assert "Set PAPERROUTE_SITE_URL itself: only secrets are read from a file" in stderr
    internal = {"PAPERROUTE_TEST_SERIAL": "1", "PAPERROUTE_DATABASE_URL_FILE": "/nonexistent"}
    assert cli("check", env=internal).returncode == 0  # the variable itself is set, and wins


def test_every_paperroute_variable_the_code_reads_is_a_setting_or_known_not_to_be_one():
    """`paperroute check` warns about the rest: a variable added without a setting would be
    reported on every host that sets it."""
    named = set()
    # What reads variables (code, units, CI), not the docs, one of which shows a typo.
    for folder in ("paperroute", "tests", "bench", "deploy", ".ci"):
        for path in (ROOT / folder).rglob("*"):
            if (
                path.suffix in (".py", ".example", ".service", "")
                and path != Path(__file__)
                and path.is_file()
            ):
                # Whole names: not the PAPERROUTE_RATE_ of "PAPERROUTE_RATE_*".
                named.update(re.findall(r"PAPERROUTE_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_])", path.read_text()))
    assert {"PAPERROUTE_DATA_DIR", "PAPERROUTE_QUERY_SERVICE_SOCKET", "PAPERROUTE_CRASH_SEED"} <= named
    assert conf.unknown_variables(dict.fromkeys(named, "")) == []
