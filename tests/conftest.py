"""Shared fixtures: recorded responses, the `paperroute` command against the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DB_FIXTURES = {"db", "transactional_db", "django_db_setup", "live_server", "cli", "cli_env"}


def fixture_bytes(relative: str) -> bytes:
    """A recorded response from tests/fixtures, gunzipped when stored compressed."""
    from paperroute.catalog.sources.fetch import gunzip

    return gunzip((FIXTURES / relative).read_bytes())


def pytest_collection_modifyitems(config, items):
    # The PostgreSQL pass of `make test` runs only the tests that touch the database.
    if not os.environ.get("PAPERROUTE_TEST_DB_ONLY"):
        return
    keep, drop = [], []
    for item in items:
        uses_db = item.get_closest_marker("django_db") or DB_FIXTURES & set(getattr(item, "fixturenames", ()))
        # The markup checks read pages whose data any engine stores alike; what PostgreSQL
        # could break in them (a query, a 500) the web tests and the no-500 sweep cover there.
        markup = item.get_closest_marker("markup")
        (keep if uses_db and not markup else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def database_url() -> str:
    """A PAPERROUTE_DATABASE_URL for the database the tests are using right now."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def cli_env(transactional_db, tmp_path) -> dict[str, str]:
    """Environment for a `paperroute` subprocess that uses the test database."""
    return subprocess_env(tmp_path / "data")


def subprocess_env(data_dir: Path) -> dict[str, str]:
    """Environment for a `paperroute` subprocess that uses the test database and `data_dir`."""
    env = dict(os.environ)
    # The subprocess is the real `paperroute` command with its own settings module, and none of
    # the test process's own allowances (the browser suite's DJANGO_ALLOW_ASYNC_UNSAFE).
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(
        PAPERROUTE_DATABASE_URL=database_url(),
        PAPERROUTE_DATA_DIR=str(data_dir),
        PAPERROUTE_ARXIV_DELAY="0",
        PYTHONUNBUFFERED="1",
        # libpq's application_name for this test's subprocesses, so that stop_server can wait
        # for their sessions alone.
        PGAPPNAME=f"paperroute-test-{uuid.uuid4().hex[:12]}",
        # Ingest then indexes keywords only; tests/search turn embedding on where they
        # test it (embedding thousands of synthetic papers would take minutes).
        PAPERROUTE_EMBED_ON_INGEST="false",
    )
    return env


@pytest.fixture
def cli(cli_env):
    """Run `paperroute ARGS…` in a subprocess against the test database."""

    def run(
        *args: str, input: bytes | None = None, timeout: float = 120, env: dict | None = None
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "paperroute", *args],
            cwd=ROOT,
            input=input,
            env={**cli_env, **(env or {})},
            capture_output=True,
            timeout=timeout,
        )

    return run


@contextmanager
def module_database(django_db_blocker) -> Iterator[None]:
    """The test database, committed to, for a module's fixture that starts a server over it, and
    emptied after the module as pytest-django's transactional_db empties it after a test.

    pytest-django creates the test database only when a collected test asks for it by name (db,
    transactional_db, the django_db mark), so a module whose tests use only such a fixture and
    is run alone creates it here."""
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        made = None
        if connection.settings_dict["NAME"] != connection.settings_dict["TEST"]["NAME"]:
            made = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        try:
            yield
        finally:
            call_command("flush", interactive=False, verbosity=0)
            if made is not None:
                teardown_databases(made, verbosity=0)


def wipe_catalogue() -> None:
    """Empty every catalogue table, as on a fresh database."""
    from django.db import connection

    from paperroute.catalog.models import Author, Category, HarvestCheckpoint, Paper

    Paper.objects.all().delete()
    # Authors are protected while papers name them; with the papers gone a plain DELETE is
    # safe and avoids the ORM's per-row protection query, which SQLite cannot hold for
    # thousands of rows.
    with connection.cursor() as cursor:
        for model in (Author, Category, HarvestCheckpoint):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")


def start_server(*args: str, env: dict[str, str], port: int, timeout: float = 60) -> subprocess.Popen:
    """Start `paperroute ARGS…` and wait until it takes connections on `port`; stop_server ends it."""
    import socket
    import time

    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT}
    server = subprocess.Popen([sys.executable, "-m", "paperroute", *args], cwd=ROOT, env=env, **quiet)
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                stop_server(server)
                raise AssertionError("server did not start") from None
            time.sleep(0.3)


def stop_server(process: subprocess.Popen, timeout: float = 15, *, group: bool = False) -> None:
    """Stop a `paperroute serve` subprocess and wait until its database sessions are gone.

    PostgreSQL ends a backend a moment after its client process exits; without the wait, the
    test database can still be "accessed by other users" when pytest-django drops it. With
    `group` (a process started in a session of its own), SIGTERM goes to every process of it at
    once, as systemd stops a unit.
    """
    name = _application_name(process.pid)  # read while the process is still there
    if group and process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    else:
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    sessions_ended(name, timeout)


def sessions_ended(name: str, timeout: float = 15) -> None:
    """On PostgreSQL, wait until the database sessions of the subprocesses started with this
    PGAPPNAME (cli_env's) are gone: a backend ends a moment after its client process exits,
    and a commit the client sent just before it was killed lands in that moment."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    import time

    # Only these processes' sessions (cli_env names them per test): counting every other session
    # on the database waited the whole timeout, 15 s a test, whenever anything else was connected.
    mine = "AND application_name = %s" if name else ""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                f"AND pid <> pg_backend_pid() AND backend_type = 'client backend' {mine}",
                [name] if name else [],
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.1)


def _application_name(pid: int) -> str:
    """The PGAPPNAME a subprocess was started with (Linux), or "" if it cannot be read."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return ""
    found = [entry[len(b"PGAPPNAME=") :] for entry in environ if entry.startswith(b"PGAPPNAME=")]
    return found[0].decode() if found else ""
