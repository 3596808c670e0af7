"""Run the whole suite on SQLite, and at the same time on PostgreSQL when one is reachable.

PAPERROUTE_TEST_DATABASE_URL names the PostgreSQL server (default: one on 127.0.0.1:5432).
PAPERROUTE_REQUIRE_POSTGRES=1 turns "PostgreSQL skipped" into a failure, as CI wants.
PAPERROUTE_TEST_SERIAL=1 runs the PostgreSQL pass after the SQLite one instead.
Extra arguments go to pytest.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CANDIDATES = (
    "postgres://postgres@127.0.0.1:5432/test",
    f"postgres://{os.environ.get('USER', 'postgres')}@127.0.0.1:5432/postgres",
)


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes"}


def find_postgres() -> tuple[str | None, str]:
    """A PostgreSQL URL that accepts connections, or None and why not."""
    explicit = os.environ.get("PAPERROUTE_TEST_DATABASE_URL", "")
    candidates = (explicit,) if explicit else CANDIDATES
    if not explicit:
        try:
            socket.create_connection(("127.0.0.1", 5432), timeout=2).close()
        except OSError:
            return None, "no server on 127.0.0.1:5432 and PAPERROUTE_TEST_DATABASE_URL is unset"
    import psycopg

    problems = []
    for url in candidates:
        try:
            psycopg.connect(url, connect_timeout=5).close()
            return url, ""
        except psycopg.Error as exc:
            problems.append(f"{url}: {str(exc).strip().splitlines()[0]}")
    return None, "; ".join(problems)


def drop_stale_test_databases(url: str) -> None:
    """Drop test databases left by runs that were killed before pytest-django could drop them.

    Each run names its test database test_<name>_<pid> (paperroute/settings.py); one whose
    process is gone is garbage.
    """
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"test\\_{name}\\_%",)
        ).fetchall()
        for (database,) in rows:
            pid = database.rsplit("_", 1)[1]
            if pid.isdigit() and not _alive(int(pid)):
                # Its run is dead; a server or worker it left behind may still hold a session.
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_pytest(label: str, env_extra: dict[str, str], args: list[str], output=None) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(env_extra)
    print(f"\n=== {label} ===", flush=True)
    return subprocess.Popen(
        # The slowest tests are named at the end of each pass, to keep the suite within its budget.
        [sys.executable, "-m", "pytest", "--durations=25", *args],
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=output,
    )


def follow(process: subprocess.Popen, log: Path) -> int:
    """Copy a pass's output to ours, what it wrote so far and then as it writes, until it ends."""
    with open(log, "rb") as source:
        while True:
            ended = process.poll() is not None
            chunk = source.read()
            if chunk:
                sys.stdout.buffer.write(chunk)
                sys.stdout.flush()
            if ended and not chunk:
                return process.returncode
            if not chunk:
                time.sleep(0.5)


def main() -> int:
    args = sys.argv[1:]
    results: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="paperroute-test-") as data_dir:
        url, why = find_postgres()
        postgres = None
        if url:
            drop_stale_test_databases(url)
            pg_env = {
                "PAPERROUTE_DATA_DIR": str(Path(data_dir) / "postgres"),
                "PAPERROUTE_DATABASE_URL": url,
                "PAPERROUTE_TEST_DB_ONLY": "1",
            }
            # The two passes run at once unless asked not to: a pass keeps one of two cores
            # busy on average, waiting the rest of the time on servers, browsers and
            # subprocesses starting. PostgreSQL's output is shown when SQLite's has ended.
            if not _truthy("PAPERROUTE_TEST_SERIAL"):
                pg_log = Path(data_dir) / "postgres.log"
                with open(pg_log, "wb") as output:
                    postgres = start_pytest(f"PostgreSQL ({url}), started", pg_env, args, output)
        sqlite_env = {"PAPERROUTE_DATA_DIR": str(Path(data_dir) / "sqlite"), "PAPERROUTE_DATABASE_URL": ""}
        try:
            code = start_pytest("SQLite", sqlite_env, args).wait()
        except BaseException:  # Ctrl-C: the other pass goes too
            if postgres is not None:
                postgres.terminate()
                postgres.wait()
            raise
        results.append(("SQLite", "passed" if code == 0 else f"FAILED (exit {code})"))

        if url:
            if postgres is not None:
                print(f"\n=== PostgreSQL ({url}) ===", flush=True)
                pg_code = follow(postgres, pg_log)
            else:
                pg_code = start_pytest(f"PostgreSQL ({url})", pg_env, args).wait()
            results.append(("PostgreSQL", "passed" if pg_code == 0 else f"FAILED (exit {pg_code})"))
        elif _truthy("PAPERROUTE_REQUIRE_POSTGRES"):
            results.append(("PostgreSQL", f"FAILED: required but unreachable ({why})"))
        else:
            results.append(("PostgreSQL", f"skipped ({why})"))

    print("\n=== databases ===")
    for name, outcome in results:
        print(f"{name:<11} {outcome}")
    return 0 if all(outcome.startswith(("passed", "skipped")) for _, outcome in results) else 1


if __name__ == "__main__":
    sys.exit(main())
