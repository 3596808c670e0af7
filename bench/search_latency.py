#!/usr/bin/env python3
"""Search latency, as-you-type latency, index build time, index size and memory on a synthetic catalogue.

Phases, each in its own process so that peak memory is the phase's own:
  load   N synthetic papers (bench/synth_papers.py: Zipfian words with topic structure, vectors
         clustered by topic) into a throwaway SQLite database made by paperroute's migrations,
         vectors stored as paperroute stores them (float16 blobs in PaperVector): embedding 1M
         abstracts with the real model would take about 15 hours on two cores;
  build  `paperroute.search.rebuild()`: keyword index, vector store and HNSW graph from the DB;
  serve  open the index like a web process and time, per query, `paperroute.search.search(q,
         mode=M, limit=20)` for a mix of queries (topic words, phrases, category and year
         filters; each embedded by the real model, rows and snippets made), and the header box's
         as-you-type requests (`/search/suggest?q=...` through Django's whole handler, the view
         alone and `search.suggest()` alone) for the same queries' words being typed: p50, p99
         and peak RSS. Each is also given as a ratio to a baseline timed in the same process on
         the same inputs (the machine is shared and noisy): a mode's bare steps (BM25 top-20;
         the query's embedding + an HNSW top-40 walk; all three for hybrid), timed before and
         after the modes; for as you type, a bare tantivy prefix query, interleaved with the
         requests. The 1-minute load average is read between the steps;
  embed  embedding throughput on real abstracts (the demo sample): the pipeline
         (`search.sync()`: read papers, cut passages, run the model, store vectors) against the
         bare model run on the same token windows in the same process (the baseline).

With --workdir, the catalogue and index are kept there with their load and build figures
(load.json, build.json) and reused by the next run for the same --papers (--rebuild remakes
them); without it they go to a temporary folder that is removed at the end.

Usage: bench/search_latency.py [--papers 100000] [--queries 600] [--workdir DIR [--rebuild]] [--json]
                               [--skip-embedding] [--embed-papers 200] [--tune-embedding]
       bench/search_latency.py --report RESULTS.json    # the tables of an earlier --json run
       bench/search_latency.py --papers N --web-processes 1,4,8 [--clients 8[,N...]] [--workdir DIR]
                               # the real server over HTTP: bench/serve_memory.py
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
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
    # Each mode and baseline times the same texts: every one must run the model, as a query the
    # host has not met does, not come from the vectors the model keeps of recent texts.
    os.environ["PAPERROUTE_QUERY_CACHE"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperroute.settings")
    import django

    from paperroute import conf

    conf.prepare()  # the data directory, secret key and SQLite file
    django.setup()
    from paperroute import search

    search.configure_threads("web")  # as a web process is, so the latencies compare


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# The tables the load writes; their secondary indexes are dropped while it runs and made again
# after (the same SQL), which is far quicker than keeping them up to date row by row.
LOAD_TABLES = (
    "catalog_author",
    "catalog_paper",
    "catalog_authorship",
    "catalog_paper_categories",
    "search_papervector",
)


def _insert(table, varying: list[str], **fixed):
    """SQL inserting `table` rows (a model) whose `varying` columns are given (in that order),
    and the other columns' values as Django would write them for `table(**fixed)`."""
    from django.db import connection

    template = table(**fixed)
    columns, constants = list(varying), []
    for f in table._meta.concrete_fields:
        if f.attname in varying or (f.primary_key and f.attname not in fixed):
            continue
        columns.append(f.column)
        constants.append(f.get_db_prep_save(f.pre_save(template, True), connection))
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" * len(columns))
    return f'INSERT INTO "{table._meta.db_table}" ({names}) VALUES ({marks})', tuple(constants)


def phase_load(workdir: Path, count: int) -> dict:
    """Write the synthetic papers and their vectors into a fresh database: the tables and
    columns paperroute has (made by its migrations, the values as Django writes them), filled
    with plain executemany inserts, journal off (a throwaway database), indexes made at the end."""
    _django(workdir)
    import sqlite3
    from datetime import timedelta

    import numpy as np
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from bench.synth_papers import BLOCK, CATEGORIES, DAYS, FIRST_DAY, block, make_catalogue
    from paperroute.catalog.models import Author, Authorship, Category, Paper
    from paperroute.catalog.records import title_key
    from paperroute.search.embedder import text_hash
    from paperroute.search.models import PaperVector
    from paperroute.search.service import model_id

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    cat = make_catalogue()
    now = timezone.now()
    Category.objects.bulk_create([Category(code=c) for c in CATEGORIES], ignore_conflicts=True)
    cat_ids = dict(Category.objects.values_list("code", "pk"))
    category_pk = [cat_ids[c] for c in CATEGORIES]
    date_field = Paper._meta.get_field("listed_on")
    day_text = [date_field.get_db_prep_save(FIRST_DAY + timedelta(days=d), connection) for d in range(DAYS)]
    author_sql, author_fixed = _insert(Author, ["id", "name"])
    paper_sql, paper_fixed = _insert(
        Paper,
        [
            "id",
            "key",
            "arxiv_id",
            "title",
            "title_key",
            "abstract",
            "primary_category",
            "listed_on",
            "announced_on",
        ],
        changed_at=now,
    )
    authorship_sql, authorship_fixed = _insert(Authorship, ["paper_id", "author_id", "position"])
    through = Paper.categories.through
    through_sql, through_fixed = _insert(through, ["paper_id", "category_id"])
    vector_sql, vector_fixed = _insert(
        PaperVector, ["paper_id", "text_hash", "count", "data"], model=model_id(), dim=384
    )
    path = connection.settings_dict["NAME"]
    connection.close()

    db = sqlite3.connect(path, isolation_level=None)
    for pragma in (
        "journal_mode=OFF",
        "synchronous=OFF",
        "cache_size=-262144",
        "temp_store=MEMORY",
        "locking_mode=EXCLUSIVE",
    ):
        db.execute(f"PRAGMA {pragma}")
    tables = ", ".join(f"'{t}'" for t in LOAD_TABLES)
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({tables})"
    ).fetchall()
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    db.execute("BEGIN")
    db.executemany(author_sql, ((i + 1, name, *author_fixed) for i, name in enumerate(cat.authors)))
    db.execute("COMMIT")
    done = number = 0
    while done < count:
        size = min(BLOCK, count - done)
        b = block(cat, number)
        keys = [f"{9001 + p // 100_000}.{p % 100_000:05d}" for p in range(done, done + size)]
        pks = range(done + 1, done + size + 1)
        blobs = np.ascontiguousarray(b.vectors, dtype="<f2").tobytes()
        bounds = (np.concatenate([[0], np.cumsum(b.counts)]) * 384 * 2).tolist()
        db.execute("BEGIN")
        db.executemany(
            paper_sql,
            (
                (pk, key, key, t, title_key(t), a, CATEGORIES[cs[0]], day_text[d], day_text[d], *paper_fixed)
                for pk, key, t, a, cs, d in zip(
                    pks, keys, b.titles, b.abstracts, b.categories, b.days.tolist()
                )
            ),
        )
        db.executemany(
            authorship_sql,
            (
                (pk, author + 1, n, *authorship_fixed)
                for pk, names in zip(pks, b.authors)
                for n, author in enumerate(names)
            ),
        )
        db.executemany(
            through_sql,
            ((pk, category_pk[c], *through_fixed) for pk, codes in zip(pks, b.categories) for c in codes),
        )
        db.executemany(
            vector_sql,
            (
                (pk, text_hash(t, a), n, blobs[bounds[i] : bounds[i + 1]], *vector_fixed)
                for i, (pk, t, a, n) in enumerate(zip(pks, b.titles, b.abstracts, b.counts.tolist()))
            ),
        )
        db.execute("COMMIT")
        done += size
        number += 1
        print(f"\r  loaded {done:,}/{count:,}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    inserted = time.perf_counter() - started
    for _, sql in indexes:
        db.execute(sql)
    db.execute("PRAGMA journal_mode=WAL")  # as paperroute's settings open it
    db.close()
    return {
        "load_s": round(time.perf_counter() - started, 1),
        "load_insert_s": round(inserted, 1),
        "load_rss_mb": round(_peak_rss_mb()),
        "db_mb": round(Path(path).stat().st_size / 2**20),
        "load_loadavg": list(os.getloadavg()),
    }


def phase_build(workdir: Path) -> dict:
    _django(workdir)
    from paperroute import search
    from paperroute.progress import counter

    # As `paperroute index rebuild` builds: the graph on every core (_django set a web process's
    # one thread, which made the 1M build of 2026-11-29 14:24 run on one core of two).
    search.configure_threads("cli")
    started = time.perf_counter()
    report = search.rebuild(embed=False, progress=counter)
    seconds = time.perf_counter() - started
    index = workdir / "search"
    size = sum(f.stat().st_size for f in index.rglob("*") if f.is_file())
    parts = {"tantivy": 0, "vectors.f16": 0, "graph.faiss": 0, "other": 0}
    for f in index.rglob("*"):
        if f.is_file():
            part = "tantivy" if "lexical" in f.parts else f.name if f.name in parts else "other"
            parts[part] += f.stat().st_size
    parts = {name: round(size / 2**20) for name, size in parts.items()}
    return {
        "build_s": round(seconds, 1),
        "papers": report.papers,
        "build_rss_mb": round(_peak_rss_mb()),
        "index_mb": round(size / 2**20),
        "index_parts_mb": parts,
        "build_loadavg": list(os.getloadavg()),
    }


def _stats(times: list[float]) -> dict:
    import numpy as np

    return {
        "p50_ms": round(float(np.percentile(times, 50)), 2),
        "p99_ms": round(float(np.percentile(times, 99)), 2),
    }


QUERY_KINDS = ("words", "phrase", "cat:", "year:")


def query_kind(n: int) -> str:
    """The kind of bench/synth_papers.py's n-th query: 70% words, then a phrase, cat:, year:."""
    return QUERY_KINDS[max(0, n % 10 - 6)]


def _timed(call, *args) -> float:
    started = time.perf_counter()
    call(*args)
    return (time.perf_counter() - started) * 1000


def _baselines(index, texts: list[str], vectors) -> dict[str, list[float]]:
    """Per query, the bare steps no search can skip, timed in this process on the same index:
    a plain tantivy BM25 top-20 of the query's words (no filters, phrases, fusion or rows), the
    query's embedding, and a plain HNSW top-40 walk of the graph (the rows semantic mode asks
    for, at the store's efSearch)."""
    import tantivy

    from paperroute.search.lexical import STEM_NO_STOP
    from paperroute.search.query import parse
    from paperroute.search.service import _embedder

    lexical, graph, embedder = index.lexical, index.vectors.graph, _embedder()
    bm25, embed, hnsw = [], [], []
    for text, vector in zip(texts, vectors):
        terms = STEM_NO_STOP.analyze(" ".join(lexical.scoring_words(parse(text))))
        query = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(lexical.schema, "text", term)) for term in terms]
        )
        bm25.append(_timed(lambda query=query: lexical.searcher.search(query, limit=20)))
        embed.append(_timed(embedder.embed_queries, [text]))
        hnsw.append(_timed(graph.search, vector[None, :], 40) if graph is not None else 0.0)
    return {"bm25": bm25, "embed": embed, "hnsw": hnsw}


def phase_serve(workdir: Path, count: int) -> dict:
    """Each mode's timings, and the same process's bare baselines on the same queries (before
    and after the modes, so that a change in the machine's load shows in both): a mode's floor
    is the sum, per query, of the bare steps it must take (lexical: BM25; semantic: embedding +
    HNSW walk; hybrid: all three), and its ratio is its p50 (p99) over the floor's."""
    _django(workdir)
    import numpy as np

    from bench.synth_papers import make_catalogue, queries
    from paperroute import search
    from paperroute.search import service

    texts = queries(make_catalogue(), count)
    for text in texts[:20]:  # warm the caches and load the model, as a running server has
        search.search(text, mode="hybrid", limit=20)
    index = service.open_index()
    vectors = service._embedder().embed_queries(texts)
    loadavg = [os.getloadavg()[0]]  # the 1-minute load average, read between the steps
    base = _baselines(index, texts, vectors)
    loadavg.append(os.getloadavg()[0])
    out = {}
    for mode in MODES:
        times = [
            _timed(lambda text=text, mode=mode: search.search(text, mode=mode, limit=20)) for text in texts
        ]
        out[mode] = {
            **_stats(times),
            "queries": len(times),
            "by_kind": {
                kind: _stats([t for n, t in enumerate(times) if query_kind(n) == kind])
                for kind in QUERY_KINDS
            },
        }
        loadavg.append(os.getloadavg()[0])
    after = _baselines(index, texts, vectors)
    loadavg.append(os.getloadavg()[0])
    base = {step: base[step] + after[step] for step in base}
    out["baseline"] = {step: _stats(times) for step, times in base.items()}
    steps = {"lexical": ("bm25",), "semantic": ("embed", "hnsw"), "hybrid": ("bm25", "embed", "hnsw")}
    for mode, parts in steps.items():
        floor = _stats(list(np.sum([base[part] for part in parts], axis=0)))
        out[mode].update(
            {
                "floor_p50_ms": floor["p50_ms"],
                "floor_p99_ms": floor["p99_ms"],
                "ratio_p50": round(out[mode]["p50_ms"] / floor["p50_ms"], 2),
                "ratio_p99": round(out[mode]["p99_ms"] / floor["p99_ms"], 2),
            }
        )
    out["query_embedding_p50_ms"] = out["baseline"]["embed"]["p50_ms"]
    out["as_you_type"] = _as_you_type(index, texts)
    loadavg.append(os.getloadavg()[0])
    out["serve_rss_mb"] = round(_peak_rss_mb())
    out["loadavg"] = [round(v, 2) for v in loadavg]
    return out


def typed_prefixes(texts: list[str], limit: int = 1500) -> list[str]:
    """What the header box sends while the queries' words are typed: the text so far after
    every third keystroke and at the end, from 2 characters on (the box asks from 2, after a
    150 ms pause), each sent once (a repeat would be a page-cache hit). Filters and quotes are
    left out: people type words there."""
    import re

    typed = []
    for text in texts:
        words = " ".join(w for w in re.sub(r'["]', " ", text).split() if ":" not in w)
        typed.extend(words[:end] for end in (*range(2, len(words), 3), len(words)))
    return list(dict.fromkeys(t for t in typed if len(t.strip()) >= 2))[:limit]


def _as_you_type(index, texts: list[str]) -> dict:
    """The header box's requests (`/search/suggest?q=...`) for the queries' words being typed.
    Timed three ways on the same prefixes, interleaved prefix by prefix so that the load is the
    same for each: `request`, the whole server-side request through Django's handler (every
    middleware, the page cache checked and missed, gzip, as a browser asks), the server time the
    target is about; `view`, the view alone; `suggest`, `paperroute.search.suggest()` alone.
    The baseline, timed in the same loop: a bare tantivy top-5 query for the last word as a
    prefix (the regex the suggest path runs), which no prefix search can do without."""
    import re

    import tantivy
    from django.conf import settings
    from django.test import Client, RequestFactory

    from paperroute.search import suggest
    from paperroute.web.views.search import suggestions

    typed = typed_prefixes(texts)
    host = next((h for h in settings.ALLOWED_HOSTS if h not in ("*", "")), "localhost").lstrip(".")
    client = Client(HTTP_HOST=host, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    factory = RequestFactory(HTTP_HOST=host)
    for prefix in texts[:20]:  # warm up: other prefixes than the timed ones
        client.get("/search/suggest", {"q": prefix[::-1][:12]})
    lexical = index.lexical

    def bare(prefix: str) -> None:
        words = re.findall(r"[^\W_]+", prefix.lower())
        if words:
            query = tantivy.Query.regex_query(lexical.schema, "text", f"{re.escape(words[-1])}.*")
            lexical.searcher.search(query, limit=5)

    def request(prefix: str) -> None:
        response = client.get("/search/suggest", {"q": prefix})
        if response.status_code != 200:
            raise SystemExit(f"/search/suggest?q={prefix!r} answered {response.status_code}")

    times: dict[str, list[float]] = {"request": [], "view": [], "suggest": [], "bare_prefix": []}
    found = 0

    def alone(prefix: str) -> None:
        nonlocal found
        found += bool(suggest(prefix))

    calls = {
        "request": request,
        "view": lambda p: suggestions(factory.get("/search/suggest", {"q": p})),
        "suggest": alone,
        "bare_prefix": bare,
    }
    names = list(calls)
    for n, prefix in enumerate(typed):  # the order rotates: none always runs on warmer caches
        for name in names[n % 4 :] + names[: n % 4]:
            times[name].append(_timed(calls[name], prefix))
    out = {name: _stats(values) for name, values in times.items()}
    base = out["bare_prefix"]
    for name in ("request", "view", "suggest"):
        out[name]["ratio_p50"] = round(out[name]["p50_ms"] / base["p50_ms"], 1)
        out[name]["ratio_p99"] = round(out[name]["p99_ms"] / base["p99_ms"], 1)
    out["prefixes"] = len(typed)
    out["with_results"] = found
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

    run(
        Request(source="arxiv-rss", input=str(HERE / "arxiv-rss-2024-11-28.xml.gz")),
        client=PoliteClient(delay=0, timeout=1),
        importer=Importer("arxiv-rss"),
        log=lambda m: None,
    )
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
    config = {
        "threads": embedder.session.get_session_options().intra_op_num_threads,
        "batch": embedder.batch_size,
    }
    return {
        "embed_papers": report.embedded,
        "passages": len(windows),
        "pipeline_papers_per_s": round(report.embedded / pipeline_s, 1),
        "model_papers_per_s": round(len(papers) / raw_s, 1),
        "pipeline_to_model": round(raw_s / pipeline_s, 3),
        **config,
    }


def phase_tune(workdir: Path, count: int) -> dict:
    """Bare-model throughput on real abstracts for each thread count and batch size."""
    import gzip

    from paperroute.catalog.sources.arxiv_rss import parse
    from paperroute.demo import HERE
    from paperroute.search.embedder import Embedder

    items = [
        r
        for r in parse(gzip.decompress((HERE / "arxiv-rss-2024-11-28.xml.gz").read_bytes())).items
        if getattr(r, "abstract", "")
    ][:count]
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


def report(results: dict, args) -> str:
    """The results as Markdown tables (ready for BENCHMARKS.md) and a few lines of notes."""
    b, typing = results["baseline"], results["as_you_type"]
    loads = results["loadavg"]
    lines = [
        f"search latency, {args.papers:,} synthetic papers: {args.queries} mixed queries a mode "
        f"(limit 20, query embedding included), {typing['prefixes']} as-you-type prefixes "
        f"({typing['with_results']} with results); 1-minute load average read through the serving "
        f"phase: {min(loads):.2f} to {max(loads):.2f} ({', '.join(f'{v:.2f}' for v in loads)})",
        "",
        "| search | p50 | p99 | baseline (same run) p50 / p99 | p50 vs. baseline | p99 vs. baseline |",
        "|---|---|---|---|---|---|",
    ]
    floors = {
        "lexical": "bare BM25 top-20",
        "semantic": "embedding + bare HNSW walk",
        "hybrid": "BM25 + embedding + HNSW",
    }
    for mode in MODES:
        r = results[mode]
        lines.append(
            f"| {mode} | {r['p50_ms']:.2f} ms | {r['p99_ms']:.2f} ms | {floors[mode]}: "
            f"{r['floor_p50_ms']:.2f} / {r['floor_p99_ms']:.2f} ms | {r['ratio_p50']:.2f}× | "
            f"{r['ratio_p99']:.2f}× |"
        )
    bare = typing["bare_prefix"]
    for name, label in (
        ("request", "**as you type**: `/search/suggest` request, all middleware"),
        ("view", "as you type: the view alone"),
        ("suggest", "as you type: `suggest()` alone"),
    ):
        r = typing[name]
        lines.append(
            f"| {label} | {r['p50_ms']:.2f} ms | {r['p99_ms']:.2f} ms | bare prefix query top-5: "
            f"{bare['p50_ms']:.2f} / {bare['p99_ms']:.2f} ms | {r['ratio_p50']:.1f}× | "
            f"{r['ratio_p99']:.1f}× |"
        )
    lines += [
        "",
        "By kind of query (p50 / p99; 70% words, 10% each a quoted phrase, `cat:`, `year:`):",
        "",
        "| mode | " + " | ".join(QUERY_KINDS) + " |",
        "|---|" + "---|" * len(QUERY_KINDS),
    ]
    for mode in MODES:
        kinds = results[mode].get("by_kind", {})
        lines.append(
            f"| {mode} | "
            + " | ".join(
                f"{kinds[k]['p50_ms']:.1f} / {kinds[k]['p99_ms']:.1f} ms" if k in kinds else "–"
                for k in QUERY_KINDS
            )
            + " |"
        )
    lines += [
        "",
        "Baselines alone (p50 / p99): bare BM25 top-20 "
        f"{b['bm25']['p50_ms']} / {b['bm25']['p99_ms']} ms; "
        f"query embedding {b['embed']['p50_ms']} / {b['embed']['p99_ms']} ms; bare HNSW top-40 walk "
        f"{b['hnsw']['p50_ms']} / {b['hnsw']['p99_ms']} ms. Serving process peak RSS "
        f"**{results['serve_rss_mb']:,} MiB**.",
    ]
    reused = " (reused from an earlier run)" if results.get("load_reused") else ""
    if "load_s" in results:
        lines.append(
            f"Load into the database{reused}: {results['load_s']} s ({results['db_mb']:,} MiB), "
            f"peak RSS {results['load_rss_mb']} MiB."
        )
    reused = " (reused from an earlier run)" if results.get("build_reused") else ""
    parts = ", ".join(f"{name} {mb:,} MiB" for name, mb in results["index_parts_mb"].items())
    lines.append(
        f"Index build{reused}: {results['build_s']} s, peak RSS {results['build_rss_mb']:,} MiB; "
        f"index {results['index_mb']:,} MiB ({parts})."
    )
    return "\n".join(lines)


def _cached(phase: str, catalogue: Path, papers: int, rebuild: bool, run) -> dict:
    """A load or build phase's results: kept in `catalogue` (a --workdir) beside what it made,
    so that a rerun on the same workdir times the serving phase without remaking the catalogue.
    A load is redone when its database is missing, incomplete or for another paper count (and
    a build with it); --rebuild redoes both."""
    stamp = catalogue / f"{phase}.json"
    if not rebuild and stamp.exists():
        kept = json.loads(stamp.read_text())
        if kept.get("papers") == papers:
            print(f"  {phase}: reusing {catalogue} ({papers:,} papers; --rebuild to redo)", file=sys.stderr)
            return {**kept, f"{phase}_reused": True}
    if phase == "load":
        for old in ("paperroute.sqlite3", "paperroute.sqlite3-wal", "paperroute.sqlite3-shm", "build.json"):
            (catalogue / old).unlink(missing_ok=True)
        shutil.rmtree(catalogue / "search", ignore_errors=True)
    catalogue.mkdir(parents=True, exist_ok=True)
    result = {**run(), "papers": papers}
    stamp.write_text(json.dumps(result))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, help="default: 600, or 400 with --web-processes")
    parser.add_argument("--workdir", help="keep the database and index here")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--rebuild", action="store_true", help="remake the catalogue and index even if --workdir holds them"
    )
    parser.add_argument("--skip-embedding", action="store_true", help="skip the throughput phase")
    parser.add_argument("--embed-papers", type=int, default=200)
    parser.add_argument(
        "--tune-embedding",
        action="store_true",
        help="only measure embedding speed for each thread count and batch size",
    )
    parser.add_argument("--report", metavar="JSON", help="print the tables of an earlier --json run's file")
    parser.add_argument(
        "--web-processes",
        metavar="W[,W...]",
        help="instead: start the real server with W web processes and query it over HTTP from "
        "--clients concurrent clients (bench/serve_memory.py, which this runs): p50, p99 and the "
        "sum of PSS over every server process",
    )
    parser.add_argument("--clients", default="8", help="with --web-processes: N[,N...] concurrent clients")
    parser.add_argument(
        "--phase", choices=("load", "build", "serve", "embed", "tune"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()

    if args.web_processes:
        from bench import serve_memory

        forwarded = ["--papers", str(args.papers), "--web-processes", args.web_processes]
        # The catalogue and index this benchmark's own phases keep in --workdir, made once for both.
        shared = ["--workdir", str(Path(args.workdir) / "catalogue")] if args.workdir else []
        forwarded += ["--clients", args.clients, *shared]
        forwarded += ["--queries", str(args.queries or 400)]
        return serve_memory.main([*forwarded, *(["--json"] if args.json else [])])
    args.queries = args.queries or 600

    if args.report:
        results = json.loads(Path(args.report).read_text())
        args.papers = results["papers"]
        args.queries = results["lexical"]["queries"]
        print(report(results, args))
        return 0
    if not args.workdir and not args.phase:
        workdir = Path(tempfile.mkdtemp(prefix="pr-latency-"))
        try:
            return run(args, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return run(args, Path(args.workdir))


def run(args, workdir: Path) -> int:
    workdir.mkdir(parents=True, exist_ok=True)
    if args.phase:
        result = {
            "load": lambda: phase_load(workdir, args.papers),
            "build": lambda: phase_build(workdir),
            "serve": lambda: phase_serve(workdir, args.queries),
            "embed": lambda: phase_embed(workdir, args.embed_papers),
            "tune": lambda: phase_tune(workdir, args.embed_papers),
        }[args.phase]()
        print(json.dumps(result))
        return 0

    if args.tune_embedding:
        tuned = _child("tune", workdir, ["--embed-papers", str(args.embed_papers)])
        print(
            json.dumps(tuned)
            if args.json
            else "\n".join(
                f"  {name:<20} {rate:6.1f} abstracts/s" for name, rate in tuned["abstracts_per_s"].items()
            )
        )
        return 0
    results: dict = {"papers": args.papers}
    catalogue = workdir / "catalogue"
    results.update(
        _cached(
            "load",
            catalogue,
            args.papers,
            args.rebuild,
            lambda: _child("load", catalogue, ["--papers", str(args.papers)]),
        )
    )
    results.update(
        _cached("build", catalogue, args.papers, args.rebuild, lambda: _child("build", catalogue, []))
    )
    results.update(_child("serve", catalogue, ["--queries", str(args.queries)]))
    if not args.skip_embedding:
        shutil.rmtree(workdir / "embedding", ignore_errors=True)  # embeds from an empty database
        results["embedding"] = _child(
            "embed", workdir / "embedding", ["--embed-papers", str(args.embed_papers)]
        )
    if args.json:
        print(json.dumps(results))
        return 0
    print(report(results, args))
    if "embedding" in results:
        e = results["embedding"]
        print(
            f"  embedding: pipeline {e['pipeline_papers_per_s']} abstracts/s, bare model "
            f"{e['model_papers_per_s']} abstracts/s on the same {e['passages']} windows: ratio "
            f"{e['pipeline_to_model']} (threads {e['threads']}, batch {e['batch']})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
