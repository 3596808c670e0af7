#!/usr/bin/env python3
"""The host's query service alone under concurrent clients: the least time any search waits for
its query's vector.

A hybrid search over HTTP cannot answer before the query service has embedded its query. This
starts the real service as `paperroute serve` does (paperroute.server.QueryService), and sends it
the texts of bench/synth_papers.py's query mix (as a web process sends them: filters taken out)
from 1, 2, 4 and 8 concurrent client processes in turn, each asking again as soon as it has its
answer, for --seconds each. Reported for each number of clients: p50 and p99 of the answers,
queries a second, the service's CPU a query (from /proc/PID/stat) and the share of the host's
cores it used; each as a ratio to 1 client in the same run. The clients go round the same
texts, so the service keeps no vectors of texts it met (PAPERROUTE_QUERY_CACHE=0): every answer
is a run of the model, as for a query the host has not met.

`--threads 0,1` measures the service with each PAPERROUTE_EMBED_THREADS in turn, and `--runs 1,2`
with each PAPERROUTE_QUERY_RUNS (the runs of the model it makes at once); 0, the default of both,
lets the service choose for the host's cores.

Usage: bench/query_service.py [--clients 1,2,4,8] [--seconds 10] [--threads 0] [--runs 0] [--json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.serve_memory import _cpu_seconds  # noqa: E402

WARM_SECONDS = 3.0


def _texts(count: int) -> list[str]:
    from bench.synth_papers import make_catalogue, queries
    from paperroute.search.query import parse

    return [parse(text).text for text in queries(make_catalogue(), count, seed=9)]


def _no_local():
    # Not SystemExit: a pool's worker that exits leaves its task unanswered, and map() waiting.
    raise RuntimeError("query_service: the service did not answer, and a client would have embedded itself")


def _client(job: tuple[str, bytes, list[str], int, float]) -> tuple[list[float], float]:
    """One client process: ask, and ask again, until `until` (time.monotonic, the same clock in
    every process); its answer times in ms and the CPU it used itself."""
    from paperroute.search.queryserver import QueryClient

    address, key, texts, first, until = job
    client = QueryClient(address, key, _no_local)
    times, index = [], first
    cpu = time.process_time()
    while time.monotonic() < until:
        started = time.perf_counter()
        client.embed_queries([texts[index % len(texts)]])
        times.append((time.perf_counter() - started) * 1000)
        index += 1  # each client starts at its own place in the mix
    return times, time.process_time() - cpu


def _round(pool, service_pid: int, address: str, key: bytes, texts: list[str], clients: int, seconds: float):
    until = time.monotonic() + 0.5 + seconds
    jobs = [(address, key, texts, number * len(texts) // clients, until) for number in range(clients)]
    before = _cpu_seconds(service_pid)
    started = time.monotonic()
    answers = pool.map(_client, jobs)
    wall = time.monotonic() - started
    service_cpu = _cpu_seconds(service_pid) - before
    times = [t for client_times, _ in answers for t in client_times]
    return {
        "clients": clients,
        "queries": len(times),
        "p50_ms": round(float(np.percentile(times, 50)), 2),
        "p99_ms": round(float(np.percentile(times, 99)), 2),
        "throughput_qps": round(len(times) / wall, 1),
        "service_cpu_ms": round(service_cpu * 1000 / len(times), 2),
        "clients_cpu_ms": round(sum(cpu for _, cpu in answers) * 1000 / len(times), 2),
        "busy": round(service_cpu / wall / (os.cpu_count() or 1), 2),
    }


def measure(threads: int, runs: int, clients: list[int], seconds: float, texts: list[str]) -> list[dict]:
    """Start the service with PAPERROUTE_EMBED_THREADS=threads and PAPERROUTE_QUERY_RUNS=runs, and
    time each number of clients."""
    from paperroute.search import queryserver
    from paperroute.server import QueryService

    os.environ["PAPERROUTE_EMBED_THREADS"] = str(threads)
    os.environ["PAPERROUTE_QUERY_RUNS"] = str(runs)
    # The clients go round the same texts: each must run the model, as a new query does.
    os.environ["PAPERROUTE_QUERY_CACHE"] = "0"
    private = tempfile.mkdtemp(prefix="pr-query-service-")
    service = QueryService(os.path.join(private, "query-service.sock"))
    service.start()
    try:
        service.wait_ready()
        if service.process is None or not os.path.exists(service.address):
            raise SystemExit("query_service: the query service did not start")
        key = bytes.fromhex(os.environ[queryserver.KEY_ENV])
        pid = service.process.pid
        with multiprocessing.get_context("fork").Pool(max(clients)) as pool:
            _round(pool, pid, service.address, key, texts, max(clients), WARM_SECONDS)
            rounds = [_round(pool, pid, service.address, key, texts, n, seconds) for n in clients]
            return [{"threads": threads, "runs": runs, **r} for r in rounds]
    finally:
        service.stop()


def report(results: dict) -> str:
    lines = [
        f"The query service alone (`paperroute serve`'s), {results['seconds']:g} s for each number "
        f"of closed-loop client processes, synthetic query texts ({results['pieces']:.1f} word pieces "
        f"on average); {os.cpu_count()} cores. Ratios are to 1 client with the same threads and runs.",
        "",
        "| model threads | runs at once | clients | p50 | p99 | queries/s | service CPU a query "
        "| of the cores | p50 vs. 1 client | queries/s vs. 1 client |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    layouts = dict.fromkeys((r["threads"], r.get("runs", 1)) for r in results["runs"])
    for threads, together in layouts:
        runs = [r for r in results["runs"] if (r["threads"], r.get("runs", 1)) == (threads, together)]
        one = next((r for r in runs if r["clients"] == 1), runs[0])
        for r in runs:
            lines.append(
                f"| {threads or 'auto'} | {together or 'auto'} | {r['clients']} | {r['p50_ms']} ms | "
                f"{r['p99_ms']} ms | "
                f"{r['throughput_qps']} | {r['service_cpu_ms']} ms | {r['busy']:.0%} | "
                f"{r['p50_ms'] / one['p50_ms']:.2f}× | {r['throughput_qps'] / one['throughput_qps']:.2f}× |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="1,2,4,8", help="comma-separated numbers of clients")
    parser.add_argument("--seconds", type=float, default=10.0, help="timed seconds for each number")
    parser.add_argument("--threads", default="0", help="comma-separated PAPERROUTE_EMBED_THREADS values")
    parser.add_argument("--runs", default="0", help="comma-separated PAPERROUTE_QUERY_RUNS values")
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    clients = sorted({1, *(int(c) for c in args.clients.split(","))})
    settings = [int(t) for t in args.threads.split(",")]

    workdir = tempfile.mkdtemp(prefix="pr-query-service-data-")
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    os.environ.update(PAPERROUTE_DATA_DIR=workdir, PAPERROUTE_DATABASE_URL="")
    texts = _texts(args.queries)
    from paperroute.search.embedder import Embedder

    tokenizer = Embedder(threads=1).tokenizer  # [CLS] and [SEP] come on top of the pieces
    pieces = float(np.mean([len(e.ids) + 2 for e in tokenizer.encode_batch(texts, add_special_tokens=False)]))
    runs = []
    for threads in settings:
        for together in [int(r) for r in args.runs.split(",")]:
            print(
                f"  the service with PAPERROUTE_EMBED_THREADS={threads}, PAPERROUTE_QUERY_RUNS={together}...",
                file=sys.stderr,
                flush=True,
            )
            runs += measure(threads, together, clients, args.seconds, texts)
    results = {"seconds": args.seconds, "threads": settings, "pieces": pieces, "runs": runs}
    print(json.dumps(results) if args.json else report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
