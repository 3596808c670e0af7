"""A synthetic arXiv-like catalogue: Zipfian words with topic structure, clustered vectors.

Words are pronounceable pseudo-words ranked by a Zipf law (s ~ 1.07, as in English text); each
of the topics prefers its own few hundred mid-frequency words, so that keyword queries have
realistic selectivity. Vectors are unit vectors scattered around one centroid per topic (and a
sub-centroid per subtopic), which is the structure real abstract embeddings have and what makes
an HNSW graph's job realistic. Everything is seeded, so runs are repeatable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

DIM = 384
SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou", "er")]
CATEGORIES = ["cs.CL", "cs.LG", "cs.CV", "cs.AI", "stat.ML", "cs.IR", "cs.RO", "cs.CR", "cs.SE",
              "cs.DS", "math.OC", "math.PR", "math.ST", "physics.comp-ph", "quant-ph", "hep-th",
              "cond-mat.stat-mech", "astro-ph.GA", "q-bio.NC", "eess.SP", "eess.IV", "econ.EM"]
FIRST_DAY = date(2019, 1, 1)
DAYS = 7 * 365


@dataclass
class Catalogue:
    words: list[str]
    topic_words: np.ndarray       # (topics, per_topic) word ids
    topic_category: np.ndarray    # (topics,) category index
    centroids: np.ndarray         # (topics * subtopics, DIM)
    authors: list[str]


def _word(rng: np.random.Generator) -> str:
    return "".join(rng.choice(SYLLABLES, size=rng.integers(2, 5)))


def make_catalogue(seed: int = 7, vocabulary: int = 40_000, topics: int = 300,
                   subtopics: int = 4, authors: int = 200_000) -> Catalogue:
    rng = np.random.default_rng(seed)
    words = list(dict.fromkeys(_word(rng) for _ in range(int(vocabulary * 1.3))))[:vocabulary]
    # Topic words come from the middle of the frequency ranks: not stop-word-like, not hapaxes.
    topic_words = rng.integers(200, min(vocabulary, 20_000), size=(topics, 400))
    topic_category = rng.integers(0, len(CATEGORIES), size=topics)
    base = rng.standard_normal((topics, DIM)).astype(np.float32)
    sub = base[:, None, :] + 0.6 * rng.standard_normal((topics, subtopics, DIM)).astype(np.float32)
    centroids = sub.reshape(-1, DIM)
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    given = [_word(rng).capitalize() for _ in range(3000)]
    family = [_word(rng).capitalize() for _ in range(40_000)]
    names = [f"{given[rng.integers(len(given))]} {family[rng.integers(len(family))]}"
             for _ in range(authors)]
    return Catalogue(words, topic_words, topic_category, centroids, list(dict.fromkeys(names)))


def _zipf_ids(rng: np.random.Generator, size: int, vocabulary: int) -> np.ndarray:
    ids = rng.zipf(1.07, size=size * 2) - 1
    ids = ids[ids < vocabulary][:size]
    while len(ids) < size:
        ids = np.concatenate([ids, rng.integers(0, vocabulary, size - len(ids))])
    return ids


def papers(cat: Catalogue, count: int, seed: int = 11, start: int = 0):
    """Yield (title, abstract, authors, categories, listed_on, topic, vectors) per paper."""
    rng = np.random.default_rng(seed + start)
    vocabulary = len(cat.words)
    topics = len(cat.topic_words)
    subtopics = len(cat.centroids) // topics
    for _ in range(count):
        topic = int(rng.integers(topics))
        n_title, n_abstract = int(rng.integers(6, 14)), int(rng.integers(110, 230))
        ids = _zipf_ids(rng, n_title + n_abstract, vocabulary)
        own = rng.random(len(ids)) < 0.35
        ids[own] = cat.topic_words[topic][rng.integers(0, 400, own.sum())]
        text = [cat.words[i] for i in ids]
        title = " ".join(text[:n_title]).capitalize()
        sentences, at = [], n_title
        while at < len(text):
            step = int(rng.integers(12, 28))
            sentences.append(" ".join(text[at:at + step]).capitalize() + ".")
            at += step
        names = [cat.authors[i] for i in rng.integers(0, len(cat.authors), int(rng.integers(1, 7)))]
        primary = int(cat.topic_category[topic])
        categories = [CATEGORIES[primary]] + ([CATEGORIES[int(rng.integers(len(CATEGORIES)))]]
                                              if rng.random() < 0.4 else [])
        listed = FIRST_DAY + timedelta(days=int(rng.integers(DAYS)))
        centre = cat.centroids[topic * subtopics + int(rng.integers(subtopics))]
        passages = 1 + int(rng.random() < 0.3)  # about 30% of abstracts exceed one window
        vectors = centre + 0.9 * rng.standard_normal((passages, DIM)).astype(np.float32) / np.sqrt(DIM) * 1.6
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        yield title, " ".join(sentences), list(dict.fromkeys(names)), list(dict.fromkeys(categories)), \
            listed, topic, vectors


def queries(cat: Catalogue, count: int, seed: int = 5) -> list[str]:
    """A mix like real traffic: topic words, phrases, and queries with filters."""
    rng = np.random.default_rng(seed)
    out = []
    for n in range(count):
        topic = int(rng.integers(len(cat.topic_words)))
        words = [cat.words[i] for i in cat.topic_words[topic][rng.integers(0, 400, rng.integers(2, 6))]]
        kind = n % 10
        if kind == 7:
            out.append(f'"{words[0]} {words[1]}" {" ".join(words[2:])}')
        elif kind == 8:
            out.append(f"{' '.join(words)} cat:{CATEGORIES[int(cat.topic_category[topic])]}")
        elif kind == 9:
            low = 2019 + int(rng.integers(6))
            out.append(f"{' '.join(words)} year:{low}..{low + 1}")
        else:
            out.append(" ".join(words))
    return out
