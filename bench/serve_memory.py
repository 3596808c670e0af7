#!/usr/bin/env python3
"""Memory and latency of `paperroute serve` with several web processes, over HTTP.

For each web-process count W, the real server (`paperroute serve --workers W --no-worker`) is
started over a synthetic catalogue; every web process is warmed (index open) with queries
other than the timed ones, then hybrid searches (bench/synth_papers.py's query mix: topic words,
phrases, category and year filters) are sent over HTTP by 8 concurrent clients (or each number
in --clients in turn), one fresh connection a request. Reported: p50 and p99 of the requests,
the CPU a request cost in each kind of server process and in the clients, and the sum of PSS
(/proc/PID/smaps_rollup, which counts a page shared by n processes as 1/n in each) over every
server process, master included, read after the queries; each as a ratio to W=1 with as many
clients, in the same run.

Each number of clients is timed with queries of its own: the host's query service keeps the
vectors of texts it met lately (PAPERROUTE_QUERY_CACHE), and a round must not meet those of the
round before. `--again` times each round's queries a second time, as when readers ask what was
asked lately (the next page of a search, another filter, a popular query): the rows marked
"again".

`--graph copy` starts the server with the HNSW graph read into each process's memory, as
paperroute did before it memory-mapped it, and `--embedder own` with each web process loading
the embedding model, as before the host's query service (for the comparisons; the server itself
always maps and shares).

The catalogue and index are made by bench/search_latency.py's load and build phases and kept in
--workdir for the next run with the same --papers.

Usage: bench/serve_memory.py [--papers 100000] [--web-processes 1,4,8] [--queries 400]
                             [--clients 8[,N...]] [--again] [--graph mmap|copy]
                             [--embedder shared|own] [--workdir DIR] [--json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The server started as before the one-copy changes, for the comparison: with the graph read
# into memory instead of mapped, or with each web process loading the embedding model instead of
# asking the host's query service. The modules are changed before gunicorn forks, so every web
# process inherits the change.
PATCHES = {
    "graph=copy": "import paperroute.search.vectorstore as v; v.MMAP = 0",
    "embedder=own": (
        "import paperroute.search.queryserver as q, paperroute.server as s; "
        "q.remote = lambda local: None; "
        "s.QueryService.start = s.QueryService.wait_ready = lambda self: None"
    ),
}
MAIN = "from paperroute.cli import main; sys.argv[0] = 'paperroute'; raise SystemExit(main())"


def _server_command(graph: str, embedder: str) -> list[str]:
    patches = [PATCHES[name] for name in (f"graph={graph}", f"embedder={embedder}") if name in PATCHES]
    if not patches:
        return [sys.executable, "-m", "paperroute"]
    return [sys.executable, "-c", "; ".join(["import sys", *patches, MAIN])]


def _env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(PAPERROUTE_DATA_DIR=str(workdir), PAPERROUTE_DATABASE_URL="", PYTHONUNBUFFERED="1")
    return env


def _phase(phase: str, workdir: Path, papers: int) -> dict:
    """bench/search_latency.py's load or build phase, kept in workdir beside what it made; one
    that search_latency.py itself ran there (its catalogue, which it forwards) is reused too."""
    stamp = workdir / f"serve_memory_{phase}.json"
    for kept in (stamp, workdir / f"{phase}.json"):
        if kept.exists() and json.loads(kept.read_text()).get("papers") == papers:
            print(f"  {phase}: reusing {workdir} ({papers:,} papers)", file=sys.stderr, flush=True)
            return json.loads(kept.read_text())
    print(f"  {phase}: {papers:,} papers into {workdir}", file=sys.stderr, flush=True)
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "search_latency.py"),
            "--phase",
            phase,
            "--papers",
            str(papers),
            "--workdir",
            str(workdir),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    if result.returncode:
        raise SystemExit(f"serve_memory: the {phase} phase failed (exit {result.returncode})")
    data = {**json.loads(result.stdout.strip().splitlines()[-1]), "papers": papers}
    stamp.write_text(json.dumps(data))
    return data


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _processes(pid: int) -> list[int]:
    """A process and all its descendants."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += _processes(int(child))
    return found


def _memory(pids: list[int]) -> dict[str, float]:
    """Sums over the processes of smaps_rollup's PSS (and its parts) and RSS, in MiB."""
    total = {"pss": 0.0, "pss_anon": 0.0, "pss_file": 0.0, "rss": 0.0}
    names = {"Pss": "pss", "Pss_Anon": "pss_anon", "Pss_File": "pss_file", "Rss": "rss"}
    for pid in pids:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in names:
                total[names[key]] += int(value.split()[0]) / 1024
    return {key: round(value, 1) for key, value in total.items()}


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used (its threads included), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _roles(server: int) -> dict[str, list[int]]:
    """The server's processes by what they do: gunicorn's master, web processes, query service."""
    roles: dict[str, list[int]] = {"master": [server], "web": [], "service": []}
    for pid in _processes(server)[1:]:
        service = b"paperroute.server" in Path(f"/proc/{pid}/cmdline").read_bytes()
        roles["service" if service else "web"].append(pid)
    return roles


def _opened(pid: int, vectors_file: str) -> bool:
    """Whether a web process has the index open (it maps vectors.f16 once it has searched)."""
    try:
        return vectors_file in Path(f"/proc/{pid}/maps").read_text()
    except FileNotFoundError:
        return False


def _request(port: int, query: str) -> float:
    """One hybrid search over a fresh connection; milliseconds."""
    path = "/api/papers/search?" + urllib.parse.urlencode({"q": query, "mode": "hybrid", "limit": 20})
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"serve_memory: {path} answered {response.status}")
    finally:
        connection.close()
    return (time.perf_counter() - started) * 1000


def measure(
    workdir: Path,
    processes: int,
    rounds: list[list[str]],
    warmup: list[str],
    clients: list[int],
    graph: str,
    embedder: str,
    again: bool = False,
) -> list[dict]:
    """Start the server with `processes` web processes, warm it with the `warmup` queries,
    then for each number of concurrent clients time its round of queries (and, `again`, the same
    once more) and read PSS."""
    from paperroute.search.index import current_generation, root_dir

    generation = current_generation(root_dir(workdir))
    vectors_file = str(generation / "vectors" / "vectors.f16")
    port = _free_port()
    command = [
        *_server_command(graph, embedder),
        "serve",
        "--port",
        str(port),
        "--workers",
        str(processes),
        "--no-worker",
    ]
    log = open(workdir / f"serve_memory_w{processes}.log", "wb")  # noqa: SIM115 (closed in finally)
    server = subprocess.Popen(command, cwd=ROOT, env=_env(workdir), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                _request(port, warmup[0])
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"serve_memory: the server did not start (see {log.name})") from None
                time.sleep(0.5)
        # gunicorn forks its web processes one by one: wait for them all.
        roles = _roles(server.pid)
        while len(roles["web"]) < processes:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"serve_memory: fewer than {processes} web processes (see {log.name})")
            time.sleep(0.2)
            roles = _roles(server.pid)
        web = roles["web"]
        # Warm every web process (model loaded, index open), as a server is after its first
        # minutes: concurrent requests until each has searched, then a round of warm-up queries.
        with ThreadPoolExecutor(max_workers=max(*clients, 2 * processes)) as pool:
            warm = 0
            while not all(_opened(pid, vectors_file) for pid in web):
                if time.monotonic() > deadline + 300:
                    raise SystemExit("serve_memory: some web process never answered a search")
                batch = [warmup[(warm + i) % len(warmup)] for i in range(2 * processes)]
                list(pool.map(lambda q: _request(port, q), batch))
                warm += len(batch)
            list(pool.map(lambda q: _request(port, q), warmup[: max(100, 20 * processes)]))
        out = []
        for count, texts in zip(clients, rounds):
            out.append(_timed(server.pid, roles, port, texts, processes, count))
            if again:
                out.append({**_timed(server.pid, roles, port, texts, processes, count), "again": True})
        return out
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _timed(
    server: int, roles: dict[str, list[int]], port: int, texts: list[str], processes: int, clients: int
) -> dict:
    """The queries from `clients` concurrent clients: latency, throughput, CPU and memory."""
    # Where the CPU goes while the queries run: each role's processes, and these clients.
    before = {role: sum(map(_cpu_seconds, pids)) for role, pids in roles.items()}
    client_before = time.process_time()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        started = time.perf_counter()
        times = list(pool.map(lambda q: _request(port, q), texts))
        wall = time.perf_counter() - started
    cpu = {role: sum(map(_cpu_seconds, pids)) - before[role] for role, pids in roles.items()}
    cpu["clients"] = time.process_time() - client_before
    return {
        "web_processes": processes,
        "server_processes": len(_processes(server)),
        "queries": len(times),
        "clients": clients,
        "p50_ms": round(float(np.percentile(times, 50)), 1),
        "p99_ms": round(float(np.percentile(times, 99)), 1),
        "throughput_qps": round(len(times) / wall, 1),
        "loadavg": os.getloadavg()[0],
        # CPU milliseconds a request, by role; "busy" is the share of the host's cores used.
        "cpu_ms": {role: round(seconds * 1000 / len(times), 2) for role, seconds in cpu.items()},
        "busy": round(sum(cpu.values()) / wall / (os.cpu_count() or 1), 2),
        **_memory(_processes(server)),
    }


def _layout(service: dict | None) -> str:
    if not service:
        return "layout not recorded"
    return (
        f"{service['model_threads']} model threads, {service['runs_at_once']} runs at once, "
        f"{service['cores']} cores"
    )


def report(results: dict) -> str:
    """The runs as a Markdown table, ready for BENCHMARKS.md."""
    runs = results["runs"]
    # Each run's memory against one web process's with as many clients.
    one = {(r["clients"], r.get("again", False)): r for r in runs if r["web_processes"] == 1}
    lines = [
        f"`paperroute serve` at {results['papers']:,} synthetic papers, graph {results['graph']}, "
        f"query service {results.get('embedder', 'shared')} "
        f"({_layout(results.get('service'))}): "
        f"hybrid search over HTTP, {runs[0]['queries']} queries from each number of concurrent "
        f"clients (a fresh connection a query); memory read after the queries, summed over every "
        f"server process (gunicorn master, web processes and query service; --no-worker).",
        "",
        "| web processes | clients | p50 | p99 | queries/s | sum of PSS | of which anon / file "
        "| vs. 1 process | sum of RSS | CPU a request: web / service / master / clients |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        cpu = r.get("cpu_ms", {})
        split = " / ".join(f"{cpu.get(role, 0):.1f}" for role in ("web", "service", "master", "clients"))
        base = one.get((r["clients"], r.get("again", False)), r)
        again = ", again" if r.get("again") else ""
        lines.append(
            f"| {r['web_processes']} | {r['clients']}{again} | {r['p50_ms']} ms | {r['p99_ms']} ms | "
            f"{r['throughput_qps']} | {r['pss']:,.0f} MiB | {r['pss_anon']:,.0f} / "
            f"{r['pss_file']:,.0f} MiB | {r['pss'] / base['pss']:.2f}× | {r['rss']:,.0f} MiB | "
            f"{split} ms ({r.get('busy', 0):.0%} of the cores) |"
        )
    build = results.get("build", {})
    if build:
        parts = ", ".join(f"{name} {mb:,} MiB" for name, mb in build.get("index_parts_mb", {}).items())
        lines += [
            "",
            f"Index: {build.get('index_mb', 0):,} MiB ({parts}); built in {build.get('build_s', '?')} s.",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument(
        "--web-processes",
        default="1,4,8",
        help="comma-separated web-process counts; 1 is added for the ratios",
    )
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument(
        "--clients", default="8", help="comma-separated numbers of concurrent clients, each timed in turn"
    )
    parser.add_argument("--again", action="store_true", help="time each round's queries a second time")
    parser.add_argument(
        "--graph",
        choices=("mmap", "copy"),
        default="mmap",
        help="copy: read the graph into each process, as before (for comparison)",
    )
    parser.add_argument(
        "--embedder",
        choices=("shared", "own"),
        default="shared",
        help="own: each web process loads the embedding model, as before (for comparison)",
    )
    parser.add_argument("--workdir", help="keep the catalogue and index here (reused by later runs)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    counts = sorted({1, *(int(w) for w in args.web_processes.split(","))})
    clients = [int(c) for c in args.clients.split(",")]

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="pr-serve-memory-"))
    workdir.mkdir(parents=True, exist_ok=True)
    load = _phase("load", workdir, args.papers)
    build = _phase("build", workdir, args.papers)
    os.environ.update(_env(workdir))
    os.environ["DJANGO_SETTINGS_MODULE"] = "paperroute.settings"
    from bench.synth_papers import make_catalogue, queries

    catalogue = make_catalogue()
    # A round of its own for each number of clients, none of them the warm-up's.
    rounds = [queries(catalogue, args.queries, seed=9 if n == 0 else 10 + n) for n in range(len(clients))]
    # Warmed with other queries of the same mix: the timed ones meet no cache that they filled.
    warmup = queries(catalogue, max(100, 20 * max(counts)), seed=10)
    runs = []
    for count in counts:
        print(f"  {count} web process(es)...", file=sys.stderr, flush=True)
        runs += measure(workdir, count, rounds, warmup, clients, args.graph, args.embedder, args.again)
    from paperroute import conf
    from paperroute.search.queryserver import layout

    config = conf.read()
    threads, together = layout(config.embed_threads, config.query_runs)
    results = {
        "papers": args.papers,
        "graph": args.graph,
        "embedder": args.embedder,
        # What the query service ran with on this host (PAPERROUTE_EMBED_THREADS, _QUERY_RUNS).
        "service": {"cores": os.cpu_count(), "model_threads": threads, "runs_at_once": together},
        "runs": runs,
        "load": load,
        "build": build,
    }
    print(json.dumps(results) if args.json else report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
