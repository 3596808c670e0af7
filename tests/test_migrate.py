"""`paperroute migrate` as every host's web unit runs it before it starts (deploy/)."""

import subprocess
import sys
import uuid

import pytest
from django.db import connection

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def _migrate(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "paperroute", "migrate"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_hosts_migrating_a_new_database_at_once_all_succeed(cli_env):
    """Two migrations of an empty PostgreSQL database at once: one failed every time, with an
    IntegrityError traceback. A database that cannot be reached is one line, and exit status 2."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite is one host's file: nothing else migrates it")
    name = f"pr_migrate_{uuid.uuid4().hex[:10]}"
    base = cli_env["PAPERROUTE_DATABASE_URL"].rsplit("/", 1)[0]
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {**cli_env, "PAPERROUTE_DATABASE_URL": f"{base}/{name}"}
        runs = [_migrate(env) for _ in range(2)]
        for run in runs:
            _, stderr = run.communicate(timeout=600)
            assert run.returncode == 0, stderr
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    missing = _migrate({**cli_env, "PAPERROUTE_DATABASE_URL": f"{base}/{name}_absent"})
    _, stderr = missing.communicate(timeout=120)
    assert missing.returncode == 2 and "Traceback" not in stderr, stderr
    assert stderr.startswith("paperroute: cannot migrate the database: ") and "does not exist" in stderr, (
        stderr
    )
