#!/usr/bin/env python3
"""Ingest throughput: a synthetic 100,000-record OAI-PMH harvest through the whole pipeline.

The harvest is served page by page (1,000 records and a resumption token each, like arXiv)
from a local HTTP server and run through `paperroute.catalog.harvest` exactly as
`paperroute ingest arxiv-oai URL` does: fetch, parse, merge, store, checkpoint. The baseline,
measured in the same run on the same database, is a bare `executemany` INSERT of the same
papers (one row each, authors and categories as text) in one transaction, which is close to
the fastest any importer could write those rows.

Usage: bench/ingest.py [--records 100000] [--page-size 1000] [--db sqlite|postgres|both] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_SERVER = os.environ.get("PAPERROUTE_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")


def _baseline(records) -> float:
    """Seconds for a bare executemany INSERT of the same papers into a plain table."""
    from django.db import connection, transaction

    rows = [
        (
            r.arxiv_id,
            r.title,
            r.abstract,
            "; ".join(r.authors),
            " ".join(r.categories),
            r.published.isoformat() if r.published else None,
            r.comments,
            r.journal_ref,
            r.doi,
        )
        for r in records
    ]
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_plain")
        cursor.execute(
            "CREATE TABLE bench_plain (arxiv_id varchar(64) PRIMARY KEY, title text, "
            "abstract text, authors text, categories text, published varchar(40), "
            "comments text, journal_ref text, doi text)"
        )
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany("INSERT INTO bench_plain VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_plain")
    return elapsed


def run_one(records_total: int, page_size: int) -> dict:
    """Measure on the database this process is configured for (called in a subprocess)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperroute.settings")
    from paperroute import conf

    conf.prepare()  # the data directory, secret key and SQLite file
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.oai_synth import pages
    from paperroute.catalog.harvest import Request, run
    from paperroute.catalog.ingest import Importer
    from paperroute.catalog.models import Paper
    from paperroute.catalog.sources import arxiv_oai
    from paperroute.catalog.sources.fetch import PoliteClient
    from tests.replay import ReplayServer, Reply

    call_command("migrate", verbosity=0)
    harvest = pages(records_total, page_size, seed=1)

    def respond(path, params):
        token = params.get("resumptionToken")
        return Reply(harvest[int(token.split("|")[1]) // page_size] if token else harvest[0])

    parse_started = time.perf_counter()
    parsed = [item for page in harvest for item in arxiv_oai.parse(page).items]
    parse_seconds = time.perf_counter() - parse_started

    with ReplayServer(respond) as server:
        started = time.perf_counter()
        summary = run(
            Request(source="arxiv-oai", input=server.url + "/oai"),
            client=PoliteClient(delay=0, timeout=60),
            importer=Importer("arxiv-oai"),
            log=lambda message: None,
        )
        pipeline_seconds = time.perf_counter() - started
    assert summary.new == records_total and Paper.objects.count() == records_total, summary.line()

    with ReplayServer(respond) as server:
        started = time.perf_counter()
        again = run(
            Request(source="arxiv-oai", input=server.url + "/oai", restart=True),
            client=PoliteClient(delay=0, timeout=60),
            importer=Importer("arxiv-oai"),
            log=lambda message: None,
        )
        rerun_seconds = time.perf_counter() - started
    assert again.unchanged == records_total, again.line()

    baseline_seconds = _baseline(parsed)
    return {
        "database": connection.vendor,
        "records": records_total,
        "pipeline_papers_per_s": records_total / pipeline_seconds,
        "rerun_unchanged_papers_per_s": records_total / rerun_seconds,
        "parse_only_papers_per_s": records_total / parse_seconds,
        "baseline_executemany_rows_per_s": records_total / baseline_seconds,
        "pipeline_to_baseline_time_ratio": pipeline_seconds / baseline_seconds,
    }


def _postgres_available() -> bool:
    try:
        import psycopg

        psycopg.connect(f"{PG_SERVER}/postgres", connect_timeout=3).close()
        return True
    except Exception:
        return False


def measure(database: str, records: int, page_size: int) -> dict | None:
    """Run one measurement in a fresh process and a fresh database."""
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="paperroute-bench-") as data_dir:
        env["PAPERROUTE_DATA_DIR"] = data_dir
        name = f"paperroute_bench_{os.getpid()}"
        if database == "postgres":
            if not _postgres_available():
                print(f"PostgreSQL: skipped (no server at {PG_SERVER}; set PAPERROUTE_BENCH_POSTGRES)")
                return None
            import psycopg

            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {name}")
            env["PAPERROUTE_DATABASE_URL"] = f"{PG_SERVER}/{name}"
        else:
            env["PAPERROUTE_DATABASE_URL"] = ""
        try:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    "--records",
                    str(records),
                    "--page-size",
                    str(page_size),
                ],
                env=env,
                capture_output=True,
                text=True,
            )
            if out.returncode != 0:
                raise SystemExit(f"{database}: the measurement failed:\n{out.stderr[-3000:]}")
        finally:
            if database == "postgres":
                import psycopg

                with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
                    conn.execute(f"DROP DATABASE IF EXISTS {name}")
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.records, args.page_size)))
        return 0
    results = []
    for database in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        result = measure(database, args.records, args.page_size)
        if result:
            results.append(result)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"ingest benchmark: {args.records:,} synthetic arXiv OAI-PMH records, pages of {args.page_size:,}")
    print(
        f"{'database':<11}{'pipeline/s':>12}{'re-run/s':>11}{'parse/s':>10}"
        f"{'executemany/s':>15}{'time vs executemany':>21}"
    )
    for r in results:
        print(
            f"{r['database']:<11}{r['pipeline_papers_per_s']:>12,.0f}{r['rerun_unchanged_papers_per_s']:>11,.0f}"
            f"{r['parse_only_papers_per_s']:>10,.0f}{r['baseline_executemany_rows_per_s']:>15,.0f}"
            f"{r['pipeline_to_baseline_time_ratio']:>20.1f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
