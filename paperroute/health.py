"""Is the site well? The checks behind /healthz and `paperroute status`, and what they read.

Every check is cheap enough for a load balancer that asks every few seconds: one `SELECT 1`,
indexed lookups with a cap on what is counted, and small files in the data directory. The
worker's heartbeat and the last ingest of each source are files there (DATA_DIR/status/), so
each host reports on the worker and the ingests it runs itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

COUNT_CAP = 10_000  # lag and backlog are counted up to this; beyond it "more than" says enough
BEAT_SECONDS = 30
WORKER_STALE = timedelta(minutes=3)  # six missed beats: the process is gone or frozen
# The worker syncs the index at least every 10 minutes (paperroute.worker.SYNC_MINUTES); an
# embedding sync of a large ingest may take a while longer.
INDEX_STALE = timedelta(minutes=30)
OUTBOX_STALE = timedelta(hours=1)  # a message due this long ago: nobody is sending
OPEN_RUNS_CAP = 20


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def status_dir() -> Path:
    from django.conf import settings

    return Path(settings.DATA_DIR) / "status"


def _write_json(path: Path, data: dict) -> None:
    """Replace the file at once, so that a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


# -- what the worker writes ------------------------------------------------------------------


class Heartbeat:
    """The worker's heartbeat file: beats while the process lives, says when a tick is running."""

    def __init__(self, directory: Path | None = None) -> None:
        self.path = (directory or status_dir()) / f"worker-{socket.gethostname()}.json"
        self.lock = threading.Lock()
        self.state = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": _iso(_now()),
            "beat": None,
            "tick_started": None,
            "tick_finished": None,
        }

    def beat(self) -> None:
        with self.lock:
            self.state["beat"] = _iso(_now())
            # A full disk must not stop the worker; /healthz will say the beat is stale.
            with contextlib.suppress(OSError):
                _write_json(self.path, self.state)

    def tick_started(self) -> None:
        with self.lock:
            self.state["tick_started"] = _iso(_now())
        self.beat()

    def tick_finished(self) -> None:
        with self.lock:
            self.state["tick_finished"] = _iso(_now())
        self.beat()

    def run(self, stop: threading.Event) -> None:
        """Beat every BEAT_SECONDS until `stop` is set."""
        while True:
            self.beat()
            if stop.wait(BEAT_SECONDS):
                return

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def record_ingest(source: str, *, ok: bool, line: str, worker: bool = False) -> None:
    """Remember this host's latest ingest of a source, and its latest successful one (and the
    worker's own, apart: where its next harvest starts, which a hand-run ingest must not move)."""
    path = status_dir() / f"ingest-{source}.json"
    record = _read_json(path) or {}
    now = _iso(_now())
    record.update(source=source, attempt=now, ok=ok, line=line)
    if ok:
        record["success"] = now
        if worker:
            record["worker_success"] = now
    with contextlib.suppress(OSError):  # a status file is not worth failing an ingest for
        _write_json(path, record)


def last_success(source: str, *, worker: bool = False) -> datetime | None:
    """When this host's latest successful ingest of a source ended (record_ingest), or the
    worker's latest, with `worker`."""
    record = _read_json(status_dir() / f"ingest-{source}.json") or {}
    key = "worker_success" if worker else "success"
    try:
        return datetime.fromisoformat(record[key]) if record.get(key) else None
    except (TypeError, ValueError):
        return None


# -- the checks ------------------------------------------------------------------------------


def check_database() -> dict:
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        # Pages fail on tables an upgrade has not migrated yet, or on none at all.
        problem = schema_problem()
    except DatabaseError as exc:
        # Said as the commands say it, on one line: `status` prints one line a check.
        return {"ok": False, "error": _unreachable(exc)}
    except Exception as exc:
        return {"ok": False, "error": f"{exc.__class__.__name__}: {str(exc).strip()[:200]}"}
    if problem:
        return {"ok": False, "vendor": connection.vendor, "migrated": False, "error": problem}
    return {"ok": True, "vendor": connection.vendor, "migrated": True}


def database_problem() -> str | None:
    """Why commands cannot use the database, as a line that says what to do; None if they can."""
    from django.db import DatabaseError, connection

    connection.close()  # a failed statement may have left it unusable (PostgreSQL aborts it)
    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        return _unreachable(exc)
    return _migration_problem(connection)


def _unreachable(exc: Exception) -> str:
    return (
        f"cannot reach the database: {(str(exc).strip().splitlines() or [''])[0]} (check "
        "PAPERROUTE_DATABASE_URL, and that the database server runs)"
    )


def _migration_problem(connection) -> str | None:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if not executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return None
    if not executor.loader.applied_migrations:
        return "the database is not set up: run `paperroute migrate`"
    return "the database is not up to date with this version: run `paperroute migrate`"


_shipped_migrations: frozenset[tuple[str, str]] | None = None


def schema_problem() -> str | None:
    """Why the tables are not this version's (never migrated, or migrated by an older version),
    as database_problem says it; None if they are. Cheap enough for /healthz: one query of the
    applied migrations, compared with those this version ships, read from disk once."""
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    global _shipped_migrations
    if _shipped_migrations is None:
        _shipped_migrations = frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)
    # Migrations a newer version applied are fine: the hosts not yet upgraded keep serving.
    if _shipped_migrations <= MigrationRecorder(connection).applied_migrations().keys():
        return None
    return _migration_problem(connection)  # exact, should a squashed migration stand for others


def database_unusable() -> str | None:
    """database_problem, for a process that asks every minute: one query while all is well."""
    from django.db import DatabaseError

    try:
        return schema_problem()
    except DatabaseError:  # unreachable, or a connection the server dropped: connect again
        return database_problem()


def _capped(queryset) -> int:
    return queryset.values("pk")[: COUNT_CAP + 1].count()


def check_index(now: datetime) -> dict:
    """Papers changed since the index's watermark, and since when the oldest of them waits."""
    from django.conf import settings

    from paperroute.catalog.models import Paper
    from paperroute.search.index import SCHEMA, current_generation, read_manifest, root_dir

    generation = current_generation(root_dir(Path(settings.DATA_DIR)))
    mark, older = None, False
    if generation is not None:
        try:
            manifest = read_manifest(generation)
        except (OSError, ValueError):
            generation = None
        else:
            mark = manifest.get("paper_mark")
            # Served while the worker rebuilds it after an upgrade: well, but said, so that an
            # operator sees when the rebuild is done.
            older = manifest.get("schema") != SCHEMA
    if generation is None:
        empty = not Paper.objects.exists()
        return {
            "ok": empty,
            "built": False,
            "lag": 0 if empty else None,
            **({} if empty else {"error": "there is no search index; run `paperroute index sync`"}),
        }
    from paperroute.search.service import SearchError, open_index

    try:
        open_index()  # this process's view of it, as its searches have it
    except SearchError as exc:  # one this version cannot read: searches find nothing
        return {"ok": False, "built": True, "lag": None, "error": str(exc)}
    behind = Paper.objects.all()
    if mark:
        behind = behind.filter(changed_at__gt=datetime.fromisoformat(mark))
    lag = _capped(behind)
    oldest = behind.order_by("changed_at").values_list("changed_at", flat=True).first()
    result = {
        "ok": oldest is None or now - oldest < INDEX_STALE,
        "built": True,
        "lag": lag,
        "lag_capped": lag > COUNT_CAP,
        "synced_to": mark,
        "behind_since": _iso(oldest),
        "older_version": older,
    }
    if not result["ok"]:
        result["error"] = (
            f"{'more than ' if lag > COUNT_CAP else ''}{min(lag, COUNT_CAP)} "
            f"paper(s) changed since {_iso(oldest)} are not in the search index"
        )
    return result


def check_worker(now: datetime, directory: Path | None = None) -> dict:
    path = (directory or status_dir()) / f"worker-{socket.gethostname()}.json"
    beat = _read_json(path)
    if beat is None:
        # `serve --no-worker`, or a worker that stopped on purpose: not a failure in itself.
        return {"ok": True, "running": False}
    last = datetime.fromisoformat(beat["beat"]) if beat.get("beat") else None
    age = (now - last).total_seconds() if last else None
    busy = beat.get("tick_started") and (beat.get("tick_finished") or "") < beat["tick_started"]
    result = {
        "ok": last is not None and now - last < WORKER_STALE,
        "running": True,
        "pid": beat.get("pid"),
        "started": beat.get("started"),
        "beat": beat.get("beat"),
        "beat_age_seconds": round(age) if age is not None else None,
        "busy_since": beat["tick_started"] if busy else None,
        "last_round": beat.get("tick_finished"),
    }
    if not result["ok"]:
        result["error"] = f"no heartbeat from worker {beat.get('pid')} since {beat.get('beat')}"
    return result


def check_outbox(now: datetime) -> dict:
    """Messages of open digest runs still to send, and whether any is overdue."""
    from paperroute.digest.models import DigestRun, Outbox

    runs = list(DigestRun.objects.exclude(status=DigestRun.COMPLETE).order_by("period_start")[:OPEN_RUNS_CAP])
    backlog, overdue, details = 0, 0, []
    waiting = (Outbox.PENDING, Outbox.SENDING)
    for run in runs:
        count = _capped(Outbox.objects.filter(run=run, status__in=waiting))
        # The worker takes due messages every minute: one due an hour ago means nobody sends.
        late = _capped(
            Outbox.objects.filter(run=run, status=Outbox.PENDING, next_attempt_at__lt=now - OUTBOX_STALE)
        )
        backlog += count
        overdue += late
        details.append({"run": run.key, "status": run.status, "waiting": count, "overdue": late})
    result = {"ok": overdue == 0, "backlog": backlog, "overdue": overdue, "open_runs": details}
    if overdue:
        result["error"] = f"{overdue} digest message(s) were due more than an hour ago"
    return result


def check_ingest(now: datetime, directory: Path | None = None) -> dict:
    """This host's latest ingest per source; a source the worker ingests must not fall behind."""
    from django.conf import settings
    from django.db.models import Max

    from paperroute.catalog.models import Paper

    directory = directory or status_dir()
    config = settings.CONFIG
    scheduled = list(config.worker_ingest)
    allowed = timedelta(minutes=3 * config.worker_ingest_minutes + 10)
    sources: dict[str, dict] = {}
    for path in sorted(directory.glob("ingest-*.json")):
        record = _read_json(path)
        if record and record.get("source"):
            sources[record["source"]] = record
    failing = []
    for source in scheduled:
        record = sources.setdefault(source, {"source": source})
        record["scheduled"] = True
        success = record.get("success")
        # Not attempted yet is fine: the worker ingests as soon as it starts.
        record["ok"] = (
            now - datetime.fromisoformat(success) < allowed if success else not record.get("attempt")
        )
        if not record["ok"]:
            failing.append(source)
    changed = Paper.objects.aggregate(newest=Max("changed_at"))["newest"]  # indexed
    result = {"ok": not failing, "catalogue_changed": _iso(changed), "sources": sources}
    if failing:
        result["error"] = f"no successful ingest of {', '.join(failing)} within {allowed}"
    return result


def report(now: datetime | None = None) -> dict:
    """Every check, and whether all of them pass."""
    now = now or _now()
    checks: dict[str, dict] = {"database": check_database()}
    if checks["database"]["ok"]:
        for name, check in (
            ("index", check_index),
            ("worker", check_worker),
            ("outbox", check_outbox),
            ("ingest", check_ingest),
        ):
            try:
                checks[name] = check(now)
            except Exception as exc:
                checks[name] = {"ok": False, "error": f"{exc.__class__.__name__}: {exc}"}
    else:
        checks["worker"] = check_worker(now)
    return {
        "ok": all(c["ok"] for c in checks.values()),
        "time": _iso(now),
        "host": socket.gethostname(),
        "checks": checks,
    }


def lines(result: dict) -> list[str]:
    """The report for a person: one line a check."""
    out = [f"{'ok' if result['ok'] else 'FAILING'}  ({result['host']}, {result['time']})"]
    for name, check in result["checks"].items():
        out.append(f"{name:<9} {'ok' if check['ok'] else 'FAIL':<5} {_summary(name, check)}")
    return out


def _ingest_line(source: str, record: dict) -> str:
    """A source's latest success; and, when its latest run failed, when and what it said."""
    success = record.get("success")
    if record.get("attempt") and record["attempt"] != success:  # the latest run did not succeed
        said = f" ({record['line']})" if record.get("line") else ""
        last = f"last success {success}" if success else "never succeeded"
        return f"{source}: the run at {record['attempt']} failed{said}; {last}"
    if success:
        return f"{source}: {success}"
    return f"{source}: not run yet"


def _summary(name: str, check: dict) -> str:
    if check.get("error"):
        return check["error"]
    if name == "database":
        return check["vendor"]
    if name == "index":
        if not check["built"]:
            return "no index yet (no papers either)"
        lag = f"{'more than ' if check['lag_capped'] else ''}{min(check['lag'], COUNT_CAP)}"
        synced = f"synced to {check['synced_to']}" if check["synced_to"] else "no papers indexed yet"
        older = "; made by an older version: the worker rebuilds it" if check.get("older_version") else ""
        return f"{lag} paper(s) waiting for the index; {synced}{older}"
    if name == "worker":
        if not check["running"]:
            return "no worker runs on this host"
        busy = f", busy since {check['busy_since']}" if check["busy_since"] else ""
        return f"pid {check['pid']}, last heartbeat {check['beat_age_seconds']} s ago{busy}"
    if name == "outbox":
        return f"{check['backlog']} message(s) waiting in {len(check['open_runs'])} open run(s)"
    parts = [_ingest_line(source, record) for source, record in check["sources"].items()]
    return (
        "; ".join(parts or ["no ingest recorded on this host"])
        + f"; catalogue changed {check['catalogue_changed'] or 'never'}"
    )
