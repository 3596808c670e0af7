"""For-you ranking on small synthetic vectors: what a reader would see change."""

from __future__ import annotations

import numpy as np
import pytest

from paperroute.library.recommend import Scored, rank, score

DIM = 16


def unit(x) -> np.ndarray:
    x = np.asarray(x, np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def axis(i: int, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """A unit vector along axis i, tilted by a little seeded noise."""
    v = np.zeros(DIM, np.float32)
    v[i] = 1.0
    v += noise * np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return unit(v)


def background(n: int = 40, seed: int = 1) -> np.ndarray:
    """Unrelated papers of the day, spread over the axes 8 and up."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, DIM), np.float32)
    x[:, 8:] = rng.standard_normal((n, DIM - 8))
    return unit(x)


def test_papers_like_saved_ones_come_first():
    saved = np.stack([axis(0), axis(1)])
    candidates = np.vstack([background(), axis(0, 0.1, 2), axis(1, 0.1, 3)])
    top = rank(candidates, saved, limit=2)
    assert set(top.tolist()) == {40, 41}


def test_nearest_points_at_the_saved_paper_it_resembles():
    saved = np.stack([axis(0), axis(1), axis(2)])
    candidates = np.vstack([axis(2, 0.1, 4), axis(0, 0.1, 5), axis(1, 0.1, 6)])
    result = score(candidates, saved)
    assert result.nearest.tolist() == [2, 0, 1]
    assert result.topic.tolist() == [-1, -1, -1]


def test_a_paper_close_to_a_dismissed_one_falls_below_an_equally_close_to_saved_one():
    saved = axis(0)[None]
    dismissed = axis(3)[None]
    # Both candidates lie at the same angle from the saved paper; one leans to the dismissed one.
    toward_dismissed = unit(axis(0) + 0.8 * axis(3))
    elsewhere = unit(axis(0) + 0.8 * axis(4))
    candidates = np.vstack([background(), toward_dismissed, elsewhere])
    assert np.isclose(candidates[40] @ saved[0], candidates[41] @ saved[0])
    with_dismissal = score(candidates, saved, dismissed).scores
    assert with_dismissal[40] < with_dismissal[41]
    without = score(candidates, saved).scores
    assert np.isclose(without[40], without[41], atol=1e-5)


def test_dismissing_leaves_papers_unlike_the_dismissed_one_in_place():
    saved = np.stack([axis(0), axis(1)])
    candidates = np.vstack([background(), axis(0, 0.1, 2), axis(1, 0.1, 3)])
    dismissed = axis(9)[None]
    assert rank(candidates, saved, dismissed, limit=2).tolist() == rank(candidates, saved, limit=2).tolist()


def test_cold_start_ranks_by_followed_topics():
    topics = np.stack([axis(5), axis(6)])
    candidates = np.vstack([background(), axis(6, 0.1, 7), axis(5, 0.1, 8)])
    result = score(candidates, np.zeros((0, DIM), np.float32), topics=topics)
    assert set(np.argsort(-result.scores)[:2].tolist()) == {40, 41}
    assert result.topic[40] == 1 and result.topic[41] == 0
    assert (result.nearest == -1).all()


def test_saved_papers_outweigh_topics_once_the_library_grows():
    topics = axis(5)[None]
    saved = np.stack([axis(0, 0.05, s) for s in range(10)])
    candidates = np.vstack([background(), axis(5), axis(0, 0.1, 20)])
    assert score(candidates, saved, topics=topics).scores.argmax() == 41
    assert score(candidates, saved[:0], topics=topics).scores.argmax() == 40


def test_topics_may_be_missing_or_empty():
    saved = axis(0)[None]
    candidates = np.vstack([background(), axis(0, 0.1, 2)])
    for topics in (None, np.zeros((0, DIM), np.float32)):
        result = score(candidates, saved, topics=topics)
        assert result.scores.argmax() == 40
        assert (result.topic == -1).all()


@pytest.mark.parametrize("positives", [None, np.zeros((0, DIM), np.float32)])
def test_no_signal_gives_zeros_and_no_reasons(positives):
    candidates = background(10)
    result = score(candidates, positives, topics=None)
    assert isinstance(result, Scored)
    assert result.scores.dtype == np.float32 and not result.scores.any()
    assert (result.nearest == -1).all() and (result.topic == -1).all()
    assert len(result.scores) == len(result.nearest) == len(result.topic) == 10


def test_shapes_and_types_for_any_number_of_candidates():
    saved = np.stack([axis(0), axis(1)])
    for n in (0, 1, 2, 7, 300):
        candidates = background(n) if n else np.zeros((0, DIM), np.float32)
        result = score(candidates, saved, axis(3)[None], axis(4)[None])
        assert result.scores.shape == result.nearest.shape == result.topic.shape == (n,)
        assert result.scores.dtype == np.float32
        assert np.isfinite(result.scores).all()
        assert len(rank(candidates, saved, limit=5)) == min(n, 5)


def test_rank_is_the_best_first_order_of_the_scores():
    rng = np.random.default_rng(9)
    candidates = unit(rng.standard_normal((200, DIM)))
    saved = unit(rng.standard_normal((5, DIM)))
    scores = score(candidates, saved).scores
    top = rank(candidates, saved, limit=20)
    assert top.tolist() == np.argsort(-scores, kind="stable")[:20].tolist()


def test_similarities_kept_for_many_readers_rank_exactly_as_computing_them_each_time():
    """A digest run computes each saved paper's similarities once and shares them (Pool)."""
    from paperroute.library.recommend import centre, similarities

    rng = np.random.default_rng(7)
    candidates = unit(rng.standard_normal((300, DIM)))
    library = unit(rng.standard_normal((200, DIM)))
    centred = centre(candidates)
    kept = similarities(library, centred)  # every library paper's row, once
    for _reader in range(20):
        saved = rng.choice(200, size=int(rng.integers(1, 30)), replace=False)
        dismissed = rng.choice(200, size=int(rng.integers(0, 4)), replace=False)
        topics = unit(rng.standard_normal((int(rng.integers(0, 3)), DIM)))
        alone = score(candidates, library[saved], library[dismissed], topics)
        shared = score(
            candidates,
            library[saved],
            library[dismissed],
            topics,
            centred=centred,
            positive_sims=kept[saved],
            negative_sims=kept[dismissed],
        )
        np.testing.assert_allclose(shared.scores, alone.scores, atol=1e-5)
        assert (shared.nearest == alone.nearest).all() and (shared.topic == alone.topic).all()
