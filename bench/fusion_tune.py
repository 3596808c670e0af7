#!/usr/bin/env python3
"""Try fusion settings on the fusion inputs bench/search_quality.py --dump saved, without searching.

Every query's candidates (both sides scored for each) were captured from
`paperroute.search.search()`, so re-fusing them here gives the ranking hybrid search would give
with other settings (before service.py's relevance floor, which keeps the order and only cuts
the tail). Query-dependent weighting is tried by picking a dense weight per query and calling
`hybrid.fuse` with it, so what is measured is what ships. A query that typo correction searched
again (its "fusions" in the dump is 2) is re-fused as typed, so figures here can differ from
search_quality.py's by those queries (59 of SciFact's 809 train queries had a correction tried;
the default setting scores 0.7465 here against 0.7462 through search()).

Usage: bench/fusion_tune.py DUMP --data ../shared/data/scifact --split train [--top 30]
                           [--family PREFIX ...] [--match REGEX]
       bench/fusion_tune.py DUMP --data DIR --split test --only NAME ...   # report, no search

Tune on a train split only; --only prints the named settings on any split, for the report.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.beir import evaluate, load_qrels  # noqa: E402
from paperroute.search.hybrid import FusionParams, fuse  # noqa: E402

DEPTH = 100
# The fusion before per-query weights: BM25/max + cosine, 0.6 dense for every query.
CURRENT = FusionParams(method="weighted", norm="max", dense_weight=0.6)


# -- per-query features ---------------------------------------------------------------------


def _top(scores: dict[int, float], k: int) -> list[float]:
    return sorted(scores.values(), reverse=True)[:k]


def features(row: dict, k: int) -> dict[str, float]:
    """What a per-query weight may look at: each side's score drop, entropy, the query's terms."""
    lex, dense = row["lexical"], row["dense"]
    ls, ds = _top(lex, k), _top(dense, k)
    top_l = ls[0] if ls and ls[0] > 0 else 1.0
    out = {
        "lex_gap": (ls[0] - ls[-1]) / top_l if ls else 0.0,  # relative BM25 drop, 1..k
        "dense_gap": (ds[0] - ds[-1]) if ds else 0.0,  # cosine drop, 1..k
        "lex_gap2": (ls[0] - ls[1]) / top_l if len(ls) > 1 else 0.0,
        "dense_gap2": (ds[0] - ds[1]) if len(ds) > 1 else 0.0,
        "dense_top": ds[0] if ds else 0.0,
    }
    terms = row.get("terms", {})
    n = max(row.get("papers", 1), 1)
    idfs = [math.log(1 + (n - df + 0.5) / (df + 0.5)) for _, df in terms.values()]
    out["terms"] = float(len(terms))
    out["idf_mean"] = sum(idfs) / len(idfs) / math.log(1 + n) if idfs else 0.0
    out["idf_max"] = max(idfs) / math.log(1 + n) if idfs else 0.0
    out["unknown"] = float(sum(1 for _, df in terms.values() if df == 0))
    return out


def entropy_conf(scores: list[float], temperature: float) -> float:
    """1 - normalised entropy of softmax(scores / T): 1 when one result stands out, 0 when flat."""
    if len(scores) < 2:
        return 0.0
    top = max(scores)
    weights = [math.exp((s - top) / temperature) for s in scores]
    total = sum(weights)
    h = -sum(w / total * math.log(w / total) for w in weights if w > 0)
    return 1.0 - h / math.log(len(scores))


# -- the settings tried -----------------------------------------------------------------------


def clip(w: float, low: float = 0.05, high: float = 0.95) -> float:
    return min(high, max(low, w))


def settings() -> dict[str, tuple[FusionParams, object]]:
    """name -> (params, per-query weight function or None for the params' own weight)."""
    out: dict[str, tuple[FusionParams, object]] = {"default": (FusionParams(), None)}
    for norm in ("max", "minmax", "zscore"):
        for w in [x / 100 for x in range(30, 91, 5)]:
            out[f"static {norm} w={w:.2f}"] = (replace(CURRENT, norm=norm, dense_weight=w), None)
    for k in (5, 10, 20, 30, 60, 100):
        for w in (0.4, 0.5, 0.6, 0.7):
            out[f"rrf k={k} w={w:.1f}"] = (
                replace(CURRENT, method="rrf", rrf_k=float(k), dense_weight=w),
                None,
            )
    # Score drop 1..k on each side: the sharper side gets more weight.
    for k in (5, 10, 20):
        for w0 in (0.5, 0.55, 0.6, 0.65, 0.7, 0.75):
            for gamma in (3.0, 4.0, 5.0, 6.0, 8.0):
                for beta in (1.5, 2.0):

                    def linear(f, w0=w0, gamma=gamma, beta=beta):
                        return clip(w0 + beta * (gamma * f["dense_gap"] - f["lex_gap"]))

                    out[f"gap-linear k={k} w0={w0} g={gamma} b={beta}"] = (CURRENT, (k, linear))
                for beta in (0.25, 0.5, 1.0, 1.5):
                    for low, high in ((0.3, 0.9), (0.4, 0.9), (0.5, 0.9)):

                        def bounded(f, w0=w0, gamma=gamma, beta=beta, low=low, high=high):
                            return clip(w0 + beta * (gamma * f["dense_gap"] - f["lex_gap"]), low, high)

                        out[f"gap-bounded k={k} w0={w0} g={gamma} b={beta} [{low},{high}]"] = (
                            CURRENT,
                            (k, bounded),
                        )
            # The cosine drop as a share of the best cosine: scale-free on both sides.
            for gamma in (1.0, 1.5, 2.0, 3.0):
                for beta in (0.25, 0.5, 1.0, 1.5):

                    def relative(f, w0=w0, gamma=gamma, beta=beta):
                        rel = f["dense_gap"] / f["dense_top"] if f["dense_top"] > 0 else 0.0
                        return clip(w0 + beta * (gamma * rel - f["lex_gap"]))

                    out[f"gap-relative k={k} w0={w0} g={gamma} b={beta}"] = (CURRENT, (k, relative))
    # The ratio alone (alpha 1), finer: one scale and the depth k it looks at.
    for k in (5, 10, 15, 20, 30):
        for gamma in (4.0, 5.0, 6.0, 7.0, 8.0, 10.0, 12.0):
            for low, high in ((0.05, 0.95), (0.3, 0.9), (0.4, 0.9)):

                def pure(f, gamma=gamma, low=low, high=high):
                    d, lx = gamma * f["dense_gap"], f["lex_gap"]
                    return clip(d / (d + lx) if d + lx > 0 else 0.6, low, high)

                out[f"gap-ratio k={k} g={gamma} [{low},{high}]"] = (CURRENT, (k, pure))
    for k in (5, 10, 20):
        for w0 in (0.5, 0.55, 0.6, 0.65, 0.7):
            for gamma in (1.0, 2.0, 3.0, 4.0, 6.0):
                for beta in (0.25, 0.5, 1.0):

                    def linear(f, w0=w0, gamma=gamma, beta=beta):
                        return clip(w0 + beta * (gamma * f["dense_gap"] - f["lex_gap"]))

                    out[f"gap-linear k={k} w0={w0} g={gamma} b={beta}"] = (CURRENT, (k, linear))
                for alpha in (0.25, 0.5, 0.75, 1.0):
                    for gamma in (1.0, 2.0, 3.0, 4.0, 6.0):

                        def ratio(f, w0=w0, gamma=gamma, alpha=alpha):
                            d, lx = gamma * f["dense_gap"], f["lex_gap"]
                            r = d / (d + lx) if d + lx > 0 else w0
                            return clip((1 - alpha) * w0 + alpha * r)

                        out[f"gap-ratio k={k} w0={w0} g={gamma} a={alpha}"] = (CURRENT, (k, ratio))
    # Entropy of each side's top-k scores (BM25 as a share of the best; cosine as it is).
    for k in (10, 20):
        for w0 in (0.55, 0.6, 0.65):
            for t_lex in (0.05, 0.1, 0.2):
                for t_dense in (0.01, 0.02, 0.05):
                    for beta in (0.25, 0.5, 1.0):

                        def ent(f, w0=w0, beta=beta):
                            return clip(w0 + beta * (f["dense_conf"] - f["lex_conf"]))

                        out[f"entropy k={k} w0={w0} tl={t_lex} td={t_dense} b={beta}"] = (
                            CURRENT,
                            (k, ent, t_lex, t_dense),
                        )
    # The query's own words: length and rarity.
    for w0 in (0.5, 0.55, 0.6, 0.65, 0.7):
        for beta in (-0.1, -0.05, 0.05, 0.1):

            def length(f, w0=w0, beta=beta):
                return clip(w0 + beta * (math.log(max(f["terms"], 1)) - math.log(8)))

            out[f"length w0={w0} b={beta}"] = (CURRENT, (10, length))
        for beta in (-1.0, -0.5, -0.25, 0.25, 0.5):
            for name in ("idf_mean", "idf_max"):

                def rarity(f, w0=w0, beta=beta, name=name):
                    return clip(w0 + beta * (f[name] - 0.5))

                out[f"{name} w0={w0} b={beta}"] = (CURRENT, (10, rarity))
        for beta in (0.05, 0.1, 0.2):

            def unknown(f, w0=w0, beta=beta):
                return clip(w0 + beta * f["unknown"])

            out[f"unknown-words w0={w0} b={beta}"] = (CURRENT, (10, unknown))
    return out


# -- running them ------------------------------------------------------------------------------


def load(path: Path) -> tuple[dict[int, str], dict[str, dict]]:
    dump = json.loads(path.read_text())
    ids = {int(p): c for p, c in dump["ids"].items()}
    rows = dump["queries"]
    for row in rows.values():
        if "lexical" in row:
            row["lexical"] = {int(p): s for p, s in row["lexical"].items()}
            row["dense"] = {int(p): s for p, s in row["dense"].items()}
    return ids, rows


def rank(rows: dict[str, dict], ids: dict[int, str], params: FusionParams, weigh) -> dict[str, list[str]]:
    run = {}
    cache: dict[tuple, dict] = {}
    for qid, row in rows.items():
        if "lexical" not in row:  # a query with no scoring words: lexical search only
            run[qid] = row["ranked"]
            continue
        p = params
        if weigh is not None:
            k, fn, *temps = weigh
            key = (qid, k, *temps)
            if key not in cache:
                f = features(row, k)
                if temps:
                    f["lex_conf"] = entropy_conf(
                        [s / (max(row["lexical"].values()) or 1.0) for s in _top(row["lexical"], k)], temps[0]
                    )
                    f["dense_conf"] = entropy_conf(_top(row["dense"], k), temps[1])
                cache[key] = f
            p = replace(params, dense_weight=fn(cache[key]))
        fused = fuse(row["lexical"], row["dense"], p)[:DEPTH]
        run[qid] = [ids[pid] for pid, _ in fused if pid in ids]
    return run


def side_run(rows: dict[str, dict], ids: dict[int, str], side: str) -> dict[str, list[str]]:
    """One retriever alone: its own candidates by its own score (what its search mode ranks)."""
    run = {}
    for qid, row in rows.items():
        if "lexical" not in row:
            run[qid] = row["ranked"]
            continue
        ordered = sorted(row[side].items(), key=lambda item: (-item[1], item[0]))[:DEPTH]
        run[qid] = [ids[pid] for pid, _ in ordered if pid in ids]
    return run


def per_query_ndcg(run: dict[str, list[str]], qrels: dict) -> dict[str, float]:
    return {qid: evaluate({qid: run.get(qid, [])}, {qid: rels})["ndcg@10"] for qid, rels in qrels.items()}


def randomisation_p(a: dict[str, float], b: dict[str, float], trials: int = 10_000) -> float:
    """Two-sided paired randomisation test on the mean difference (Smucker et al. 2007)."""
    diffs = [a[q] - b[q] for q in a]
    observed = abs(sum(diffs))
    rng = random.Random(0)
    hits = sum(
        1
        for _ in range(trials)
        if abs(sum(d if rng.random() < 0.5 else -d for d in diffs)) >= observed - 1e-12
    )
    return (hits + 1) / (trials + 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dump")
    parser.add_argument("--data", required=True)
    parser.add_argument("--split", default="train")
    parser.add_argument("--top", type=int, default=30, help="print the best N settings")
    parser.add_argument("--only", action="append", default=[], help="just these settings, by name")
    parser.add_argument(
        "--family",
        action="append",
        default=[],
        help="just the settings whose name starts with this (repeatable)",
    )
    parser.add_argument("--match", help="just the settings whose name matches this regex")
    args = parser.parse_args()

    ids, rows = load(Path(args.dump))
    qrels = load_qrels(Path(args.data), args.split)
    rows = {q: r for q, r in rows.items() if q in qrels}
    every = settings()
    names = args.only or [
        n
        for n in every
        if (not args.family or n.startswith(tuple(args.family)))
        and (not args.match or re.search(args.match, n))
    ]
    missing = [n for n in names if n not in every]
    if missing:
        parser.error(f"no setting named {missing[0]!r}")
    base_run = rank(rows, ids, CURRENT, None)
    base = per_query_ndcg(base_run, qrels)
    baselines = {
        "lexical": evaluate(side_run(rows, ids, "lexical"), qrels),
        "semantic": evaluate(side_run(rows, ids, "dense"), qrels),
        "rrf": evaluate(rank(rows, ids, *every["rrf k=60 w=0.5"]), qrels),
    }
    # Recall@100 to beat: the best of lexical, semantic and plain RRF on this split.
    bar = max(m["recall@100"] for m in baselines.values())
    results = []
    for name in names:
        params, weigh = every[name]
        run = rank(rows, ids, params, weigh)
        results.append((name, evaluate(run, qrels), run))
    if not args.only:
        results.sort(key=lambda r: -r[1]["ndcg@10"])
        best: dict[str, tuple] = {}
        for r in results:
            best.setdefault(r[0].split()[0], r)
        results = results[: args.top] + [r for r in best.values() if r not in results[: args.top]]
    print(
        f"{len(rows)} queries ({args.split}); fixed weight 0.6 (the fusion before per-query "
        f"weights) nDCG@10 {evaluate(base_run, qrels)['ndcg@10']:.4f}; /fixed: nDCG@10 against "
        "it, same run; p: paired randomisation test against it; "
        f"R: Recall@100 at least the best baseline's ({bar:.4f})"
    )
    width = max(len(n) for n, _, _ in results) + 1
    base_ndcg = evaluate(base_run, qrels)["ndcg@10"]
    print(f"{'setting':<{width}}{'nDCG@10':>9}{'/fixed':>8}{'MAP':>8}{'R@100':>8}{'MRR@10':>8}{'p':>8}  R")
    for name, m in baselines.items():
        print(
            f"{'= ' + name:<{width}}{m['ndcg@10']:>9.4f}{m['ndcg@10'] / base_ndcg:>8.3f}"
            f"{m['map']:>8.4f}{m['recall@100']:>8.4f}{m['mrr@10']:>8.4f}"
        )
    for name, m, run in results:
        p = randomisation_p(per_query_ndcg(run, qrels), base, 2000)
        ok = "yes" if m["recall@100"] >= bar else "no"
        print(
            f"{name:<{width}}{m['ndcg@10']:>9.4f}{m['ndcg@10'] / base_ndcg:>8.3f}{m['map']:>8.4f}"
            f"{m['recall@100']:>8.4f}{m['mrr@10']:>8.4f}{p:>8.3f}  {ok}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
