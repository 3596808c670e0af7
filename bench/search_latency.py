"""Search latency, index build time, index size and memory on a synthetic catalogue.

Phases, each in its own process so that peak memory is the phase's own:
  load   N synthetic papers (bench/synth_papers.py: Zipfian words with topic structure, vectors
         clustered by topic) into a throwaway SQLite database, vectors stored as paperroute
         stores them (float16 blobs in PaperVector): embedding 1M abstracts with the real
         model would take about 15 hours on two cores;
  build  `paperroute.search.rebuild()`: keyword index, vector store and HNSW graph from the DB;
  serve  open the index like a web process and time `paperroute.search.search(q, mode=M,
         limit=20)` for a mix of queries (topic words, phrases, category and year filters),
         each query embedded by the real model, hits fetched and snippets made: p50 and p99;
  embed  embedding throughput on real abstracts (the demo sample): the pipeline
         (`search.sync()`: read papers, cut passages, run the model, store vectors) against the
         bare model run on the same token windows in the same process (the baseline).

Usage: bench/search_latency.py [--papers 100000] [--queries 600] [--workdir DIR] [--json]
                               [--skip-embedding] [--embed-papers 200] [--tune-embedding]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODES = ("lexical", "semantic", "hybrid")


def _django(workdir: Path) -> None:
    os.environ["PAPERROUTE_DATA_DIR"] = str(workdir)
    os.environ["PAPERROUTE_DATABASE_URL"] = ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperroute.settings")
    import django

    django.setup()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_load(workdir: Path, count: int) -> dict:
    """Write the synthetic papers and their vectors into a fresh database."""
    _django(workdir)
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from bench.synth_papers import CATEGORIES, make_catalogue, papers
    from paperroute.catalog.models import Author, Authorship, Category, Paper
    from paperroute.catalog.records import title_key
    from paperroute.search.embedder import text_hash
    from paperroute.search.models import PaperVector
    from paperroute.search.service import model_id
    from paperroute.search.vectors import encode

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    cat = make_catalogue()
    model = model_id()
    now = timezone.now()
    Category.objects.bulk_create([Category(code=c) for c in CATEGORIES], ignore_conflicts=True)
    cat_ids = dict(Category.objects.values_list("code", "pk"))
    Author.objects.bulk_create([Author(name=n) for n in cat.authors], batch_size=5000)
    author_ids = dict(Author.objects.values_list("name", "pk"))
    through = Paper.categories.through
    step = 5000
    done = 0
    while done < count:
        size = min(step, count - done)
        rows = list(papers(cat, size, start=done))
        with transaction.atomic():
            created = Paper.objects.bulk_create([
                Paper(key=f"{9001 + (done + i) // 100_000}.{(done + i) % 100_000:05d}",
                      arxiv_id=f"{9001 + (done + i) // 100_000}.{(done + i) % 100_000:05d}",
                      title=t, title_key=title_key(t), abstract=a, primary_category=cs[0],
                      listed_on=day, announced_on=day, changed_at=now)
                for i, (t, a, _, cs, day, _, _) in enumerate(rows)])
            Authorship.objects.bulk_create([
                Authorship(paper_id=p.pk, author_id=author_ids[name], position=n)
                for p, row in zip(created, rows) for n, name in enumerate(row[2])])
            through.objects.bulk_create([
                through(paper_id=p.pk, category_id=cat_ids[code])
                for p, row in zip(created, rows) for code in row[3]])
            PaperVector.objects.bulk_create([
                PaperVector(paper_id=p.pk, model=model, text_hash=text_hash(row[0], row[1]),
                            count=len(row[6]), dim=row[6].shape[1], data=encode(row[6]))
                for p, row in zip(created, rows)])
        done += size
        print(f"\r  loaded {done:,}/{count:,}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return {"load_s": round(time.perf_counter() - started, 1), "load_rss_mb": round(_peak_rss_mb())}


def phase_build(workdir: Path) -> dict:
    _django(workdir)
    from paperroute import search
    from paperroute.progress import counter

    started = time.perf_counter()
    report = search.rebuild(embed=False, progress=counter)
    seconds = time.perf_counter() - started
    index = workdir / "search"
    size = sum(f.stat().st_size for f in index.rglob("*") if f.is_file())
    return {"build_s": round(seconds, 1), "papers": report.papers, "build_rss_mb": round(_peak_rss_mb()),
            "index_mb": round(size / 2**20)}


def phase_serve(workdir: Path, count: int) -> dict:
    _django(workdir)
    import numpy as np

    from bench.synth_papers import make_catalogue, queries
    from paperroute import search
    from paperroute.search import service

    texts = queries(make_catalogue(), count)
    for text in texts[:20]:  # warm the caches and load the model, as a running server has
        search.search(text, mode="hybrid", limit=20)
    out = {}
    for mode in MODES:
        times = []
        for text in texts:
            started = time.perf_counter()
            search.search(text, mode=mode, limit=20)
            times.append((time.perf_counter() - started) * 1000)
        out[mode] = {"p50_ms": round(float(np.percentile(times, 50)), 2),
                     "p99_ms": round(float(np.percentile(times, 99)), 2), "queries": len(times)}
    embed_times = []
    embedder = service._embedder()
    for text in texts[:200]:
        started = time.perf_counter()
        embedder.embed_queries([text])
        embed_times.append((time.perf_counter() - started) * 1000)
    out["query_embedding_p50_ms"] = round(float(np.percentile(embed_times, 50)), 2)
    out["serve_rss_mb"] = round(_peak_rss_mb())
    return out


def phase_embed(workdir: Path, count: int) -> dict:
    """Pipeline vs bare model, on real abstracts from the demo sample."""
    _django(workdir)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from paperroute import search
    from paperroute.catalog.harvest import Request, run
    from paperroute.catalog.ingest import Importer
    from paperroute.catalog.models import Paper
    from paperroute.catalog.sources.fetch import PoliteClient
    from paperroute.demo import HERE
    from paperroute.search import service

    run(Request(source="arxiv-rss", input=str(HERE / "arxiv-rss-2024-11-28.xml.gz")),
        client=PoliteClient(delay=0, timeout=1), importer=Importer("arxiv-rss"), log=lambda m: None)
    keep = list(Paper.objects.order_by("pk").values_list("pk", flat=True)[:count])
    Paper.objects.exclude(pk__in=keep).delete()
    papers = list(Paper.objects.order_by("pk").values_list("title", "abstract"))
    service.PRECOMPUTED = ()  # embed for real
    embedder = service._embedder()
    embedder.embed_papers(papers[:8])  # load and warm the model outside the timings

    started = time.perf_counter()
    report = search.sync(embed=True)
    pipeline_s = time.perf_counter() - started

    # The bare model: the same token windows, the same batches, nothing else.
    windows = []
    titles = embedder._pieces([t for t, _ in papers])
    bodies = embedder._pieces([a for _, a in papers])
    for head, body in zip(titles, bodies):
        windows.extend(embedder.passages(head, body))
    started = time.perf_counter()
    embedder.encode(windows)
    raw_s = time.perf_counter() - started
    config = {"threads": embedder.session.get_session_options().intra_op_num_threads,
              "batch": embedder.batch_size}
    return {"embed_papers": report.embedded, "passages": len(windows),
            "pipeline_papers_per_s": round(report.embedded / pipeline_s, 1),
            "model_papers_per_s": round(len(papers) / raw_s, 1),
            "pipeline_to_model": round(raw_s / pipeline_s, 3), **config}


def phase_tune(workdir: Path, count: int) -> dict:
    """Bare-model throughput on real abstracts for each thread count and batch size."""
    import gzip

    from paperroute.catalog.sources.arxiv_rss import parse
    from paperroute.demo import HERE
    from paperroute.search.embedder import Embedder

    items = [r for r in parse(gzip.decompress((HERE / "arxiv-rss-2024-11-28.xml.gz").read_bytes())).items
             if getattr(r, "abstract", "")][:count]
    papers = [(r.title, r.abstract) for r in items]
    table = {}
    for threads in (1, 2):
        for batch in (1, 4, 8, 16, 32):
            embedder = Embedder(threads=threads, batch_size=batch)
            embedder.embed_papers(papers[:8])
            started = time.perf_counter()
            embedder.embed_papers(papers)
            seconds = time.perf_counter() - started
            table[f"threads={threads} batch={batch}"] = round(len(papers) / seconds, 1)
    return {"abstracts": len(papers), "abstracts_per_s": table}


def _child(phase: str, workdir: Path, extra: list[str]) -> dict:
    command = [sys.executable, __file__, "--phase", phase, "--workdir", str(workdir), *extra]
    result = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    if result.returncode:
        raise SystemExit(f"search_latency: phase {phase} failed (exit {result.returncode})")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--workdir", help="keep the database and index here")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--skip-embedding", action="store_true", help="skip the throughput phase")
    parser.add_argument("--embed-papers", type=int, default=200)
    parser.add_argument("--tune-embedding", action="store_true",
                        help="only measure embedding speed for each thread count and batch size")
    parser.add_argument("--phase", choices=("load", "build", "serve", "embed", "tune"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()

    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="pr-latency-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if args.phase:
        result = {"load": lambda: phase_load(workdir, args.papers), "build": lambda: phase_build(workdir),
                  "serve": lambda: phase_serve(workdir, args.queries),
                  "embed": lambda: phase_embed(workdir, args.embed_papers),
                  "tune": lambda: phase_tune(workdir, args.embed_papers)}[args.phase]()
        print(json.dumps(result))
        return 0

    if args.tune_embedding:
        tuned = _child("tune", workdir, ["--embed-papers", str(args.embed_papers)])
        print(json.dumps(tuned) if args.json else "\n".join(
            f"  {name:<20} {rate:6.1f} abstracts/s" for name, rate in tuned["abstracts_per_s"].items()))
        return 0
    results: dict = {"papers": args.papers}
    catalogue = workdir / "catalogue"
    if not (catalogue / "paperroute.sqlite3").exists():
        results.update(_child("load", catalogue, ["--papers", str(args.papers)]))
    results.update(_child("build", catalogue, []))
    results.update(_child("serve", catalogue, ["--queries", str(args.queries)]))
    if not args.skip_embedding:
        results["embedding"] = _child("embed", workdir / "embedding",
                                      ["--embed-papers", str(args.embed_papers)])
    if args.json:
        print(json.dumps(results))
        return 0
    print(f"search latency, {args.papers:,} synthetic papers ({args.queries} mixed queries per mode, "
          f"limit 20, query embedding included)")
    for mode in MODES:
        r = results[mode]
        print(f"  {mode:<9} p50 {r['p50_ms']:7.2f} ms   p99 {r['p99_ms']:7.2f} ms")
    print(f"  query embedding alone: p50 {results['query_embedding_p50_ms']} ms")
    print(f"  index build {results['build_s']} s, index size {results['index_mb']} MiB, peak RSS: "
          f"build {results['build_rss_mb']} MiB, serving {results['serve_rss_mb']} MiB")
    if "embedding" in results:
        e = results["embedding"]
        print(f"  embedding: pipeline {e['pipeline_papers_per_s']} abstracts/s, bare model "
              f"{e['model_papers_per_s']} abstracts/s on the same {e['passages']} windows: ratio "
              f"{e['pipeline_to_model']} (threads {e['threads']}, batch {e['batch']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
