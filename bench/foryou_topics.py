#!/usr/bin/env python3
"""What finding a followed topic's papers by their words costs For you.

On a catalogue that bench/search_latency.py built (--workdir of that run), readers who follow
three topics each (the first words of the latency benchmark's queries, so rare and common words
alike) have the newest 2,000 and 5,000 papers ranked for them by `foryou.rank`, as the For you
tab and the digest do: once as shipped, where a paper whose title or abstract holds every word
of a topic counts as about it, and once, in the same run and alternating reader by reader, with
the words step left out (the cosine alone, as before), which is the baseline. Also timed alone:
`search.papers_about` for one topic, and how many papers of the pool it finds.

Usage: bench/foryou_topics.py --workdir DIR [--readers 100] [--pools 2000,5000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def topics_of(texts: list[str], readers: int) -> list[list[str]]:
    """Three topics a reader: each query's first one to three plain words."""
    plain = []
    for i, text in enumerate(texts):
        words = [w for w in text.split() if ":" not in w and not w.startswith(("-", '"'))]
        if words:
            plain.append(" ".join(words[: 1 + i % 3]))
    return [plain[3 * r : 3 * r + 3] for r in range(readers) if len(plain[3 * r : 3 * r + 3]) == 3]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--readers", type=int, default=100)
    parser.add_argument("--pools", default="2000,5000")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from bench.search_latency import _django

    _django(Path(args.workdir) / "catalogue")
    from bench.synth_papers import make_catalogue, queries
    from paperroute import search
    from paperroute.catalog.models import Paper
    from paperroute.library import follows, foryou

    readers = topics_of(queries(make_catalogue(), 3 * args.readers + 50), args.readers)
    search.embed_texts(["warm the query model up"])
    newest = list(Paper.objects.order_by("-pk").values_list("pk", flat=True)[:2000])
    for topics in readers[:10]:  # the keyword index's pages into memory, as on a running site
        for topic in topics:
            search.papers_about(topic, newest)
    loadavg_before = list(os.getloadavg())
    results = []
    for size in [int(n) for n in args.pools.split(",")]:
        pool = foryou.Pool(list(Paper.objects.order_by("-pk").values_list("pk", flat=True)[:size]))
        shipped, alone, words, found = [], [], [], []
        for i, topics in enumerate(readers):
            signals = foryou.Signals(following=follows.Following(topics=topics))
            search.embed_texts(topics)  # the query model keeps them: both ways get them alike
            for way in ("shipped", "alone") if i % 2 else ("alone", "shipped"):
                pool._about.clear()
                about = pool.about
                if way == "alone":
                    pool.about = lambda topic: set()  # type: ignore[method-assign]
                started = time.perf_counter()
                foryou.rank(None, pool, signals=signals, limit=50)
                (shipped if way == "shipped" else alone).append((time.perf_counter() - started) * 1000)
                pool.about = about  # type: ignore[method-assign]
            started = time.perf_counter()
            held = search.papers_about(topics[0], pool.ids)
            words.append((time.perf_counter() - started) * 1000)
            found.append(len(held))
        p50 = {name: float(np.percentile(v, 50)) for name, v in (("shipped", shipped), ("alone", alone))}
        results.append(
            {
                "pool": size,
                "readers": len(readers),
                "rank_p50_ms": round(p50["shipped"], 2),
                "rank_p99_ms": round(float(np.percentile(shipped, 99)), 2),
                "baseline_rank_p50_ms": round(p50["alone"], 2),
                "baseline_rank_p99_ms": round(float(np.percentile(alone, 99)), 2),
                "ratio_p50": round(p50["shipped"] / p50["alone"], 2),
                "papers_about_p50_ms": round(float(np.percentile(words, 50)), 3),
                "papers_about_p99_ms": round(float(np.percentile(words, 99)), 3),
                "papers_found_p50": float(np.percentile(found, 50)),
                "papers_found_max": max(found),
            }
        )
    out = {"results": results, "loadavg_before": loadavg_before, "loadavg_after": list(os.getloadavg())}
    if args.json:
        print(json.dumps(out))
        return 0
    for row in results:
        print(
            f"pool {row['pool']:,}, {row['readers']} readers of 3 topics: "
            f"For you p50 {row['rank_p50_ms']} ms "
            f"(p99 {row['rank_p99_ms']}) against {row['baseline_rank_p50_ms']} ms "
            f"(p99 {row['baseline_rank_p99_ms']}) with the cosine alone: {row['ratio_p50']}x; "
            f"papers_about p50 {row['papers_about_p50_ms']} ms (p99 {row['papers_about_p99_ms']}), "
            f"finding {row['papers_found_p50']:.0f} papers (at most {row['papers_found_max']})"
        )
    print(f"load average {loadavg_before[0]:.2f} before, {out['loadavg_after'][0]:.2f} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
