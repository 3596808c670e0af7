"""For you: rank new papers for a reader from saved, dismissed and followed vectors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Params:
    """The ranking's settings; the defaults were tuned on SciFact by bench/recommend.py."""

    # Share of the candidates' mean taken out of every vector: it is the direction all papers
    # share, so cosines measured without it say what sets the saved papers apart from the rest.
    center: float = 0.5
    # Profile = this share of the cosine to the saved papers' centroid, the rest the cosine to
    # the single nearest saved paper, so a library with several interests loses none of them.
    centroid_weight: float = 0.5
    # "Not interested" pushes a candidate down by this times its (centred) cosine to the nearest
    # dismissed paper above the floor, about where MiniLM puts papers on one subject.
    negative_weight: float = 1.0
    negative_floor: float = 0.5
    # Followed topics count like this many saved papers: they lead a new reader's ranking and
    # fade as the library grows.
    topic_prior: float = 2.0
    # The first `depth` candidates are re-ranked by their `neighbours` nearest among them:
    # a paper whose close neighbours also score well sits in a topic the reader cares about.
    depth: int = 100
    neighbours: int = 5
    neighbour_weight: float = 0.6


PARAMS = Params()


@dataclass
class Scored:
    """Scores of the candidates, and which saved paper and followed topic each is closest to."""

    scores: np.ndarray  # (n,) float32, higher is better
    nearest: np.ndarray  # (n,) int: index into positives of the most similar saved paper, -1 if none
    topic: np.ndarray  # (n,) int: index into topics of the most similar followed topic vector, -1 if none


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.clip(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12, None)


def _matrix(x, dim: int) -> np.ndarray:
    if x is None:
        return np.zeros((0, dim), np.float32)
    return np.asarray(x, np.float32).reshape(-1, dim)


@dataclass
class Centred:
    """Candidates with their shared direction taken out, computed once for many readers."""

    mean: np.ndarray  # the share of the candidates' mean taken out
    rows: np.ndarray  # the candidates, centred and unit length


def centre(candidates, params: Params = PARAMS) -> Centred:
    c = np.asarray(candidates, np.float32)
    mu = params.center * c.mean(axis=0)
    return Centred(mu, _unit(c - mu))


def similarities(papers: np.ndarray, centred: Centred) -> np.ndarray:
    """(k, n): the centred cosine of each of k papers (saved or dismissed) to each candidate.

    What score() computes for one reader's papers, for a caller that keeps the rows of papers
    many readers share (a digest run: libraries overlap)."""
    return _unit(np.asarray(papers, np.float32) - centred.mean) @ centred.rows.T


def score(
    candidates,
    positives,
    negatives=None,
    topics=None,
    params: Params = PARAMS,
    centred: Centred | None = None,
    positive_sims: np.ndarray | None = None,
    negative_sims: np.ndarray | None = None,
    topic_floor: np.ndarray | None = None,
) -> Scored:
    """Score candidate papers for one reader; all inputs are unit rows of one embedding space.
    `centred` is centre(candidates, params), and `positive_sims` and `negative_sims` are
    similarities(positives, centred) and similarities(negatives, centred), for a caller that
    scores the same candidates for many readers. `topic_floor` (n, topics) is the least
    similarity a candidate counts for with each topic (for one whose words name the topic)."""
    c = np.asarray(candidates, np.float32)
    n = len(c)
    dim = c.shape[1] if c.ndim == 2 else 0
    p, neg, t = _matrix(positives, dim), _matrix(negatives, dim), _matrix(topics, dim)
    nearest = np.full(n, -1, np.int64)
    topic = np.full(n, -1, np.int64)
    if not n or not (len(p) or len(t)):
        return Scored(np.zeros(n, np.float32), nearest, topic)

    centred = centred if centred is not None else centre(c, params)
    mu, cc = centred.mean, centred.rows
    s = np.zeros(n, np.float32)
    if len(p):
        pc = _unit(p - mu)
        sims = cc @ pc.T if positive_sims is None else positive_sims.T
        nearest = sims.argmax(axis=1)
        closest = sims[np.arange(n), nearest]
        # The cosine to the saved papers' centroid: cc @ unit(m) = mean of sims / |m|.
        centroid = sims.mean(axis=1) / max(float(np.linalg.norm(pc.mean(axis=0))), 1e-12)
        w = params.centroid_weight
        s = w * centroid + (1 - w) * closest
    if len(t):
        # Topics are query embeddings, compared uncentred as search compares them.
        tsims = c @ t.T
        if topic_floor is not None:
            tsims = np.maximum(tsims, topic_floor)
        topic = tsims.argmax(axis=1)
        weight = params.topic_prior / (params.topic_prior + len(p))
        s = (1 - weight) * s + weight * tsims[np.arange(n), topic]
    if len(neg) and params.negative_weight:
        # Only a paper really close to a dismissed one is pushed down: a flat penalty on every
        # candidate's cosine to random dismissals is noise that cost 0.05 nDCG@10 at k=3 on
        # SciFact, while this one costs nothing there.
        disliked = (cc @ _unit(neg - mu).T if negative_sims is None else negative_sims.T).max(axis=1)
        s = s - params.negative_weight * np.maximum(disliked - params.negative_floor, 0)

    depth = min(params.depth, n)
    k = min(params.neighbours, depth - 1)
    if k > 0 and params.neighbour_weight:
        top = np.argpartition(-s, depth - 1)[:depth]
        graph = cc[top] @ cc[top].T
        np.fill_diagonal(graph, -np.inf)
        near = np.argpartition(-graph, k - 1, axis=1)[:, :k]
        smoothed = s * (1 + params.neighbour_weight)
        # Below the depth a paper counts as its own neighbours, which keeps it under every
        # re-ranked one (their neighbours all score at least as high).
        smoothed[top] = s[top] + params.neighbour_weight * s[top][near].mean(axis=1)
        s = smoothed
    return Scored(s.astype(np.float32), nearest, topic)


def rank(
    candidates, positives, negatives=None, topics=None, limit: int = 50, params: Params = PARAMS
) -> np.ndarray:
    """Indices of the best `limit` candidates, best first."""
    s = score(candidates, positives, negatives, topics, params).scores
    limit = min(limit, len(s))
    if not limit:
        return np.zeros(0, np.int64)
    top = np.argpartition(-s, limit - 1)[:limit]
    return top[np.argsort(-s[top], kind="stable")]
