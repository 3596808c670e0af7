#!/usr/bin/env python3
"""What the listings and the API's lists cost to make, as a signed-in reader gets them.

Anonymous visitors mostly get pages from the page cache; a signed-in reader never does, and
nobody does just after a vote changes the site. So each page here is made afresh, through the
whole Django stack (the page cache off), on a catalogue that bench/search_latency.py built
(--workdir of that run, migrated first). The pages: the home page (the latest day's community
picks in the site's categories), a day of all papers, its ISO week and month, the trending page,
a category and an archive (cs), the API's newest papers (first page and one deep in the list),
a blank API search (what `huggingface_hub`'s `list_papers()` asks for) and the API's daily
papers.

The baseline is the API's answer for one paper, an indexed lookup whose cost does not grow with
the catalogue; each page is timed in turn with it, round by round, and its ratio is its p50 over
the baseline's p50 of the same run.

Usage: bench/listing_pages.py --workdir DIR [--rounds 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pages() -> dict[str, str]:
    """The paths to time, from what the catalogue holds."""
    from django.db.models.functions import Coalesce

    from paperroute.catalog.models import Paper

    day = Paper.objects.exclude(listed_on=None).order_by("-listed_on").values_list("listed_on", flat=True)[0]
    year, week, _ = day.isocalendar()
    # A cursor a thousand papers into the newest-first list: where a client that reads the
    # catalogue page by page is after ten pages of 100.
    deep = Paper.objects.annotate(t=Coalesce("published", "created_at")).order_by("-t", "-pk")[1000]
    at = deep.published or deep.created_at
    micros = int(at.timestamp()) * 1_000_000 + at.microsecond
    return {
        "home": "/",
        "day, all papers": f"/papers/date/{day}?view=all",
        "week": f"/papers/week/{year}-W{week:02d}",
        "month": f"/papers/month/{day:%Y-%m}",
        "trending": "/trending",
        "category cs.LG": "/categories/cs.LG",
        "archive cs": "/categories/cs",
        "API newest, first 50": "/api/papers",
        "API newest, 1,000 in": f"/api/papers?limit=100&cursor={micros}-{deep.pk}",
        "API blank search": "/api/papers/search?q=&limit=20",
        "API daily papers": "/api/daily_papers",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", required=True, help="bench/search_latency.py's --workdir")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    catalogue = Path(args.workdir) / "catalogue"
    if not (catalogue / "paperroute.sqlite3").exists():
        print(
            f"listing_pages: no catalogue in {catalogue}; build one first with "
            f"bench/search_latency.py --papers N --workdir {args.workdir} --skip-embedding",
            file=sys.stderr,
        )
        return 77  # bench/run_all.py reports it skipped, saying what it lacks

    os.environ["PAPERROUTE_PAGE_CACHE_SECONDS"] = "0"  # every page made afresh
    from bench.search_latency import _django

    _django(catalogue)
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from paperroute.catalog.models import Paper

    call_command("migrate", verbosity=0)  # a catalogue built before the latest migrations
    client = Client(HTTP_HOST="127.0.0.1")
    paths = pages()
    baseline = f"/api/papers/{Paper.objects.order_by('pk').values_list('key', flat=True)[0]}"

    def timed(path: str) -> float:
        started = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"listing_pages: {path} answered {response.status_code}")
        return elapsed

    queries = {}
    for name, path in {"baseline": baseline, **paths}.items():  # warm: the pages into memory
        with CaptureQueriesContext(connection) as seen:
            timed(path)
        queries[name] = len(seen)
    times: dict[str, list[float]] = {name: [] for name in ["baseline", *paths]}
    loadavg = [os.getloadavg()[0]]
    for _ in range(args.rounds):
        for name, path in paths.items():
            times["baseline"].append(timed(baseline))
            times[name].append(timed(path))
    loadavg.append(os.getloadavg()[0])

    base = statistics.median(times["baseline"])
    rows = {
        name: {
            "path": baseline if name == "baseline" else paths[name],
            "p50_ms": round(statistics.median(values), 2),
            "max_ms": round(max(values), 2),
            "ratio": round(statistics.median(values) / base, 1),
            "queries": queries[name],
        }
        for name, values in times.items()
    }
    result = {
        "papers": Paper.objects.count(),
        "rounds": args.rounds,
        "loadavg": loadavg,
        "pages": rows,
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(
        f"listing_pages: {result['papers']:,} papers, {args.rounds} rounds, "
        f"load average {loadavg[0]:.1f} -> {loadavg[1]:.1f}"
    )
    print(f"{'page':24} {'p50 ms':>9} {'max ms':>9} {'x baseline':>11} {'queries':>8}")
    for name, row in rows.items():
        print(f"{name:24} {row['p50_ms']:9.2f} {row['max_ms']:9.2f} {row['ratio']:11.1f} {row['queries']:8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
