"""Search quality on a BEIR collection, through paperroute's own ingest, index and search.

The corpus becomes paperroute JSON Lines (each document gets a synthetic arXiv-style id, so
that documents sharing a title stay apart), is ingested with `paperroute.catalog` into a
throwaway SQLite database, indexed and embedded by `paperroute.search.sync()`, and every query
is run through `paperroute.search.search()` in each mode, 100 results deep. Printed:
nDCG@10, MAP (over those 100), Recall@100 and MRR@10 per mode.

Usage: bench/search_quality.py [--data ../shared/data/scifact] [--split test] [--json]
                               [--workdir DIR] [--param fusion.dense_weight=0.6 ...]
--workdir keeps the database and index, so a second run (another split, other parameters)
skips the embedding. Tune --param values on a train split only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.beir import evaluate, load_corpus, load_qrels, load_queries  # noqa: E402

MODES = ("lexical", "semantic", "hybrid")
DEPTH = 100


def doc_id(number: int) -> str:
    """A valid new-style arXiv id for the n-th document (9001.00000, 9001.00001, …)."""
    return f"{9001 + number // 100_000}.{number % 100_000:05d}"


def to_jsonl(corpus: list[dict], path: Path) -> dict[str, str]:
    """Write the corpus as paperroute JSON Lines; returns paper key -> corpus id."""
    keys = {}
    with open(path, "w", encoding="utf-8") as out:
        for number, doc in enumerate(corpus):
            key = doc_id(number)
            keys[key] = str(doc["_id"])
            text = doc.get("text") or ""
            title = (doc.get("title") or "").strip() or " ".join(text.split()[:12]) or key
            authors = (doc.get("metadata") or {}).get("authors") or []
            out.write(json.dumps({"id": key, "title": title, "abstract": text,
                                  "authors": [a for a in authors if isinstance(a, str)]}) + "\n")
    return keys


def setup(workdir: Path) -> None:
    os.environ["PAPERROUTE_DATA_DIR"] = str(workdir)
    os.environ["PAPERROUTE_DATABASE_URL"] = ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperroute.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def ingest(corpus: list[dict], workdir: Path, embed: bool) -> tuple[dict[str, str], dict]:
    """Load the corpus and index it; returns key -> corpus id and what indexing cost."""
    from paperroute import search
    from paperroute.catalog.harvest import Request, run
    from paperroute.catalog.ingest import Importer
    from paperroute.catalog.sources.fetch import PoliteClient
    from paperroute.progress import counter

    jsonl = workdir / "corpus.jsonl"
    keys = to_jsonl(corpus, jsonl)
    started = time.perf_counter()
    summary = run(Request(source="jsonl", input=str(jsonl)), client=PoliteClient(delay=0, timeout=1),
                  importer=Importer("jsonl"), log=lambda m: print(m, file=sys.stderr))
    ingest_s = time.perf_counter() - started
    if summary.skipped:
        print(f"warning: {len(summary.skipped)} documents skipped: {summary.skipped[0].reason}",
              file=sys.stderr)
    started = time.perf_counter()
    report = search.sync(progress=counter, embed=embed)
    index_s = time.perf_counter() - started
    print(report.line(), file=sys.stderr)
    cost = {"ingest_s": round(ingest_s, 1), "index_s": round(index_s, 1),
            "embedded": report.embedded}
    if report.embedded:
        cost["papers_per_s"] = round(report.embedded / index_s, 1)
    return keys, cost


def apply_params(pairs: list[str]) -> None:
    """Override tuning parameters: fusion.NAME=V, pooling.NAME=V, lexical.NAME=V."""
    from paperroute.search import lexical, service

    for pair in pairs:
        name, _, raw = pair.partition("=")
        group, _, field = name.partition(".")
        value = json.loads(raw) if raw[:1] in "0123456789-tf[" else raw
        if group == "fusion":
            service.FUSION = replace(service.FUSION, **{field: value})
        elif group == "pooling":
            service.POOLING = replace(service.POOLING, **{field: value})
        elif group == "lexical":
            lexical.DEFAULT_PARAMS = replace(lexical.DEFAULT_PARAMS, **{field: value})
        else:
            raise SystemExit(f"unknown parameter {name!r}: use fusion.*, pooling.* or lexical.*")


def run_queries(queries: dict[str, str], keys: dict[str, str], mode: str,
                depth: int = DEPTH) -> tuple[dict, float]:
    from paperroute import search

    ranked, started = {}, time.perf_counter()
    for qid, text in queries.items():
        hits = search.search(text, mode=mode, limit=depth).hits
        ranked[qid] = [keys[h.key] for h in hits if h.key in keys]
    return ranked, (time.perf_counter() - started) / max(len(queries), 1) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "scifact"),
                        help="a BEIR-layout folder (default ../shared/data/scifact)")
    parser.add_argument("--split", default="test", help="qrels split to score (default test)")
    parser.add_argument("--json", action="store_true", help="print {mode: {metric: value}}")
    parser.add_argument("--workdir", help="keep the database and index here (reused if present)")
    parser.add_argument("--param", action="append", default=[], help="override, e.g. fusion.dense_weight=0.6")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--depth", type=int, default=DEPTH,
                        help="results asked for per query (default 100; Recall@100 needs 100)")
    args = parser.parse_args()

    data = Path(args.data)
    missing = [p for p in ("corpus.jsonl", "queries.jsonl", f"qrels/{args.split}.tsv")
               if not (data / p).exists()]
    if missing:
        print(f"search_quality: collection missing at {data} (no {', '.join(missing)}); "
              "get the BEIR files or pass --data DIR", file=sys.stderr)
        return 2
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="pr-quality-"))
    workdir.mkdir(parents=True, exist_ok=True)
    setup(workdir)
    apply_params(args.param)
    corpus = load_corpus(data)
    from paperroute.catalog.models import Paper

    if Paper.objects.count() == len(corpus):
        keys = {doc_id(n): str(doc["_id"]) for n, doc in enumerate(corpus)}
        from paperroute import search

        report = search.sync(embed=args.modes != "lexical")
        cost = {"reused_workdir": str(workdir), "embedded": report.embedded}
    else:
        keys, cost = ingest(corpus, workdir, embed=args.modes != "lexical")
    qrels = load_qrels(data, args.split)
    queries = {qid: text for qid, text in load_queries(data).items() if qid in qrels}

    results, timing = {}, {}
    for mode in args.modes.split(","):
        ranked, per_query_ms = run_queries(queries, keys, mode, args.depth)
        results[mode] = evaluate(ranked, qrels)
        timing[mode] = round(per_query_ms, 1)
    if args.json:
        print(json.dumps(results))
        return 0
    print(f"{data.name} ({args.split}): {len(corpus)} documents, {len(queries)} queries; {cost}")
    print(f"{'mode':<10}{'nDCG@10':>9}{'MAP':>8}{'R@100':>8}{'MRR@10':>8}{'ms/query':>10}")
    for mode, metrics in results.items():
        print(f"{mode:<10}{metrics['ndcg@10']:>9.4f}{metrics['map']:>8.4f}{metrics['recall@100']:>8.4f}"
              f"{metrics['mrr@10']:>8.4f}{timing[mode]:>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
