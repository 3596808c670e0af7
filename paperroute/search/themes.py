"""Themes of a listing: its papers clustered by embedding, each cluster labelled by its own terms.

Pure computation: the worker passes a day's, week's or month's papers with their vectors and
stores what comes back; pages only read it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

import faiss
import numpy as np

from paperroute.search.lexical import STEM

MIN_PAPERS = 12  # a shorter listing is read whole; it needs no themes
MIN_THEMES, MAX_THEMES = 5, 15
MIN_MEMBERS = 2  # a cluster of one paper is that paper, not a theme
SILHOUETTE_SAMPLE = 2000  # papers the silhouette is measured on (its cost grows with the square)
TITLE_WEIGHT = 3  # a term in a title says more about a paper than one in its abstract
# Terms score tf^(2/3) x idf: BERTopic damps frequent words with sqrt(tf) (reduce_frequent_words);
# 2/3 kept "language models" from topping every theme of the 45 seeds while keeping the field's
# own words ("quantum circuits") on a day of every archive. With tf alone, "token" and "language
# models" led 5 of the 7 seed themes.
DAMPING = 2 / 3
BIGRAM_RATIO = 0.6  # a phrase takes its word's place when it scores this share of it or more

# English function words and the words any abstract uses, whatever its subject: never a term, and
# no phrase runs across one.
STOP = frozenset(
    """
a about above across after again against all almost along also although always am among an and
another any are around as at be been before being below between both but by can cannot could did do
does doing done down during each either else enough etc even ever every for from further had has
have having he her here hers him his how however i if in into is it its itself just least less like
many may me might more most much must my near neither no nor not now of off often on once one only
onto or other others otherwise our ours out over own per rather same several shall she should since
so some such than that the their theirs them themselves then there therefore these they this those
though through thus to too two three under until up upon us very via was we well were what whatever
when where whereas whether which while who whom whose why will with within without would yet you
your towards toward beyond able possible certain respectively
abstract paper papers article letter work works study studies propose proposes proposed present
presents presented introduce introduces introduced show shows shown showed demonstrate demonstrates
demonstrated novel new existing recent recently finally first second third moreover furthermore
additionally specifically particular particularly various different significant significantly
substantially extensive experiments experimental experiment results result outperform outperforms
outperforming state-of-the-art sota achieve achieves achieved achieving provide provides provided
using use used uses based address addresses key effective effectively efficient efficiently better
best high higher low lower large small large-scale improve improves improved improving improvement
improvements enhance enhances enhanced enhancing performance superior compared comparison enable
enables enabling leverage leverages leveraging available publicly https github com www http open-
source important widely strong robust crucial challenging challenge challenges remains remain need
needs making make makes way ways find found given gives consider considered obtain obtained allows
allow approach approaches method methods technique techniques framework frameworks problem problems
issue issues task tasks setting settings prove proves proved establish establishes capabilities
calculations integrated learn standard rethinking revisiting exploring investigating identifying
analyzing analysing assessing unveiling unlocking bridging unified simple comprehensive general
generic potential related automatic automatically focuses focusing fast faster effectiveness
maintain maintains single fail fails similar overall original still research requirements efficiency
""".split()
)
# Words that say little alone but make a phrase: "diffusion models", "neural networks".
GENERIC = frozenset(
    """
model models modeling modelling data dataset datasets learning network networks system systems
analysis analyses algorithm algorithms training benchmark benchmarks evaluation evaluating
information process processes structure structures properties property theory theories function
functions space spaces case cases time times number numbers order type types level levels set sets
form forms terms field fields effect effects application applications design quality accuracy
generation understanding accelerating scaling observations simulations state states domain domains
impact impacts llm llms lm lms
""".split()
)

# LaTeX: an accent keeps its letter (Schr\"odinger), a command goes (\emph{x} is x), and maths
# goes and ends a phrase, as punctuation does.
_ACCENT = re.compile(r"""\\['"`^~=.]\{?([A-Za-z])\}?""")
_MATH = re.compile(r"\$\$.*?\$\$|\$[^$]*\$", re.S)
_LATEX = re.compile(r"\\[a-zA-Z]+\*?|\\.|[{}^_]")
# "learning-based" is about learning: such a suffix says nothing of the subject.
_SUFFIX = re.compile(r"(?<=\w)-(?:based|driven|oriented|specific|related|aware|enabled|powered)\b")
_TOKEN = re.compile(r"[^\W_]+(?:-[^\W_]+)*|[^\w\s]")  # words, and punctuation to end phrases


@dataclass(frozen=True)
class ThemeInput:
    """A paper to group: its id, its text, and its unit-length embedding (float32)."""

    pid: int
    title: str
    abstract: str
    vector: np.ndarray


@dataclass
class Theme:
    """Papers on one subject, most central first, with their most distinctive terms."""

    label: str  # the 2 best terms, joined by " · "
    terms: list[str]  # the 5 best terms, best first
    members: list[int]


def find_themes(papers: list[ThemeInput], *, seed: int = 0) -> list[Theme]:
    """A listing's themes, largest first; papers in no theme (outliers) are left out."""
    if len(papers) < MIN_PAPERS:
        return []
    # In id order, so that the same papers give the same themes whatever order they come in.
    papers = sorted(papers, key=lambda p: p.pid)
    x = np.stack([np.asarray(p.vector, dtype=np.float32).ravel() for p in papers])
    x /= np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None)
    assignment = _cluster(x, seed)
    groups = []
    for c in np.unique(assignment):
        rows = np.flatnonzero(assignment == c)
        if len(rows) >= MIN_MEMBERS:  # smaller ones are "other": no theme, but counted in labels
            closeness = x[rows] @ x[rows].mean(axis=0)  # a stable sort: ties go to the lower id
            groups.append(rows[np.argsort(-closeness, kind="stable")].tolist())
    groups.sort(key=lambda rows: (-len(rows), papers[rows[0]].pid))
    return [
        Theme(label=" · ".join(pair), terms=terms, members=[papers[r].pid for r in rows])
        for rows, (pair, terms) in zip(groups, _label(papers, assignment, groups))
        if pair
    ]


def _cluster(x: np.ndarray, seed: int) -> np.ndarray:
    """Each paper's cluster, by spherical k-means (cosine) with k chosen as explained here."""
    n = len(x)
    # k starts from the rule of thumb sqrt(n/2) (45 papers: 5, 200: 10, 450 and more: 15), kept
    # to 5..15 so that a row of chips is neither trivial nor a wall. Silhouette alone would not
    # do: on abstracts' embeddings it barely moves with k and always favours the fewest clusters
    # (the 1,504 papers of 2024-11-28: 0.089 at k=5, 0.077 at k=15). So it only chooses among
    # the k within 2 of the rule's, where it costs one k-means and one sampled distance product
    # each. A k that leaves fewer than 5 clusters of 2 or more papers loses to one that does not.
    target = min(MAX_THEMES, max(MIN_THEMES, round(math.sqrt(n / 2))))
    low, high = max(MIN_THEMES, target - 2), min(MAX_THEMES, target + 2, n // MIN_MEMBERS)
    sample = np.arange(n)
    if n > SILHOUETTE_SAMPLE:
        sample = np.sort(np.random.default_rng(seed).choice(n, SILHOUETTE_SAMPLE, replace=False))
    distances = 1 - x[sample] @ x[sample].T
    best, best_key = np.zeros(n, dtype=np.int64), None
    # One thread: for a few thousand points OpenMP costs more than it saves (0.14 s a k-means on
    # two threads, 0.02 s on one, same result). This sets the calling thread's count only (an
    # OpenMP per-thread setting), and puts it back.
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        for k in range(low, max(low, high) + 1):
            assignment = _kmeans(x, k, seed)
            usable = int((np.bincount(assignment, minlength=k) >= MIN_MEMBERS).sum())
            key = (min(usable, MIN_THEMES), _silhouette(distances, assignment[sample], k), -k)
            if best_key is None or key > best_key:
                best, best_key = assignment, key
    finally:
        faiss.omp_set_num_threads(threads)
    return best


def _kmeans(x: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Each row's cluster: the best of 3 seeded runs of spherical k-means."""
    kmeans = faiss.Kmeans(
        x.shape[1],
        k,
        niter=20,
        nredo=3,
        seed=seed,
        spherical=True,
        min_points_per_centroid=1,
        max_points_per_centroid=len(x),
        verbose=False,
    )
    kmeans.train(x)
    _, nearest = kmeans.index.search(x, 1)
    return nearest[:, 0].astype(np.int64)


def _silhouette(distances: np.ndarray, assignment: np.ndarray, k: int) -> float:
    """Mean silhouette over a matrix of cosine distances (a point alone in its cluster scores 0)."""
    n = len(distances)
    onehot = np.zeros((n, k), dtype=np.float32)
    onehot[np.arange(n), assignment] = 1
    sums = distances @ onehot  # each point's total distance to each cluster
    sizes = onehot.sum(axis=0)
    own = sizes[assignment] - 1
    inside = sums[np.arange(n), assignment] / np.maximum(own, 1)
    outside = np.where(sizes > 0, sums / np.maximum(sizes, 1), np.inf)
    outside[np.arange(n), assignment] = np.inf
    nearest = outside.min(axis=1)
    nearest = np.where(np.isfinite(nearest), nearest, inside)  # no other cluster: score 0
    score = np.where(own > 0, (nearest - inside) / np.maximum(np.maximum(inside, nearest), 1e-12), 0)
    return float(score.mean())


def _grams(text: str) -> list[str]:
    """Lower-case terms of a text, words and two-word phrases, without LaTeX, stop words, numbers."""
    grams, previous = [], None
    text = _SUFFIX.sub("", _LATEX.sub(" ", _MATH.sub(" . ", _ACCENT.sub(r"\1", text))).lower())
    for word in _TOKEN.findall(text):
        if word in STOP or len(word) < 2 or word.isdigit():  # punctuation is 1 character
            previous = None
            continue
        # A participle ("generalized", "observed") qualifies a subject; alone it is none.
        if word not in GENERIC and not (word.endswith("ed") and len(word) > 5):
            grams.append(word)
        if previous is not None and not (previous in GENERIC and word in GENERIC):
            grams.append(f"{previous} {word}")
        previous = word
    return grams


def _singular(term: str) -> list[str]:
    """What `term` may be the plural of (theories: theory, graphs: graph)."""
    if term.endswith("ies"):
        return [term[:-3] + "y"]
    if term.endswith(("ses", "xes", "ches", "shes")):
        return [term[:-2], term[:-1]]
    return [term[:-1]] if term.endswith("s") and not term.endswith("ss") else []


def _forms(total: Counter) -> dict[str, str]:
    """Each term's shown form: variants ("black holes", "long context") take the commonest one."""
    spaced = {t: t.replace("-", " ") if t.count("-") == 1 and " " not in t else t for t in total}
    keys = set(spaced.values())
    key = {t: next((s for s in _singular(k) if s in keys), k) for t, k in spaced.items()}
    shown: dict[str, str] = {}
    for term in sorted(total, key=lambda t: (-total[t], t)):
        shown.setdefault(key[term], term)
    return {term: shown[key[term]] for term in total}


@lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    stems = STEM.analyze(word)
    return stems[0] if stems else word


def _initials(term: str) -> str:
    parts = re.split(r"[ -]", term)
    return "".join(p[0] for p in parts) if len(parts) > 1 else ""


def _marks(term: str) -> set[str]:
    """A term's word stems, and a phrase's initials too ("ai" repeats "artificial intelligence")."""
    return {_stem(p) for p in re.split(r"[ -]", term)} | ({_initials(term)} - {""})


def _overlap(term: str, seen: set[str]) -> bool:
    """Whether `term` repeats a word: the same stem, or one stem starting another (image, imagery)."""
    return any(
        a == b or min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a))
        for a in _marks(term)
        for b in seen
    )


def _label(
    papers: list[ThemeInput], assignment: np.ndarray, groups: list[list[int]]
) -> list[tuple[tuple[str, ...], list[str]]]:
    """(label terms, top terms) for each group, by class-based TF-IDF against all clusters."""
    texts = [(_grams(p.title), _grams(p.abstract)) for p in papers]
    form = _forms(Counter(chain.from_iterable(title + body for title, body in texts)))
    # A paper counts once for a term, TITLE_WEIGHT times when the term is in its title, so that
    # one abstract repeating a word cannot make it a theme's.
    clusters = np.unique(assignment).tolist()
    in_papers: dict[int | str, Counter[str]] = {c: Counter() for c in [*clusters, "all"]}
    in_titles: dict[int | str, Counter[str]] = {c: Counter() for c in [*clusters, "all"]}
    for (title, body), c in zip(texts, assignment.tolist()):
        heads = set(map(form.__getitem__, title))
        terms = heads.union(map(form.__getitem__, body))
        for key in (c, "all"):
            in_papers[key].update(terms)
            in_titles[key].update(heads)

    def weight(c, term: str) -> int:
        return in_papers[c][term] + (TITLE_WEIGHT - 1) * in_titles[c][term]

    size = {
        c: sum(in_papers[c].values()) + (TITLE_WEIGHT - 1) * sum(in_titles[c].values()) for c in in_papers
    }
    # c-TF-IDF (BERTopic): a term's share of its cluster, damped, times log(1 + A / its weight in
    # all clusters), A being a cluster's average weight. The "other" papers count here too.
    average = size["all"] / len(clusters)
    used: set[str] = set()
    out = []
    for rows in groups:
        c = int(assignment[rows[0]])
        enough = 2 if len(rows) > 2 else 1  # a term of one paper is that paper's, not the theme's
        scores = {
            t: (weight(c, t) / size[c]) ** DAMPING * math.log(1 + average / weight("all", t))
            for t, n in in_papers[c].items()
            if n >= enough
        }
        ranked = _pick(scores)
        pair = _pair(ranked, used)
        used.add(" · ".join(pair))
        out.append(
            (pair, sorted([*pair, *[t for t in ranked if t not in pair][: 5 - len(pair)]], key=ranked.index))
        )
    return out


def _pick(scores: dict[str, float], limit: int = 12) -> list[str]:
    """The best terms, no word twice; a phrase takes its word's place when nearly as distinctive."""
    ranked = sorted(scores, key=lambda t: (-scores[t], t))
    phrases: dict[str, list[str]] = {}
    for term in ranked:
        for word in term.split(" ") if " " in term else ():
            phrases.setdefault(word, []).append(term)
    picked: list[str] = []
    seen: set[str] = set()
    for term in ranked:
        better = [p for p in phrases.get(term, ()) if scores[p] >= BIGRAM_RATIO * scores[term]]
        if any(_initials(p) in seen for p in better):
            continue  # "artificial" is a piece of "artificial intelligence", and "ai" is picked
        better = [p for p in better if not _overlap(p, seen)]
        term = better[0] if better else term
        if not _overlap(term, seen):
            picked.append(term)
            seen.update(_marks(term))
            if len(picked) == limit:
                break
    return picked


def _pair(ranked: list[str], used: set[str]) -> tuple[str, ...]:
    """The two best terms whose label no larger theme has taken ((), when none is left)."""
    for i, first in enumerate(ranked):
        for second in ranked[i + 1 :]:
            if f"{first} · {second}" not in used:
                return first, second
    return tuple(ranked[:1]) if ranked and ranked[0] not in used else ()
