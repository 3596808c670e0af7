"""BEIR-layout collections and the standard retrieval metrics (trec_eval's definitions).

A collection is a folder with corpus.jsonl ({"_id", "title", "text", "metadata"?}),
queries.jsonl ({"_id", "text"}) and qrels/SPLIT.tsv ("query-id corpus-id score" with a header).
Metrics are averaged over the queries that have at least one relevant document; a query that
got no results scores 0.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path


def load_corpus(path: Path) -> list[dict]:
    with open(path / "corpus.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_queries(path: Path) -> dict[str, str]:
    with open(path / "queries.jsonl", encoding="utf-8") as handle:
        return {str(q["_id"]): q["text"] for q in map(json.loads, filter(str.strip, handle))}


def load_qrels(path: Path, split: str) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(path / "qrels" / f"{split}.tsv", encoding="utf-8") as handle:
        rows = csv.reader(handle, delimiter="\t")
        next(rows)  # header
        for row in rows:
            if len(row) >= 3:
                qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return qrels


def _ndcg(ranked: list[str], rels: dict[str, int], k: int) -> float:
    dcg = sum(rels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if rels.get(d, 0) > 0)
    ideal = sorted((g for g in rels.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def _average_precision(ranked: list[str], relevant: set[str]) -> float:
    hits, total = 0, 0.0
    for i, d in enumerate(ranked):
        if d in relevant:
            hits += 1
            total += hits / (i + 1)
    return total / len(relevant)


def _reciprocal_rank(ranked: list[str], relevant: set[str], k: int) -> float:
    return next((1.0 / (i + 1) for i, d in enumerate(ranked[:k]) if d in relevant), 0.0)


def evaluate(run: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """nDCG@10, MAP (over the ranked list given), Recall@100 and MRR@10."""
    sums = {"ndcg@10": 0.0, "map": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
    counted = 0
    for qid, rels in qrels.items():
        relevant = {d for d, g in rels.items() if g > 0}
        if not relevant:
            continue
        counted += 1
        ranked = run.get(qid, [])
        sums["ndcg@10"] += _ndcg(ranked, rels, 10)
        sums["map"] += _average_precision(ranked, relevant)
        sums["recall@100"] += len(relevant & set(ranked[:100])) / len(relevant)
        sums["mrr@10"] += _reciprocal_rank(ranked, relevant, 10)
    return {name: round(value / max(counted, 1), 4) for name, value in sums.items()}
