"""Commands on a database they cannot use: one line saying what to do, never a traceback."""

import json
import os
import sqlite3
import subprocess
import sys
import uuid

import pytest
from django.db import connection

from tests.conftest import ROOT, database_url
from tests.support import free_port

COMMANDS = [
    ["stats"],
    ["export"],
    ["ingest", "jsonl", "paperroute/demo/seed-papers.jsonl"],
    ["createsuperuser", "--email", "ada@example.org"],
    ["digest", "send", "--dry-run"],
    ["index", "sync"],
]


def _env(data_dir, database_url: str = "") -> dict[str, str]:
    """A command's environment: none of this test run's settings, the given data directory and,
    if given, database."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PAPERROUTE_", "DJANGO_"))}
    env["PAPERROUTE_DATA_DIR"] = str(data_dir)
    if database_url:
        env["PAPERROUTE_DATABASE_URL"] = database_url
    return env


def _unreachable() -> str:
    """A PostgreSQL address where no server listens."""
    return f"postgres://postgres@127.0.0.1:{free_port()}/paperroute"


def _run(args: list[str], data_dir, database_url: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "paperroute", *args],
        cwd=ROOT,
        env={**_env(data_dir, database_url), "PAPERROUTE_EMBED_ON_INGEST": "false"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_new_data_directory_asks_for_migrate(args, tmp_path):
    """A fresh SQLite file has no tables: the command says to migrate, not "no such table"."""
    run = _run(args, tmp_path)
    assert run.returncode == 2, run.stderr
    assert run.stderr == "paperroute: the database is not set up: run `paperroute migrate`\n"


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_database_server_that_does_not_answer_is_one_line(args, tmp_path):
    run = _run(args, tmp_path, _unreachable())
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.splitlines()) == 1, run.stderr
    assert run.stderr.startswith("paperroute: cannot reach the database: "), run.stderr
    assert "PAPERROUTE_DATABASE_URL" in run.stderr


def test_an_empty_postgresql_database_asks_for_migrate(transactional_db, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the SQLite case is the fresh data directory above")
    name = f"pr_empty_{uuid.uuid4().hex[:10]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        run = _run(["stats"], tmp_path, database_url().rsplit("/", 1)[0] + "/" + name)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert run.returncode == 2, run.stderr
    assert run.stderr == "paperroute: the database is not set up: run `paperroute migrate`\n"


def test_a_database_an_upgrade_brought_migrations_for_asks_for_migrate(tmp_path):
    """The tables a newer version adds are missing until `paperroute migrate` runs."""
    assert _run(["migrate"], tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "paperroute.sqlite3") as db:  # as before search's 0002
        db.execute("DELETE FROM django_migrations WHERE app = 'search' AND name = '0002_themes'")
        db.execute("DROP TABLE search_themeset")
    run = _run(["themes", "--show", "2024-11-28"], tmp_path)
    assert run.returncode == 2, run.stderr
    assert run.stderr == (
        "paperroute: the database is not up to date with this version: run `paperroute migrate`\n"
    )


def test_status_on_a_database_without_tables_is_one_line(tmp_path):
    """It printed a check per table it could not read, each with PostgreSQL's or SQLite's error."""
    run = _run(["status"], tmp_path)
    assert run.returncode == 1, run.stderr  # what `status` says of a site that is not well
    assert run.stdout == ""
    assert run.stderr == "paperroute: the database is not set up: run `paperroute migrate`\n"
    as_json = json.loads(_run(["status", "--json"], tmp_path).stdout)
    assert as_json["ok"] is False
    assert as_json["checks"]["database"]["error"] == "the database is not set up: run `paperroute migrate`"


def test_status_fails_on_a_database_an_upgrade_has_not_migrated(tmp_path):
    """Every page failed on the missing tables while `status` said "ok" and exited 0."""
    assert _run(["migrate"], tmp_path).returncode == 0
    assert _run(["status"], tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "paperroute.sqlite3") as db:  # as before search's 0002
        db.execute("DELETE FROM django_migrations WHERE app = 'search' AND name = '0002_themes'")
        db.execute("DROP TABLE search_themeset")
    run = _run(["status"], tmp_path)
    assert run.returncode == 1, run.stdout
    assert run.stderr == (
        "paperroute: the database is not up to date with this version: run `paperroute migrate`\n"
    )


@pytest.mark.parametrize("unreachable", [False, True], ids=["no tables", "no server"])
def test_a_worker_without_its_database_says_so_in_one_line(unreachable, tmp_path):
    """Each step of each round logged its traceback: about 240 lines a minute of an outage."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "paperroute", "worker"],
        cwd=ROOT,
        env=_env(tmp_path, _unreachable() if unreachable else ""),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "worker started" in worker.stderr.readline()
        problem = worker.stderr.readline()  # the first round runs at once
    finally:
        worker.terminate()
        rest = worker.communicate(timeout=60)[1]
    assert " ERROR worker: " in problem, problem + rest
    if unreachable:
        assert "cannot reach the database" in problem and "PAPERROUTE_DATABASE_URL" in problem
    else:
        assert "the database is not set up: run `paperroute migrate`" in problem
    assert "Traceback" not in rest and rest.splitlines()[-1].endswith("worker stopped"), rest


@pytest.mark.parametrize("unreachable", [False, True], ids=["no tables", "no server"])
def test_serve_without_its_database_says_so_instead_of_serving_errors(unreachable, tmp_path):
    """It served every page as a 500 (the web unit migrates first; `serve` by hand did not)."""
    server = subprocess.Popen(
        [sys.executable, "-m", "paperroute", "serve", "--port", str(free_port()), "--workers", "1"],
        cwd=ROOT,
        env=_env(tmp_path, _unreachable() if unreachable else ""),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stderr = server.communicate(timeout=30)[1]
    finally:
        if server.poll() is None:
            server.terminate()
            server.communicate(timeout=60)
    assert server.returncode == 2, stderr
    if unreachable:
        assert stderr.startswith("paperroute: cannot reach the database: ") and len(stderr.splitlines()) == 1
    else:
        assert stderr == "paperroute: the database is not set up: run `paperroute migrate`\n"


def test_status_without_a_database_server_is_one_line_a_check(tmp_path):
    """The database line went on over a second line, in psycopg's words ("Is the server running
    on that host…"), unlike what every other command says."""
    run = _run(["status"], tmp_path, _unreachable())
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("FAILING") and [line.split()[0] for line in lines[1:]] == [
        "database",
        "worker",
    ]
    assert lines[1].startswith("database  FAIL  cannot reach the database: "), lines[1]
    assert lines[1].endswith("(check PAPERROUTE_DATABASE_URL, and that the database server runs)")
