"""Logs an operator can read: a time, a level and the component on each line, or JSON."""

import json
import logging
import re
import signal

import pytest

from paperroute import logs, worker
from tests.conftest import FIXTURES


def record(name: str, message: str, level: int = logging.INFO, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, (), exc_info)


def test_a_text_line_has_time_level_and_component():
    line = logs.TextFormatter().format(record("paperroute.digest.sender", "sent 3"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO mail: sent 3", line)


@pytest.mark.parametrize(
    "name, component",
    [
        ("paperroute.worker", "worker"),
        ("paperroute.catalog.harvest", "ingest"),
        ("paperroute.search.indexer", "index"),
        ("paperroute.digest.runs", "digest"),
        ("paperroute.digest.smtp", "mail"),
        ("gunicorn.error", "serve"),
        ("django.request", "serve"),
    ],
)
def test_every_part_has_its_component(name, component):
    assert logs.component_of(name) == component


def test_json_is_one_object_a_line_with_the_traceback():
    try:
        raise ValueError("broken")
    except ValueError:
        import sys

        failure = record("paperroute.worker", "tick failed", logging.ERROR, sys.exc_info())
    text = logs.JsonFormatter().format(failure)
    assert "\n" not in text
    entry = json.loads(text)
    assert entry["level"] == "ERROR" and entry["component"] == "worker"
    assert entry["message"] == "tick failed" and "ValueError: broken" in entry["traceback"]


def test_the_level_applies_to_paperroute_and_libraries_stay_quiet():
    config = logs.config("DEBUG", "json")
    assert config["loggers"]["paperroute"]["level"] == "DEBUG"
    assert config["root"]["level"] == "WARNING"
    assert logs.config("ERROR")["root"]["level"] == "ERROR"


@pytest.fixture
def signals():
    """run_forever installs its own SIGTERM and SIGINT handlers: put pytest's back."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.django_db
def test_a_failing_worker_round_is_logged_once_with_its_traceback(
    monkeypatch, caplog, signals, settings, tmp_path
):
    settings.DATA_DIR = tmp_path

    def broken(state, say=None):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(worker, "tick", broken)
    with caplog.at_level(logging.INFO, logger="paperroute"):
        assert worker.run_forever(once=True) == 0
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info and errors[0].name == "paperroute.worker"
    assert "database on fire" in caplog.text and caplog.text.count("Traceback") <= 1
    assert not list((tmp_path / "status").glob("worker-*"))  # stopped on purpose: no heartbeat left


@pytest.mark.django_db
def test_a_failing_index_sync_is_logged_once_and_the_round_goes_on(monkeypatch, caplog):
    from paperroute import search

    def broken(**kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(search, "sync", broken)
    with caplog.at_level(logging.INFO, logger="paperroute"):
        worker.sync_index()
    assert [(r.name, r.levelname, bool(r.exc_info)) for r in caplog.records] == [
        ("paperroute.index", "ERROR", True)
    ]


@pytest.mark.slow
def test_commands_log_json_to_stderr_and_keep_results_on_stdout(cli):
    result = cli(
        "ingest",
        "jsonl",
        str(FIXTURES / "seed-papers.jsonl"),
        "--quiet",
        env={"PAPERROUTE_LOG_FORMAT": "json"},
    )
    assert result.returncode == 0
    assert result.stdout.decode().strip() == "jsonl: 45 records: 45 new, 0 updated, 0 unchanged, 0 skipped"
    entries = [json.loads(line) for line in result.stderr.decode().splitlines()]
    assert entries and {e["component"] for e in entries} == {"index"}
    assert any(e["message"].startswith("search index") for e in entries)
    quiet = cli(
        "ingest",
        "jsonl",
        str(FIXTURES / "seed-papers.jsonl"),
        "--quiet",
        env={"PAPERROUTE_LOG_LEVEL": "warning"},
    )
    assert quiet.returncode == 0 and quiet.stderr == b""


@pytest.mark.slow
def test_a_bad_log_setting_says_what_to_write(cli):
    result = cli("status", env={"PAPERROUTE_LOG_FORMAT": "xml"})
    assert result.returncode == 2
    assert "PAPERROUTE_LOG_FORMAT: expected text or json, got 'xml'" in result.stderr.decode()


def test_gunicorns_own_lines_use_the_same_format(settings, capsys):
    from gunicorn.config import Config

    from paperroute.server import GunicornLogger

    settings.CONFIG = settings.CONFIG.replace(log_format="json")
    config = Config()
    config.set("errorlog", "-")
    GunicornLogger(config).error("worker timed out")
    entry = json.loads(capsys.readouterr().err.strip())
    assert entry["component"] == "serve" and entry["message"] == "worker timed out"


@pytest.mark.django_db
def test_a_refused_host_names_the_setting_to_change(client, capsys):
    """Django's line said to add the host to ALLOWED_HOSTS, a setting nobody sets here. It is
    a WARNING: scanners send such requests by the thousand, and filled the ERRORs."""
    assert client.get("/", HTTP_HOST="evil.example").status_code == 400
    line = capsys.readouterr().err.strip()
    assert line.endswith(
        "WARNING serve: Invalid HTTP_HOST header: 'evil.example'. You may need to add 'evil.example' "
        "to PAPERROUTE_ALLOWED_HOSTS, or make it PAPERROUTE_SITE_URL's host."
    ), line
