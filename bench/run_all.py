#!/usr/bin/env python3
"""Run every benchmark in bench/ (what `make bench` does), skipping those that cannot run here.

A benchmark is skipped, with the reason, when its script is not in bench/, when the data it
reads is missing (the BEIR collections are looked for in ../shared/data, or in
$PAPERROUTE_BENCH_DATA), or when it exits 2 or 77 (its way of saying a tool is missing).
The search latency benchmark runs at 100,000 papers; --full runs it at 1,000,000 as well
(about half an hour and 3 GB of memory on two cores).

Usage: bench/run_all.py [--full] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = Path(os.environ.get("PAPERROUTE_BENCH_DATA", ROOT.parent / "shared" / "data"))
SKIP_CODES = {2, 77}


def _script(stem: str) -> list[str] | None:
    for suffix, runner in ((".py", [sys.executable]), (".sh", ["bash"])):
        path = BENCH / f"{stem}{suffix}"
        if path.exists():
            return [*runner, str(path)]
    return None


def plan(full: bool, workdir: Path) -> list[tuple[str, str, list[str], Path | None]]:
    """(name, script stem, arguments, data folder it needs or None). The 100k latency run keeps
    its catalogue and index in `workdir` for the benchmarks that read one."""
    jobs = [("ingest", "ingest", [], None)]
    for collection in ("scifact", "cisi", "adi"):
        jobs.append(
            (
                f"search quality: {collection}",
                "search_quality",
                ["--data", str(DATA / collection)],
                DATA / collection,
            )
        )
    latency = ["--papers", "100000", "--workdir", str(workdir)]
    jobs.append(("search latency: 100k papers", "search_latency", latency, None))
    jobs.append(("for you topics: 100k papers", "foryou_topics", ["--workdir", str(workdir)], None))
    jobs.append(("listing pages: 100k papers", "listing_pages", ["--workdir", str(workdir)], None))
    if full:
        jobs.append(
            ("search latency: 1M papers", "search_latency", ["--papers", "1000000", "--skip-embedding"], None)
        )
    jobs.append(("query service", "query_service", [], None))
    jobs.append(("web load", "web_load", [], None))
    jobs.append(("themes", "themes", [], None))
    jobs.append(("digest", "digest", [], None))
    return jobs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="also the 1M-paper latency run")
    parser.add_argument(
        "--only", action="append", default=[], help="run only benchmarks whose name contains this"
    )
    args = parser.parse_args()

    outcomes = []
    workdir = tempfile.TemporaryDirectory(prefix="paperroute-bench-")
    for name, stem, extra, data in plan(args.full, Path(workdir.name)):
        if args.only and not any(part in name for part in args.only):
            continue
        command = _script(stem)
        if command is None:
            outcomes.append((name, f"skipped: bench/{stem}.py or .sh is not there"))
            continue
        if data is not None and not (data / "corpus.jsonl").exists():
            outcomes.append((name, f"skipped: no BEIR collection at {data} (set PAPERROUTE_BENCH_DATA)"))
            continue
        print(
            f"\n=== {name}: {' '.join(Path(c).name if i else c for i, c in enumerate(command))} "
            f"{' '.join(extra)} ===",
            flush=True,
        )
        started = time.monotonic()
        code = subprocess.call([*command, *extra], cwd=ROOT)
        took = f"{time.monotonic() - started:.0f} s"
        if code == 0:
            outcomes.append((name, f"done ({took})"))
        elif code in SKIP_CODES:
            outcomes.append((name, f"skipped: it said what it lacks (exit {code})"))
        else:
            outcomes.append((name, f"FAILED (exit {code}, {took})"))

    workdir.cleanup()
    print("\n=== benchmarks ===")
    for name, outcome in outcomes:
        print(f"{name:<30} {outcome}")
    return 1 if any(outcome.startswith("FAILED") for _, outcome in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
