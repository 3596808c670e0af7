#!/usr/bin/env python3
"""For-you ranking quality on BEIR collections: readers simulated from relevance judgments.

Protocol, the same for every method. The judgments of every qrels split present are pooled
(SciFact has few relevant documents per query; CISI and ADI have only a test split). For each
query with at least 4 relevant documents and each k in 1, 3, 5 with more than k relevant ones,
a seeded random k of them become the reader's saved papers, 5 random non-relevant documents
become "not interested", and every other document of the corpus is a candidate. The remaining
relevant documents are the judgments: nDCG@10, recall@10 and MRR@10 over the candidates'
ranking, averaged over the profiles. `--draws N` (default 10) repeats the draw N times per
query with other seeds (the saved sets grow by one draw: k=1 ⊂ k=3 ⊂ k=5), which steadies the
average on collections with few such queries: SciFact has only 13, none with more than 5.

Methods, all given the same profile:
- svm-tfidf (baseline): arxiv-sanity-lite's published method, written from its description.
  tf-idf of title and abstract (unigrams and bigrams, English stop words, sublinear tf,
  min_df 5, max_df 0.5, 10,000 features), a linear SVM with C=0.01 and balanced class weights
  fitted on every paper of the corpus, the saved ones as positives; candidates by its
  decision function.
- centroid (baseline): cosine to the mean of the saved papers' embeddings.
- for-you: paperroute.library.recommend.score, the shipped method, with its default Params.
  Those were tuned on SciFact alone, with seeds 101 and 202 rather than the default 12; CISI
  and ADI were then run once with them.
- the rest are what was tried on the way (--methods all runs them all): for-you with a step
  changed or left out, and the alternatives to it.

Embeddings are paperroute's own (all-MiniLM-L6-v2 int8, 128-piece passages with the title
first); a paper's vector is the normalised mean of its passage vectors. They are cached in
--workdir (default: a folder in the system temp dir), so later runs skip the embedding.

The timing ranks 2,000 synthetic candidates for a reader with 500 saved papers, 20 dismissed
ones and 3 followed topics, p50 over --timing-runs runs, against the centroid method timed in
the same run, with numpy on one BLAS thread as in the web processes.

Usage: bench/recommend.py [--data DIR ...] [--json] [--methods all|NAME,...] [--draws N]
                          [--seed S] [--workdir DIR] [--timing-runs N] [--no-timing]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.beir import load_corpus, load_qrels  # noqa: E402

DEFAULT_DATA = [ROOT.parent / "shared" / "data" / name for name in ("scifact", "cisi", "adi")]
DEFAULT_WORKDIR = Path(tempfile.gettempdir()) / "paperroute-bench-recommend"
KS = (1, 3, 5)
MIN_RELEVANT = 4
DISMISSED = 5
DEPTH = 10
BASELINE = "svm-tfidf"


# ---------------------------------------------------------------------------- collections


def paper_text(doc: dict) -> tuple[str, str]:
    """(title, abstract) as bench/search_quality.py hands a BEIR document to paperroute."""
    text = doc.get("text") or ""
    title = (doc.get("title") or "").strip() or " ".join(text.split()[:12]) or str(doc["_id"])
    return title, text


def embed_corpus(corpus: list[dict], cache: Path, log=print) -> list[np.ndarray]:
    """Each document's passage vectors (float32, unit rows), from paperroute's own embedder.

    The cache is an .npz in the index's export format (model id, text hashes, passage counts,
    float16 vectors as the index stores them), so vectors made once are reused by later runs;
    only missing or changed documents are embedded, and progress is saved as it goes.
    """
    from paperroute.search import embedder
    from paperroute.search.vectors import Precomputed

    model = embedder.model_id()
    table = Precomputed([cache], model).table
    texts = [paper_text(doc) for doc in corpus]
    hashes = [embedder.text_hash(t, a) for t, a in texts]
    todo = [i for i, h in enumerate(hashes) if h not in table]
    if todo:
        engine = embedder.Embedder(batch_size=8)
        started = time.perf_counter()
        for start in range(0, len(todo), 256):
            chunk = todo[start : start + 256]
            for i, vectors in zip(chunk, engine.embed_papers([texts[i] for i in chunk])):
                table[hashes[i]] = vectors.astype("<f2")
            _save(cache, model, table)
            done = start + len(chunk)
            log(f"embedded {done}/{len(todo)} documents ({done / (time.perf_counter() - started):.1f}/s)")
    return [np.asarray(table[h], dtype=np.float32) for h in hashes]


def _save(cache: Path, model: str, table: dict[str, np.ndarray]) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    hashes = list(table)
    part = cache.with_suffix(".part.npz")
    np.savez(
        part,
        model=np.array(model),
        hashes=np.array(hashes),
        counts=np.array([len(table[h]) for h in hashes]),
        vectors=np.concatenate([table[h] for h in hashes]).astype("<f2"),
    )
    part.replace(cache)


def pooled_qrels(data: Path) -> dict[str, dict[str, int]]:
    """Every split's judgments together (a document judged twice keeps its higher grade)."""
    pooled: dict[str, dict[str, int]] = {}
    for split in sorted(p.stem for p in (data / "qrels").glob("*.tsv")):
        for qid, rels in load_qrels(data, split).items():
            mine = pooled.setdefault(qid, {})
            for doc, grade in rels.items():
                mine[doc] = max(grade, mine.get(doc, grade))
    return pooled


@dataclass
class Profile:
    """One simulated reader: what they saved and dismissed, and what they should be shown."""

    qid: str
    k: int
    saved: list[int]
    dismissed: list[int]
    judged: dict[int, int]  # document index -> grade: the relevant documents not saved


def profiles(qrels: dict[str, dict[str, int]], ids: list[str], seed: int, draws: int) -> list[Profile]:
    index = {doc: i for i, doc in enumerate(ids)}
    out = []
    for qid in sorted(qrels):
        grades = {index[d]: g for d, g in qrels[qid].items() if g > 0 and d in index}
        if len(grades) < MIN_RELEVANT:
            continue
        for draw in range(draws):
            rng = random.Random(f"{seed}/{draw}/{qid}")
            relevant = sorted(grades)
            rng.shuffle(relevant)
            others = sorted(set(range(len(ids))) - set(grades))
            dismissed = rng.sample(others, DISMISSED)
            for k in KS:
                if len(relevant) > k:
                    out.append(Profile(qid, k, relevant[:k], dismissed, {d: grades[d] for d in relevant[k:]}))
    return out


def metrics(ranked: list[int], judged: dict[int, int]) -> dict[str, float]:
    top = ranked[:DEPTH]
    dcg = sum(judged.get(d, 0) / math.log2(i + 2) for i, d in enumerate(top))
    ideal = sorted(judged.values(), reverse=True)[:DEPTH]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    hits = [i for i, d in enumerate(top) if d in judged]
    return {
        "ndcg@10": dcg / idcg if idcg else 0.0,
        "recall@10": len(hits) / len(judged),
        "mrr@10": 1.0 / (hits[0] + 1) if hits else 0.0,
    }


# ---------------------------------------------------------------------------- methods


@dataclass
class Collection:
    name: str
    ids: list[str]
    texts: list[str]  # title + abstract
    passages: list[np.ndarray]  # per document, (passages, 384)
    vectors: np.ndarray  # per document: normalised mean of its passages
    cache: dict = field(default_factory=dict)

    def tfidf(self, **overrides):
        """tf-idf features with arxiv-sanity-lite's settings (or overrides), fitted on the corpus."""
        key = ("tfidf", tuple(sorted(overrides.items())))
        if key not in self.cache:
            from sklearn.feature_extraction.text import TfidfVectorizer

            settings = dict(
                strip_accents="unicode",
                lowercase=True,
                analyzer="word",
                stop_words="english",
                token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b",
                ngram_range=(1, 2),
                max_features=10000,
                norm="l2",
                use_idf=True,
                smooth_idf=True,
                sublinear_tf=True,
                max_df=0.5,
                min_df=5,
            )
            settings.update(overrides)
            self.cache[key] = TfidfVectorizer(**settings).fit_transform(self.texts).astype(np.float32)
        return self.cache[key]


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.clip(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12, None)


def svm_tfidf(col: Collection, p: Profile, **overrides) -> np.ndarray:
    from sklearn.svm import LinearSVC

    x = col.tfidf(**overrides)
    y = np.zeros(x.shape[0])
    y[p.saved] = 1
    clf = LinearSVC(class_weight="balanced", C=0.01, max_iter=10000, tol=1e-6)
    clf.fit(x, y)
    return clf.decision_function(x)


def centroid(col: Collection, p: Profile) -> np.ndarray:
    return col.vectors @ unit(col.vectors[p.saved].mean(axis=0))


def for_you(col: Collection, p: Profile, **params) -> np.ndarray:
    from paperroute.library import recommend

    settings = recommend.Params(**params) if params else recommend.PARAMS
    return recommend.score(
        col.vectors, col.vectors[p.saved], col.vectors[p.dismissed], params=settings
    ).scores


# What was tried on the way to for-you (tuned on SciFact; --methods all runs them all).


def tried(**params) -> Callable[[Collection, Profile], np.ndarray]:
    """for-you with other settings, e.g. without a step, to show what each step adds."""
    return lambda col, p: for_you(col, p, **params)


def _centered(col: Collection, p: Profile, center: float = 0.5):
    mu = center * col.vectors.mean(axis=0)
    return unit(col.vectors - mu), unit(col.vectors[p.saved] - mu)


def prf(col: Collection, p: Profile, weight: float = 0.5, m: int = 5) -> np.ndarray:
    """Pseudo-relevance feedback: the mix, plus the cosine to the centroid of its top m."""
    c, _ = _centered(col, p)
    s = for_you(col, p, neighbour_weight=0.0)
    top = np.argpartition(-s, m - 1)[:m]
    return s + weight * (c @ unit(c[top].mean(axis=0)))


def linear_negatives(col: Collection, p: Profile, weight: float = 0.5) -> np.ndarray:
    """The mix minus a flat share of every candidate's cosine to the nearest dismissed paper."""
    c, _ = _centered(col, p)
    dismissed = unit(col.vectors[p.dismissed] - 0.5 * col.vectors.mean(axis=0))
    s = for_you(col, p, negative_weight=0.0, neighbour_weight=0.0)
    return s - weight * (c @ dismissed.T).max(axis=1)


def rrf(col: Collection, p: Profile, k: int = 60) -> np.ndarray:
    """Reciprocal-rank fusion of one ranking per saved paper."""
    c, saved = _centered(col, p)
    ranks = np.argsort(np.argsort(-(c @ saved.T), axis=0), axis=0)
    return (1.0 / (k + ranks)).sum(axis=1)


def zmean(col: Collection, p: Profile) -> np.ndarray:
    """Mean over saved papers of the candidates' standardised cosines to each."""
    c, saved = _centered(col, p, 1.0)
    sims = c @ saved.T
    return ((sims - sims.mean(axis=0)) / (sims.std(axis=0) + 1e-9)).mean(axis=1)


def whitened_centroid(col: Collection, p: Profile, shrink: float = 1.0) -> np.ndarray:
    """Centroid cosine after whitening by the corpus covariance, shrunk toward the identity."""
    x = col.vectors - col.vectors.mean(axis=0)
    cov = x.T @ x / len(x)
    values, vectors = np.linalg.eigh(cov + shrink * np.trace(cov) / len(cov) * np.eye(len(cov)))
    w = (vectors / np.sqrt(values)) @ vectors.T
    c = unit(col.vectors @ w)
    return c @ unit(c[p.saved].mean(axis=0))


def soft_neighbours(
    col: Collection, p: Profile, tau: float = 0.05, depth: int = 100, weight: float = 0.6
) -> np.ndarray:
    """The re-ranking with every neighbour in the depth, softmax-weighted by cosine."""
    c, _ = _centered(col, p)
    s = for_you(col, p, neighbour_weight=0.0)
    depth = min(depth, len(s))
    top = np.argpartition(-s, depth - 1)[:depth]
    g = c[top] @ c[top].T
    np.fill_diagonal(g, -np.inf)
    w = np.exp((g - g.max(axis=1, keepdims=True)) / tau)
    out = s * (1 + weight)
    out[top] = s[top] + weight * (w / w.sum(axis=1, keepdims=True)) @ s[top]
    return out


def svm_embedding(col: Collection, p: Profile) -> np.ndarray:
    """arxiv-sanity-lite's SVM (C=0.01, balanced) on paperroute's embeddings instead of tf-idf."""
    from sklearn.svm import LinearSVC

    y = np.zeros(len(col.vectors))
    y[p.saved] = 1
    clf = LinearSVC(class_weight="balanced", C=0.01, max_iter=10000, tol=1e-6)
    return clf.fit(col.vectors, y).decision_function(col.vectors)


METHODS: dict[str, Callable[[Collection, Profile], np.ndarray]] = {
    "svm-tfidf": svm_tfidf,
    "centroid": centroid,
    "for-you": for_you,
    "mix-prototype": tried(center=0.0, negative_weight=0.0, neighbour_weight=0.0),
    "mix-centered": tried(negative_weight=0.0, neighbour_weight=0.0),
    "for-you-no-rerank": tried(neighbour_weight=0.0),
    "for-you-uncentred": tried(center=0.0),
    "for-you-centroid-only": tried(centroid_weight=1.0),
    "for-you-nearest-only": tried(centroid_weight=0.0),
    "for-you-no-negatives": tried(negative_weight=0.0),
    "for-you-8-neighbours": tried(neighbours=8),
    "mix-linear-negatives": linear_negatives,
    "mix-prf": prf,
    "rrf": rrf,
    "zmean": zmean,
    "whitened-centroid": whitened_centroid,
    "soft-neighbours": soft_neighbours,
    "svm-embedding": svm_embedding,
}
DEFAULT_METHODS = ["svm-tfidf", "centroid", "for-you"]


def run_collection(
    col: Collection, profs: list[Profile], methods: list[str], log=print
) -> dict[str, dict[str, dict]]:
    n = len(col.ids)
    results: dict[str, dict[str, dict]] = {}
    for name in methods:
        started = time.perf_counter()
        sums: dict[int, dict[str, float]] = {}
        counts: dict[int, int] = {}
        for p in profs:
            scores = np.asarray(METHODS[name](col, p), dtype=np.float64).ravel()
            mask = np.ones(n, bool)
            mask[p.saved] = False
            mask[p.dismissed] = False
            candidates = np.flatnonzero(mask)
            # Best first; ties by corpus order.
            order = candidates[np.lexsort((candidates, -scores[candidates]))][:DEPTH]
            row = sums.setdefault(p.k, {})
            for metric, value in metrics(order.tolist(), p.judged).items():
                row[metric] = row.get(metric, 0.0) + value
            counts[p.k] = counts.get(p.k, 0) + 1
        results[name] = {}
        for k in KS:
            if counts.get(k):
                results[name][f"k{k}"] = {m: round(v / counts[k], 4) for m, v in sums[k].items()}
                results[name][f"k{k}"]["profiles"] = counts[k]
            else:
                results[name][f"k{k}"] = None
        log(f"{col.name}: {name} in {time.perf_counter() - started:.1f} s")
    return results


# ---------------------------------------------------------------------------- timing


def timing(runs: int, seed: int = 0) -> dict:
    """p50 ms to rank 2,000 candidates for a 500-paper library, for-you against centroid."""
    from threadpoolctl import threadpool_limits

    from paperroute.library import recommend

    rng = np.random.default_rng(seed)

    def sphere(n: int) -> np.ndarray:
        return unit(rng.standard_normal((n, 384)).astype(np.float32))

    candidates, positives, negatives, topics = sphere(2000), sphere(500), sphere(20), sphere(3)
    limit = 50

    def baseline() -> np.ndarray:
        scores = candidates @ unit(positives.mean(axis=0))
        top = np.argpartition(-scores, limit)[:limit]
        return top[np.argsort(-scores[top])]

    def ours():
        return recommend.rank(candidates, positives, negatives, topics=topics, limit=limit)

    times: dict[str, list[float]] = {"centroid": [], "for-you": []}
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(5):
            baseline(), ours()
        for _ in range(runs):
            for name, fn in (("centroid", baseline), ("for-you", ours)):
                started = time.perf_counter()
                fn()
                times[name].append((time.perf_counter() - started) * 1000)
    p50 = {name: float(np.median(t)) for name, t in times.items()}
    return {
        "candidates": 2000,
        "library": 500,
        "dismissed": 20,
        "topics": 3,
        "limit": limit,
        "runs": runs,
        "p50_ms": {k: round(v, 3) for k, v in p50.items()},
        "p90_ms": {k: round(float(np.percentile(t, 90)), 3) for k, t in times.items()},
        "ratio": round(p50["for-you"] / p50["centroid"], 1),
    }


# ---------------------------------------------------------------------------- output


def table(results: dict, timing_result: dict | None) -> str:
    lines = []
    for name, by_method in results.items():
        if name == "timing":
            continue
        base = by_method.get(BASELINE)
        lines.append(f"\n{name}")
        lines.append(
            f"{'method':<24} {'k':>2} {'n':>4} {'nDCG@10':>8} {'R@10':>7} {'MRR@10':>7} "
            f"{'nDCG/svm':>9} {'R/svm':>6} {'MRR/svm':>8}"
        )
        for method, by_k in by_method.items():
            for k in KS:
                row = by_k.get(f"k{k}")
                if row is None:
                    lines.append(
                        f"{method:<24} {k:>2}    0   (no query has more than {k} relevant documents)"
                    )
                    continue
                ratios = []
                for m in ("ndcg@10", "recall@10", "mrr@10"):
                    b = base and base[f"k{k}"] and base[f"k{k}"][m]
                    ratios.append(f"{row[m] / b:.3f}" if b else "-")
                lines.append(
                    f"{method:<24} {k:>2} {row['profiles']:>4} {row['ndcg@10']:>8.4f} "
                    f"{row['recall@10']:>7.4f} {row['mrr@10']:>7.4f} {ratios[0]:>9} "
                    f"{ratios[1]:>6} {ratios[2]:>8}"
                )
    if timing_result:
        t = timing_result
        lines.append(
            f"\ntiming: {t['candidates']} candidates, {t['library']} saved, "
            f"{t['dismissed']} dismissed, {t['topics']} topics, top {t['limit']}, "
            f"{t['runs']} runs, one BLAS thread"
        )
        lines.append(
            f"  p50 for-you {t['p50_ms']['for-you']:.2f} ms, centroid "
            f"{t['p50_ms']['centroid']:.2f} ms (ratio {t['ratio']}); p90 for-you "
            f"{t['p90_ms']['for-you']:.2f} ms"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        action="append",
        default=None,
        help="a BEIR-layout folder; repeat for several (default: ../shared/data/scifact, cisi and adi)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print {collection: {method: {k1: {...}, k3: ..., k5: ...}}} as JSON",
    )
    parser.add_argument(
        "--methods",
        default=",".join(DEFAULT_METHODS),
        help=f"comma-separated, or 'all' (default {','.join(DEFAULT_METHODS)})",
    )
    parser.add_argument("--draws", type=int, default=10, help="draws per query (default 10)")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument(
        "--workdir", default=str(DEFAULT_WORKDIR), help=f"embedding cache (default {DEFAULT_WORKDIR})"
    )
    parser.add_argument("--timing-runs", type=int, default=300)
    parser.add_argument("--no-timing", action="store_true")
    args = parser.parse_args()

    methods = list(METHODS) if args.methods == "all" else args.methods.split(",")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        parser.error(f"unknown method {unknown[0]!r}; known: {', '.join(METHODS)}")
    if BASELINE not in methods:
        methods.insert(0, BASELINE)
    folders = [Path(d) for d in (args.data or DEFAULT_DATA)]
    for data in folders:
        missing = [p for p in ("corpus.jsonl", "qrels") if not (data / p).exists()]
        if missing or not list((data / "qrels").glob("*.tsv")):
            print(
                f"bench/recommend.py: no BEIR collection at {data} (missing "
                f"{', '.join(missing) or 'qrels/*.tsv'}); pass --data DIR",
                file=sys.stderr,
            )
            return 2

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    results: dict = {}
    for data in folders:
        corpus = load_corpus(data)
        passages = embed_corpus(corpus, Path(args.workdir) / f"{data.name}-vectors.npz", log=log)
        col = Collection(
            name=data.name,
            ids=[str(d["_id"]) for d in corpus],
            texts=[" ".join(paper_text(d)) for d in corpus],
            passages=passages,
            vectors=unit(np.stack([p.mean(axis=0) for p in passages])),
        )
        profs = profiles(pooled_qrels(data), col.ids, args.seed, args.draws)
        results[data.name] = run_collection(col, profs, methods, log=log)
    timing_result = None if args.no_timing else timing(args.timing_runs)
    if args.json:
        out = dict(results)
        if timing_result:
            out["timing"] = timing_result
        print(json.dumps(out, indent=1))
    else:
        print(table(results, timing_result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
