"""Fusing keyword and embedding rankings into one."""

from __future__ import annotations

import heapq
from dataclasses import dataclass

# The best fixed weight on SciFact train (BENCHMARKS.md): what a query gets when neither side's
# scores fall at all, so that their drops say nothing.
FIXED_WEIGHT = 0.6


@dataclass(frozen=True)
class FusionParams:
    """How the two rankings combine (chosen on SciFact train, see BENCHMARKS.md)."""

    method: str = "weighted"  # "weighted": normalised scores; "rrf": reciprocal ranks
    # For "weighted": "minmax" or "zscore" over the candidates, or "max": BM25 divided by the
    # best BM25 and cosine similarity as it is (it already lies on a fixed scale). "max" beat
    # min-max, z-score and reciprocal-rank fusion on SciFact train.
    norm: str = "max"
    # The embedding side's share: a number fixes it for every query; None chooses it per
    # query from how sharply each side's scores fall from its best to its gap_k-th candidate.
    # A side that falls sharply found papers that stand out, a flat one did not, so the share
    # is scale × cosine drop / (scale × cosine drop + BM25 drop as a share of the best BM25).
    # On SciFact train (809 queries) it scored nDCG@10 0.7465 and Recall@100 0.9607 against
    # 0.7423 and 0.9514 for the best fixed weight, 0.6 (paired randomisation p 0.19: a small
    # gain, not a significant one), and every k of 5, 10, 15, 20, 30 with every scale from 5 to
    # 12 beat that fixed weight too (0.7434 to 0.7470), so k 20 / scale 10 sits on a plateau and
    # has the best Recall@100 on it. Held-out (SciFact test, CISI, ADI) it beat plain RRF, the
    # fixed weight, lexical and semantic search on all three (BENCHMARKS.md).
    dense_weight: float | None = None
    rrf_k: float = 60.0
    depth: int = 50  # candidates from each retriever (100 scored the same on train)
    gap_k: int = 20
    # Cosine drops are smaller than BM25's relative ones (SciFact train medians 0.22 and 0.58
    # at k 20), so the scale also sets the typical share: 0.8 dense (0.67 to 0.86 for 80%).
    gap_scale: float = 10.0
    weight_range: tuple[float, float] = (0.3, 0.9)  # never all one side


def _drop(scores: dict[int, float], k: int, relative: bool) -> float:
    """How far the best score falls by the k-th (or last) candidate; as a share if `relative`."""
    top = heapq.nlargest(k, scores.values())
    if not top or (relative and top[0] <= 0):
        return 0.0
    fall = top[0] - top[-1]
    return fall / top[0] if relative else fall


def dense_weight(lexical: dict[int, float], dense: dict[int, float], params: FusionParams) -> float:
    """The embedding side's share for this query's candidates."""
    if params.dense_weight is not None:
        return params.dense_weight
    # BM25 has no fixed scale, so its drop is a share of the best; cosines share one scale.
    lex_drop = _drop(lexical, params.gap_k, relative=True)
    dense_drop = params.gap_scale * _drop(dense, params.gap_k, relative=False)
    if lex_drop + dense_drop <= 0:
        return FIXED_WEIGHT
    low, high = params.weight_range
    return min(high, max(low, dense_drop / (dense_drop + lex_drop)))


def _minmax(scores: dict[int, float]) -> dict[int, float]:
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    span = (high - low) or 1.0
    return {pid: (s - low) / span for pid, s in scores.items()}


def _zscore(scores: dict[int, float]) -> dict[int, float]:
    if not scores:
        return {}
    values = list(scores.values())
    mean = sum(values) / len(values)
    spread = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5 or 1.0
    return {pid: (s - mean) / spread for pid, s in scores.items()}


def _ranks(scores: dict[int, float]) -> dict[int, int]:
    ordered = sorted(scores, key=lambda pid: (-scores[pid], pid))
    return {pid: rank for rank, pid in enumerate(ordered, start=1)}


def fuse(lexical: dict[int, float], dense: dict[int, float], params: FusionParams) -> list[tuple[int, float]]:
    """One ranking from both; each dict scores every candidate it can (missing counts as worst)."""
    weight = dense_weight(lexical, dense, params)
    candidates = set(lexical) | set(dense)
    if params.method == "rrf":
        lex_rank, dense_rank = _ranks(lexical), _ranks(dense)
        worst = len(candidates) + 1
        fused = {
            pid: (1 - weight) / (params.rrf_k + lex_rank.get(pid, worst))
            + weight / (params.rrf_k + dense_rank.get(pid, worst))
            for pid in candidates
        }
    else:
        if params.norm == "max":
            top = max(lexical.values(), default=0.0) or 1.0
            lex_norm, dense_norm = {pid: s / top for pid, s in lexical.items()}, dict(dense)
        else:
            norm = _zscore if params.norm == "zscore" else _minmax
            lex_norm, dense_norm = norm(lexical), norm(dense)
        lex_floor = min(lex_norm.values(), default=0.0)
        dense_floor = min(dense_norm.values(), default=0.0)
        fused = {
            pid: (1 - weight) * lex_norm.get(pid, lex_floor) + weight * dense_norm.get(pid, dense_floor)
            for pid in candidates
        }
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
