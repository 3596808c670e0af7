"""Fusing keyword and embedding rankings into one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FusionParams:
    """How the two rankings combine (chosen on SciFact train, see BENCHMARKS.md)."""

    method: str = "weighted"   # "weighted": normalised scores; "rrf": reciprocal ranks
    # For "weighted": "minmax" or "zscore" over the candidates, or "max": BM25 divided by the
    # best BM25 and cosine similarity as it is (it already lies on a fixed scale).
    norm: str = "max"
    # Tuned on SciFact train (BENCHMARKS.md): with 128-piece passages 0.6 beat 0.5 and 0.7;
    # "max" beat min-max, z-score and reciprocal-rank fusion there.
    dense_weight: float = 0.6
    rrf_k: float = 60.0
    depth: int = 50            # candidates from each retriever (100 scored the same on train)


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


def fuse(lexical: dict[int, float], dense: dict[int, float],
         params: FusionParams) -> list[tuple[int, float]]:
    """One ranking from both; each dict scores every candidate it can (missing counts as worst)."""
    candidates = set(lexical) | set(dense)
    if params.method == "rrf":
        lex_rank, dense_rank = _ranks(lexical), _ranks(dense)
        worst = len(candidates) + 1
        fused = {pid: (1 - params.dense_weight) / (params.rrf_k + lex_rank.get(pid, worst))
                 + params.dense_weight / (params.rrf_k + dense_rank.get(pid, worst))
                 for pid in candidates}
    else:
        if params.norm == "max":
            top = max(lexical.values(), default=0.0) or 1.0
            lex_norm, dense_norm = {pid: s / top for pid, s in lexical.items()}, dict(dense)
        else:
            norm = _zscore if params.norm == "zscore" else _minmax
            lex_norm, dense_norm = norm(lexical), norm(dense)
        lex_floor = min(lex_norm.values(), default=0.0)
        dense_floor = min(dense_norm.values(), default=0.0)
        fused = {pid: (1 - params.dense_weight) * lex_norm.get(pid, lex_floor)
                 + params.dense_weight * dense_norm.get(pid, dense_floor) for pid in candidates}
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
