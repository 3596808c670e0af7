#!/usr/bin/env python3
"""HNSW recall against exact search, and the graph walk's cost, for efSearch choices.

On a catalogue that bench/search_latency.py built (--workdir of that run), for three query sets:
  topical   query vectors made like a paper's (a topic's sub-centroid plus noise) but not in the
            catalogue, unfiltered: what a real query near some papers looks like on this data.
            This is the set that measures recall;
  filtered  the same kind of vectors with the cat: and year: filters of the latency benchmark's
            filtered queries (a fifth of its mix), applied as the store applies them: an exact
            scan of the rows left when a filter keeps at most 20,000, otherwise a graph walk
            restricted to them with efSearch widened;
  model     the latency benchmark's queries (bench/synth_papers.py) embedded by the real model,
            with their filters. Their vectors lie far from every synthetic cluster (the papers'
            vectors are made, not embedded), where all scores are nearly equal and the exact
            top 10 is noise, so recall here is low at any efSearch and says nothing about real
            queries; it is kept to show the walk's cost on such vectors.
For each efSearch value and each depth the search asks for (20 papers: semantic mode; 50:
hybrid mode's fusion candidates), the store's own search (`VectorStore.search`: graph walk for
GRAPH_ROWS (4) times as many rows as papers wanted, then exact re-scoring, with
vectorstore.EF_SEARCH set to the value) is compared with an exact search: every passage scored,
papers pooled by their best passage (the same pooling). Faiss never walks with efSearch below
the rows asked, so the efSearch used is max(EF_SEARCH, rows asked) (shown). recall@10: the
share of the exact top 10 papers in the search's first 10; recall@k: of the exact top k in the
k returned. Times are per query:
the faiss graph walk alone, and the whole store search. The baseline for the times is an exact
scan of all vectors for one query (float16 to float32, one BLAS thread), in the same process.
--rows R asks the graph for R rows a paper instead (2 was the store's choice with fp16 codes).
--graph-codes 8bit,fp16 builds, in memory, a graph over the same rows with each kind of code
the graph can store for its walk (8-bit over [-1, 1], as paperroute builds it now; fp16, as
before) and measures each in turn; the default measures the graph on disk.

--real DIR[,DIR...] measures on real vectors instead: the abstracts of BEIR-layout collections
(default: SciFact and CISI in ../shared/data) embedded by the real model into a store whose
passages are all in the graph, queried with their collections' real queries; recall@10 against
an exact search, for fp16 and 8-bit graphs and 2 and 4 rows a paper. Embedding takes a few
minutes; --vectors FILE keeps the vectors for the next run.

Usage: bench/hnsw_recall.py --workdir DIR [--queries 600] [--ef 16,24,32,48,64,96,128]
                            [--rows R] [--graph-codes 8bit,fp16] [--json]
       bench/hnsw_recall.py --real [DIR,...] [--vectors FILE]
       bench/hnsw_recall.py --report RESULTS.json    # the tables of an earlier --json run
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

DEPTHS = (20, 50)


def _query_sets(store, count: int) -> dict[str, tuple[np.ndarray, list]]:
    """name -> (query vectors, per query the allowed-rows mask or None)."""
    from bench.synth_papers import DIM, make_catalogue, queries
    from paperroute.search.filters import combine
    from paperroute.search.query import parse
    from paperroute.search.service import _embedder

    cat = make_catalogue()
    texts = queries(cat, count)
    vectors = _embedder().embed_queries(texts)
    masks = []
    for text in texts:
        filters = combine(parse(text))
        masks.append(
            None if filters.empty else store.mask(filters.first_day, filters.last_day, filters.categories)
        )
    rng = np.random.default_rng(99)
    centres = cat.centroids[rng.integers(len(cat.centroids), size=count)]
    noise = rng.standard_normal((count, DIM)).astype(np.float32)
    topical = centres + noise * np.float32(0.9 * 1.6 / np.sqrt(DIM))  # as a paper's passage
    topical /= np.linalg.norm(topical, axis=1, keepdims=True)
    filtered = [q for q, mask in enumerate(masks) if mask is not None]
    return {
        "topical": (topical, [None] * count),
        "filtered": (topical[filtered], [masks[q] for q in filtered]),
        "model": (vectors.astype(np.float32), masks),
    }


def _exact(store, vectors: np.ndarray, masks: list, k: int) -> tuple[list[list[int]], float]:
    """The exact top-k papers of each query (best passage per paper), and the ms one query's
    exact scan of all the vectors takes (timed on the first few queries, one at a time)."""
    from threadpoolctl import threadpool_limits

    from paperroute.search.vectorstore import Pooling

    keep = 4 * k  # passages kept per query: k papers need at most (passages a paper) * k
    best_rows = [np.zeros(0, np.int64) for _ in vectors]
    best_scores = [np.zeros(0, np.float32) for _ in vectors]
    with threadpool_limits(limits=None, user_api="blas"):
        for start in range(0, store.rows, 131_072):
            block = np.asarray(store.vectors[start : start + 131_072], dtype=np.float32)
            scores = block @ vectors.T  # (rows, queries)
            for q, mask in enumerate(masks):
                column = scores[:, q]
                allowed = store.alive[start : start + len(block)]
                if mask is not None:
                    allowed = allowed & mask[start : start + len(block)]
                column = np.where(allowed, column, -np.inf)
                top = np.argpartition(-column, min(keep, len(column) - 1))[:keep]
                top = top[np.isfinite(column[top])]
                rows = np.concatenate([best_rows[q], top + start])
                values = np.concatenate([best_scores[q], column[top]])
                order = np.argsort(-values)[:keep]
                best_rows[q], best_scores[q] = rows[order], values[order]
    out = []
    for q, rows in enumerate(best_rows):
        pids = np.unique(store.pid[rows])
        scores = store.score_papers(vectors[q][None, :], pids, Pooling())
        out.append([int(pids[i]) for i in np.argsort(-scores)[:k]])
    timed = []
    for q in range(min(5, len(vectors))):
        started = time.perf_counter()
        for begin in range(0, store.rows, 131_072):
            np.asarray(store.vectors[begin : begin + 131_072], dtype=np.float32) @ vectors[q]
        timed.append((time.perf_counter() - started) * 1000)
    return out, float(np.median(timed))


def measure(store, vectors: np.ndarray, masks: list, efs: list[int], rows_factor: float) -> dict:
    from paperroute.search import vectorstore

    exact = {k: _exact(store, vectors, masks, k)[0] for k in DEPTHS}
    table = {}
    saved = vectorstore.EF_SEARCH
    walk_calls: list[float] = []
    original = store._graph_search

    def timed_walk(query, k, allowed):
        started = time.perf_counter()
        result = original(query, int(round(k / vectorstore.GRAPH_ROWS * rows_factor)), allowed)
        walk_calls.append((time.perf_counter() - started) * 1000)
        return result

    store._graph_search = timed_walk
    try:
        for ef in efs:
            vectorstore.EF_SEARCH = ef
            for k in DEPTHS:
                walk_calls.clear()
                recalls, recalls10, totals = [], [], []
                for q, (vector, mask) in enumerate(zip(vectors, masks)):
                    started = time.perf_counter()
                    found = store.search(vector, k, mask)
                    totals.append((time.perf_counter() - started) * 1000)
                    truth = set(exact[k][q])
                    if truth:
                        recalls.append(len(truth & {pid for pid, _ in found}) / len(truth))
                        top = set(exact[k][q][:10])
                        recalls10.append(len(top & {pid for pid, _ in found[:10]}) / len(top))
                table[f"ef={ef} k={k}"] = {
                    "effective_ef": max(ef, int(round(k * rows_factor))),
                    "recall10": round(float(np.mean(recalls10)), 4),
                    "recall10_p5": round(float(np.percentile(recalls10, 5)), 3),
                    "recall": round(float(np.mean(recalls)), 4),
                    "recall_p5": round(float(np.percentile(recalls, 5)), 3),
                    "walk_p50_ms": round(float(np.percentile(walk_calls, 50)), 3),
                    "walk_p99_ms": round(float(np.percentile(walk_calls, 99)), 3),
                    "search_p50_ms": round(float(np.percentile(totals, 50)), 3),
                }
    finally:
        vectorstore.EF_SEARCH = saved
        store._graph_search = original
    return table


def _code_kind(codes: str) -> int:
    """faiss's scalar quantizer for a --graph-codes name."""
    import faiss

    return {"8bit": faiss.ScalarQuantizer.QT_8bit, "fp16": faiss.ScalarQuantizer.QT_fp16}[codes]


def _graph_with(store, codes: str):
    """A graph over the store's graph rows, built here with 8-bit or fp16 codes."""
    import faiss

    from paperroute.search import vectorstore

    qtype = _code_kind(codes)
    vectors = store.vectors[: store.graph_rows]
    started = time.perf_counter()
    graph = vectorstore._new_graph(qtype)
    for start in range(0, len(vectors), 65_536):
        graph.add(np.asarray(vectors[start : start + 65_536], dtype=np.float32))
    graph.hnsw.efSearch = vectorstore.EF_SEARCH
    code_bytes = faiss.downcast_index(graph.storage).code_size
    print(
        f"built a {codes} graph over {len(vectors):,} rows in {time.perf_counter() - started:.0f} s "
        f"({code_bytes} bytes of code a row)",
        file=sys.stderr,
    )
    return graph, code_bytes


def real_vectors(folders: list[Path], cache: Path | None) -> tuple[list[np.ndarray], np.ndarray]:
    """Each abstract's passage vectors and each query's vector, by the real model."""
    from bench.beir import load_corpus, load_queries
    from paperroute.search.embedder import shared

    if cache is not None and cache.exists():
        kept = np.load(cache, allow_pickle=True)
        return list(kept["passages"]), kept["queries"]
    papers, texts = [], []
    for folder in folders:
        if not (folder / "corpus.jsonl").exists():
            raise SystemExit(f"hnsw_recall: no BEIR collection at {folder} (corpus.jsonl missing)")
        papers += [(doc.get("title", ""), doc["text"]) for doc in load_corpus(folder)]
        texts += list(load_queries(folder).values())
    started = time.perf_counter()
    embedder = shared()
    passages = embedder.embed_papers(papers)
    queries = embedder.embed_queries(texts)
    print(
        f"embedded {len(papers):,} abstracts and {len(texts):,} queries in "
        f"{time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    if cache is not None:
        np.savez(cache, passages=np.array(passages, dtype=object), queries=queries)
    return passages, queries


def measure_real(passages: list[np.ndarray], queries: np.ndarray) -> list[dict]:
    """recall@10 of the store's search against an exact one, per graph code and walk width."""
    import tempfile

    from paperroute.search import vectorstore
    from paperroute.search.vectorstore import Pooling, VectorStore

    rows = []
    pids = np.arange(1, len(passages) + 1)
    truths = []
    saved = (vectorstore.TAIL_ROWS, vectorstore.GRAPH_ROWS, vectorstore._new_graph)
    try:
        for codes in ("fp16", "8bit"):
            qtype = _code_kind(codes)
            vectorstore.TAIL_ROWS = 1  # every passage in the graph
            vectorstore._new_graph = lambda qtype=qtype: saved[2](qtype)
            store = VectorStore(Path(tempfile.mkdtemp(prefix="pr-recall-")) / "vectors")
            store.begin()
            for pid, vectors in zip(pids, passages):
                store.put(int(pid), vectors, day=1, categories=["x"])
            store.commit()
            if not truths:
                for query in queries:
                    exact = store.score_papers(query[None, :], pids, Pooling())
                    truths.append(set(pids[np.argsort(-exact)[:10]].tolist()))
            for width in (2, 4):
                vectorstore.GRAPH_ROWS = width
                for k in DEPTHS:
                    found = [[pid for pid, _ in store.search(query, k)][:10] for query in queries]
                    recall = np.mean([len(t & set(f)) / 10 for t, f in zip(truths, found)])
                    rows.append({"codes": codes, "rows": width, "k": k, "recall10": round(float(recall), 4)})
    finally:
        vectorstore.TAIL_ROWS, vectorstore.GRAPH_ROWS, vectorstore._new_graph = saved
    return rows


def report(results: dict) -> str:
    """The results as Markdown tables, one per query set."""
    loads = {when: ", ".join(f"{v:.2f}" for v in results[f"loadavg_{when}"]) for when in ("before", "after")}
    lines = [
        f"HNSW recall against exact search: {results['rows']:,} passages ({results['graph_rows']:,} "
        f"in the graph), {results['queries']} queries a set, graph rows asked "
        f"{results['rows_factor']:g} x the papers wanted; efSearch in the code: "
        f"{results['ef_in_code']}; load average (1, 5, 15 min) before {loads['before']}, "
        f"after {loads['after']}"
    ]
    names = [key for key in results if isinstance(results[key], dict) and "table" in results[key]]
    for name in names:
        r = results[name]
        lines += [
            f"\n{name} queries ({r['filtered_queries']} of them filtered); baseline: an exact scan "
            f"of all vectors, {r['exact_ms']} ms a query\n",
            "| efSearch set | efSearch used (unfiltered) | papers asked (k) | recall@10 | recall@k "
            "(5th pct) | graph walk p50 / p99 | store search p50 | walk p50 vs. exact scan |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for key, row in r["table"].items():
            ef, k = (int(part.split("=")[1]) for part in key.split())
            lines.append(
                f"| {ef} | {row['effective_ef']} | {k} | {row['recall10']:.4f} | "
                f"{row['recall']:.4f} ({row['recall_p5']:.2f}) | {row['walk_p50_ms']:.3f} / "
                f"{row['walk_p99_ms']:.3f} ms | {row['search_p50_ms']:.3f} ms | "
                f"{row['walk_p50_ms'] / r['exact_ms']:.3f}× |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", help="a bench/search_latency.py --workdir")
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--ef", default="16,24,32,48,64,96,128")
    parser.add_argument(
        "--rows", type=float, help="graph rows asked per paper wanted (default: the store's GRAPH_ROWS)"
    )
    parser.add_argument(
        "--graph-codes", metavar="KINDS", help="8bit,fp16: build a graph with each kind of code here"
    )
    parser.add_argument(
        "--real",
        nargs="?",
        const=",".join(str(ROOT.parent / "shared" / "data" / name) for name in ("scifact", "cisi")),
        metavar="DIRS",
        help="real vectors: BEIR-layout folders, comma-separated (default SciFact and CISI)",
    )
    parser.add_argument("--vectors", help="with --real: keep the embedded vectors in this .npz file")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--report", metavar="JSON", help="print the tables of an earlier --json run's file")
    args = parser.parse_args()
    if args.report:
        results = json.loads(Path(args.report).read_text())
        results.setdefault("queries", args.queries)
        print(report(results))
        return 0
    if args.real:
        from paperroute.search import vectorstore

        folders = [Path(folder) for folder in args.real.split(",")]
        passages, queries = real_vectors(folders, Path(args.vectors) if args.vectors else None)
        rows = measure_real(passages, queries)
        if args.json:
            print(json.dumps(rows))
            return 0
        print(
            f"Real vectors: {sum(len(p) for p in passages):,} passages of {len(passages):,} abstracts, "
            f"all in the graph; {len(queries):,} real queries; efSearch {vectorstore.EF_SEARCH}\n"
        )
        print("| graph codes | rows a paper | papers asked (k) | recall@10 |\n|---|---|---|---|")
        for row in rows:
            print(f"| {row['codes']} | {row['rows']} | {row['k']} | {row['recall10']:.4f} |")
        return 0
    if not args.workdir:
        parser.error("--workdir is required (or --report, or --real)")

    from bench.search_latency import _django

    catalogue = Path(args.workdir) / "catalogue"
    _django(catalogue)
    from paperroute.search.service import open_index

    store = open_index().vectors
    efs = [int(v) for v in args.ef.split(",")]
    from paperroute.search import vectorstore

    results = {
        "queries": args.queries,
        "rows": store.rows,
        "graph_rows": store.graph_rows,
        "rows_factor": args.rows or vectorstore.GRAPH_ROWS,
        "ef_in_code": vectorstore.EF_SEARCH,
        "loadavg_before": list(os.getloadavg()),
    }
    query_sets = _query_sets(store, args.queries)
    for codes in args.graph_codes.split(",") if args.graph_codes else [None]:
        if codes is not None:
            store.graph, results[f"code_bytes_{codes}"] = _graph_with(store, codes)
        for name, (vectors, masks) in query_sets.items():
            _, exact_ms = _exact(store, vectors[:5], masks[:5], 20)
            key = name if codes is None else f"{name}, {codes} graph"
            results[key] = {
                "exact_ms": round(exact_ms, 1),
                "table": measure(store, vectors, masks, efs, results["rows_factor"]),
                "filtered_queries": sum(m is not None for m in masks),
            }
    results["loadavg_after"] = list(os.getloadavg())
    if args.json:
        print(json.dumps(results))
        return 0
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
