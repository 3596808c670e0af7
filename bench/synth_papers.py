"""A synthetic arXiv-like catalogue: Zipfian words with topic structure, clustered vectors.

Words are pronounceable pseudo-words ranked by a Zipf law (s ~ 1.07, as in English text); each
of the topics prefers its own few hundred mid-frequency words, so that keyword queries have
realistic selectivity. Vectors are unit vectors scattered around one centroid per topic (and a
sub-centroid per subtopic), which is the structure real abstract embeddings have and what makes
an HNSW graph's job realistic. Everything is seeded, so runs are repeatable. Papers are made
with numpy in blocks of 5,000, block b seeded by (seed, b), so that paper n is the same however
many are made (a million take a few minutes).

The papers' vectors are made, not embedded: the latency benchmark's queries, which the real
model embeds, lie far from every cluster. That costs a search what a real query costs, but
bench/hnsw_recall.py measures recall with query vectors made like the papers' instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

DIM = 384
SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou", "er")]
CATEGORIES = [
    "cs.CL",
    "cs.LG",
    "cs.CV",
    "cs.AI",
    "stat.ML",
    "cs.IR",
    "cs.RO",
    "cs.CR",
    "cs.SE",
    "cs.DS",
    "math.OC",
    "math.PR",
    "math.ST",
    "physics.comp-ph",
    "quant-ph",
    "hep-th",
    "cond-mat.stat-mech",
    "astro-ph.GA",
    "q-bio.NC",
    "eess.SP",
    "eess.IV",
    "econ.EM",
]
FIRST_DAY = date(2019, 1, 1)
DAYS = 7 * 365


@dataclass
class Catalogue:
    words: list[str]
    topic_words: np.ndarray  # (topics, per_topic) word ids
    topic_category: np.ndarray  # (topics,) category index
    centroids: np.ndarray  # (topics * subtopics, DIM)
    authors: list[str]


def _word(rng: np.random.Generator) -> str:
    return "".join(rng.choice(SYLLABLES, size=rng.integers(2, 5)))


def make_catalogue(
    seed: int = 7, vocabulary: int = 40_000, topics: int = 300, subtopics: int = 4, authors: int = 200_000
) -> Catalogue:
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
    names = [f"{given[rng.integers(len(given))]} {family[rng.integers(len(family))]}" for _ in range(authors)]
    return Catalogue(words, topic_words, topic_category, centroids, list(dict.fromkeys(names)))


BLOCK = 5000  # papers generated at a time; block b is seeded by (seed, b), so runs repeat


@dataclass
class Block:
    """One block of papers, as columns: made with numpy in bulk (a million papers in minutes)."""

    titles: list[str]
    abstracts: list[str]
    authors: list[list[int]]  # indices into Catalogue.authors, in order, no repeats
    categories: list[list[int]]  # indices into CATEGORIES, primary first, no repeats
    days: np.ndarray  # listing day, as days after FIRST_DAY
    topics: np.ndarray
    counts: np.ndarray  # passages per paper (1 or 2)
    vectors: np.ndarray  # (counts.sum(), DIM) float32 unit vectors, papers in order


def _zipf_ids(rng: np.random.Generator, size: int, vocabulary: int) -> np.ndarray:
    """Word ranks from a Zipf law (s 1.07) truncated at the vocabulary."""
    parts, have = [], 0
    while have < size:
        ids = rng.zipf(1.07, size=int((size - have) * 2.2) + 64) - 1
        ids = ids[ids < vocabulary]
        parts.append(ids)
        have += len(ids)
    return np.concatenate(parts)[:size]


def _spellings(cat: Catalogue) -> np.ndarray:
    """(4, vocabulary) object array: word, Word, word., Word. (sentence start and end)."""
    cached = getattr(cat, "_spellings", None)
    if cached is None:
        plain = cat.words
        upper = [w.capitalize() for w in plain]
        cached = np.array([plain, upper, [w + "." for w in plain], [w + "." for w in upper]], dtype=object)
        cat._spellings = cached
    return cached


def block(cat: Catalogue, number: int, seed: int = 11, count: int = BLOCK) -> Block:
    """Papers number * BLOCK ... + count - 1 (the same papers whatever else is generated)."""
    rng = np.random.default_rng((seed, number))
    vocabulary = len(cat.words)
    topics = len(cat.topic_words)
    subtopics = len(cat.centroids) // topics
    n = count
    topic = rng.integers(topics, size=n)
    n_title, n_abstract = rng.integers(6, 14, n), rng.integers(110, 230, n)
    lengths = n_title + n_abstract
    total = int(lengths.sum())
    ids = _zipf_ids(rng, total, vocabulary)
    owner = np.repeat(np.arange(n), lengths)
    own = rng.random(total) < 0.35
    ids[own] = cat.topic_words[topic[owner[own]], rng.integers(0, 400, int(own.sum()))]
    # Sentences of 12-27 words; the first word of the title and of each sentence capitalised,
    # a full stop after each sentence's last word.
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    at = np.arange(total) - np.repeat(starts, lengths) - np.repeat(n_title, lengths)  # in the abstract
    ends = np.cumsum(rng.integers(12, 28, (n, 20)), axis=1)  # 20 sentences of 12+ cover 229 words
    boundary = np.zeros((n, 232), bool)
    boundary[:, 0] = True
    rows, cols = np.nonzero(ends < 232)
    boundary[rows, ends[rows, cols]] = True
    boundary[np.arange(n), n_abstract] = True  # the abstract's last word ends a sentence
    inside = at >= 0
    first = np.where(inside, boundary[owner, np.clip(at, 0, 231)], at == -np.repeat(n_title, lengths))
    last = inside & boundary[owner, np.clip(at + 1, 0, 231)]
    tokens = _spellings(cat)[first.astype(np.int8) + 2 * last.astype(np.int8), ids].tolist()
    titles, abstracts = [], []
    for s, t, e in zip(starts.tolist(), n_title.tolist(), (starts + lengths).tolist()):
        titles.append(" ".join(tokens[s : s + t]))
        abstracts.append(" ".join(tokens[s + t : e]))
    n_authors = rng.integers(1, 7, n)
    drawn = rng.integers(0, len(cat.authors), (n, 6))
    authors = [list(dict.fromkeys(row[:k])) for row, k in zip(drawn.tolist(), n_authors.tolist())]
    primary = cat.topic_category[topic]
    second = rng.integers(len(CATEGORIES), size=n)
    two = rng.random(n) < 0.4
    categories = [
        [p] if not t or s == p else [p, s] for p, s, t in zip(primary.tolist(), second.tolist(), two.tolist())
    ]
    days = rng.integers(DAYS, size=n)
    centre = topic * subtopics + rng.integers(subtopics, size=n)
    counts = 1 + (rng.random(n) < 0.3)  # about 30% of abstracts exceed one window
    noise = rng.standard_normal((int(counts.sum()), DIM), dtype=np.float32)
    vectors = cat.centroids[np.repeat(centre, counts)] + noise * np.float32(0.9 * 1.6 / np.sqrt(DIM))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return Block(titles, abstracts, authors, categories, days, topic, counts, vectors)


def papers(cat: Catalogue, count: int, seed: int = 11, start: int = 0):
    """Yield (title, abstract, authors, categories, listed_on, topic, vectors) per paper, from
    paper `start` on (the same papers as `block` makes)."""
    number, skip = divmod(start, BLOCK)
    while count > 0:
        b = block(cat, number, seed)
        bounds = np.concatenate([[0], np.cumsum(b.counts)])
        for i in range(skip, min(BLOCK, skip + count)):
            yield (
                b.titles[i],
                b.abstracts[i],
                [cat.authors[a] for a in b.authors[i]],
                [CATEGORIES[c] for c in b.categories[i]],
                FIRST_DAY + timedelta(days=int(b.days[i])),
                int(b.topics[i]),
                b.vectors[bounds[i] : bounds[i + 1]],
            )
        count -= BLOCK - skip
        number, skip = number + 1, 0


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
