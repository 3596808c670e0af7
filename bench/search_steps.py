#!/usr/bin/env python3
"""Where a search's time goes: each step of `paperroute.search.search` timed, per query.

On a catalogue that bench/search_latency.py built (--workdir of that run), the latency
benchmark's queries are run through `search.search(q, mode=M, limit=20)` with the service's
steps wrapped in timers (perf_counter): the query's embedding, the vector search, the keyword
searches, the cross-scoring of candidates, fusion, the relevance floor and its counts, the
spelling check, and the result rows with their snippets. Steps nest (the floor calls the
keyword index), so each is reported inclusive; `own` is the search's time outside every
outermost step. Means and p50s are over all queries (a step a query skips counts 0 ms).

Usage: bench/search_steps.py --workdir DIR [--mode hybrid] [--queries 600] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_times: dict[str, float] = defaultdict(float)
_depth = [0]
_outer = [0.0]


def _wrap(owner, name: str, label: str) -> None:
    inner = getattr(owner, name)

    def timed(*args, **kwargs):
        _depth[0] += 1
        started = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent = (time.perf_counter() - started) * 1000
            _depth[0] -= 1
            _times[label] += spent
            if _depth[0] == 0:
                _outer[0] += spent

    setattr(owner, name, timed)


def instrument(index) -> None:
    from paperroute.search import service
    from paperroute.search.lexical import LexicalIndex
    from paperroute.search.vectorstore import VectorStore

    embedder = service._embedder()
    _wrap(embedder, "embed_queries", "embed query")
    for name, label in (
        ("_semantic", "semantic side (_semantic)"),
        ("_add_cosines", "cosines of keyword hits"),
        ("fuse", "fusion"),
        ("_floor", "relevance floor (_floor)"),
        ("_estimate", "  floor: _estimate"),
        ("_corrected", "spelling (_corrected)"),
        ("_without_rarest_word", "fewer words"),
        ("_hits", "result rows + snippets (_hits)"),
        ("snippet", "  rows: snippet"),
        ("spans", "  rows: title spans"),
    ):
        _wrap(service, name, label)
    for name, label in (
        ("candidates", "  semantic: candidates (graph walk)"),
        ("score_papers", "  vectors: exact pooled scores"),
        ("mask", "  semantic: filter mask"),
    ):
        _wrap(VectorStore, name, label)
    for name, label in (
        ("search", "keyword search (LexicalIndex.search)"),
        ("scores_for", "BM25 of dense-only candidates"),
        ("holding_all", "  floor: holding_all"),
        ("count_all", "  floor/fewer: count_all"),
        ("papers_with", "  spelling/fewer: papers_with"),
        ("rows", "  rows: stored rows"),
        ("matching", "  phrase/author matching"),
        ("terms", "query terms (analyzer)"),
        ("word_clauses", "word clauses"),
    ):
        _wrap(LexicalIndex, name, label)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--mode", default="hybrid")
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from bench.search_latency import _django

    _django(Path(args.workdir) / "catalogue")
    from bench.synth_papers import make_catalogue, queries
    from paperroute import search
    from paperroute.search import service

    texts = queries(make_catalogue(), args.queries)
    for text in texts[:20]:
        search.search(text, mode=args.mode, limit=20)
    instrument(service.open_index())
    per_step: dict[str, list[float]] = defaultdict(list)
    totals, own = [], []
    loadavg_before = list(os.getloadavg())
    for text in texts:
        _times.clear()
        _outer[0] = 0.0
        started = time.perf_counter()
        search.search(text, mode=args.mode, limit=20)
        total = (time.perf_counter() - started) * 1000
        totals.append(total)
        own.append(total - _outer[0])
        for label, spent in _times.items():
            per_step[label].append(spent)
    n = len(texts)
    rows = {
        label: {
            "mean_ms": round(sum(v) / n, 3),
            "queries": len(v),
            "p50_ms": round(float(np.percentile(v + [0.0] * (n - len(v)), 50)), 3),
        }
        for label, v in per_step.items()
    }
    out = {
        "mode": args.mode,
        "queries": n,
        "total_p50_ms": round(float(np.percentile(totals, 50)), 2),
        "total_mean_ms": round(float(np.mean(totals)), 2),
        "own_mean_ms": round(float(np.mean(own)), 3),
        "steps": dict(sorted(rows.items(), key=lambda item: -item[1]["mean_ms"])),
        "loadavg_before": loadavg_before,
        "loadavg_after": list(os.getloadavg()),
    }
    if args.json:
        print(json.dumps(out))
        return 0
    print(
        f"{args.mode}: {n} queries, total p50 {out['total_p50_ms']} ms, mean {out['total_mean_ms']} ms "
        f"(load average {loadavg_before[0]:.2f} before, {out['loadavg_after'][0]:.2f} after)"
    )
    for label, row in out["steps"].items():
        print(
            f"  {label:<42} mean {row['mean_ms']:7.3f} ms  p50 {row['p50_ms']:7.3f} ms  "
            f"({row['queries']} queries)"
        )
    print(f"  {'search() outside these steps':<42} mean {out['own_mean_ms']:7.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
