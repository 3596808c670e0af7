"""Query-dependent fusion: the embedding side's share follows how sharply each side's scores fall."""

from dataclasses import replace

import pytest

from paperroute.search.hybrid import FIXED_WEIGHT, FusionParams, dense_weight, fuse

PARAMS = FusionParams()


def flat(n: int, score: float) -> dict[int, float]:
    return {pid: score for pid in range(n)}


def falling(n: int, top: float, bottom: float) -> dict[int, float]:
    return {pid: top - (top - bottom) * pid / (n - 1) for pid in range(n)}


def test_the_default_weighs_each_query():
    assert PARAMS.dense_weight is None


def test_a_fixed_weight_is_used_as_it_is():
    params = replace(PARAMS, dense_weight=0.6)
    assert dense_weight(falling(30, 12.0, 1.0), flat(30, 0.5), params) == 0.6


def test_the_side_whose_scores_fall_sharply_gets_more_weight():
    low, high = PARAMS.weight_range
    # Cosines fall from 0.8 to 0.3 while BM25 hardly moves: the embedding side stands out.
    assert dense_weight(falling(30, 10.0, 9.9), falling(30, 0.8, 0.3), PARAMS) == high
    # BM25 falls to a tenth while the cosines stay level: the keyword side stands out.
    assert dense_weight(falling(30, 10.0, 1.0), falling(30, 0.50, 0.495), PARAMS) == low
    # In between, the share grows with the cosine drop.
    shares = [
        dense_weight(falling(30, 10.0, 5.0), falling(30, 0.6, 0.6 - d), PARAMS)
        for d in (0.02, 0.05, 0.1, 0.2)
    ]
    assert shares == sorted(shares) and low < shares[1] < high


def test_when_neither_side_falls_the_fixed_weight_applies():
    assert dense_weight(flat(30, 3.0), flat(30, 0.4), PARAMS) == FIXED_WEIGHT
    assert dense_weight({}, {}, PARAMS) == FIXED_WEIGHT
    assert dense_weight(flat(30, 0.0), flat(30, 0.4), PARAMS) == FIXED_WEIGHT  # no BM25 at all


def test_only_the_first_gap_k_candidates_count():
    lexical = falling(30, 10.0, 9.9)
    dense = {**flat(20, 0.6), **{pid: 0.1 for pid in range(20, 30)}}
    # The cosines are level over the 20 best; the fall after them says nothing.
    assert dense_weight(lexical, dense, PARAMS) < dense_weight(lexical, dense, replace(PARAMS, gap_k=30))


def test_fusion_follows_the_per_query_weight():
    params = PARAMS
    # Paper 0 is the keyword side's best by far and the embedding side's worst; paper 1 the
    # reverse. The keyword side falls sharply and the embedding side hardly at all.
    lexical = {0: 20.0, 1: 1.0, **{pid: 2.0 for pid in range(2, 30)}}
    dense = {0: 0.50, 1: 0.51, **{pid: 0.505 for pid in range(2, 30)}}
    assert dense_weight(lexical, dense, params) == PARAMS.weight_range[0]
    assert fuse(lexical, dense, params)[0][0] == 0
    # The same candidates with the sides' roles swapped: now paper 1 leads.
    lexical = {0: 10.0, 1: 9.9, **{pid: 9.95 for pid in range(2, 30)}}
    dense = {0: 0.1, 1: 0.9, **{pid: 0.3 for pid in range(2, 30)}}
    assert dense_weight(lexical, dense, params) == PARAMS.weight_range[1]
    assert fuse(lexical, dense, params)[0][0] == 1


@pytest.mark.parametrize("method", ["weighted", "rrf"])
def test_fusion_uses_the_weight_it_chose(method):
    lexical = falling(40, 15.0, 2.0)
    dense = {pid: 0.3 + 0.01 * ((pid * 7) % 40) for pid in range(40)}
    params = replace(PARAMS, method=method)
    chosen = dense_weight(lexical, dense, params)
    assert fuse(lexical, dense, params) == fuse(lexical, dense, replace(params, dense_weight=chosen))


def test_fusing_nothing_gives_nothing():
    assert fuse({}, {}, PARAMS) == []
