""" "For you": one reader's ranking of a period's papers, from what they saved, upvoted,
dismissed and follow, each paper with why it was picked.

Nothing is trained or stored: the ranking is computed from the reader's signals as they are
when asked (a few milliseconds for a day of arXiv), so a save or a "not interested" changes
the next page at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from paperroute.catalog import taxonomy
from paperroute.catalog.models import Authorship, Paper
from paperroute.catalog.textclean import cut
from paperroute.community.models import Vote
from paperroute.library import follows, recommend
from paperroute.library.models import CollectionItem, PaperState

# The most recent signals of each kind that count: enough for a long-standing library, few
# enough that ranking a day stays in the milliseconds (bench/recommend.py times 500 saved).
MAX_POSITIVES = 500
MAX_NEGATIVES = 200
# Papers by followed authors come first whatever their text; one in a followed category is
# nudged up by less than a typical gap between a good and a middling match.
CATEGORY_BONUS = 0.05
# The papers of a period the tab and the API rank: a month of all arXiv is tens of thousands,
# so the most upvoted, then the newest (a day of arXiv is about 2,000).
PERIOD_POOL = 5000
# A followed topic is the reason given for a paper only when the paper is about it: the cosine
# of the paper (the mean of its passages) to the topic's query vector. Measured on the demo's
# day: the papers about a topic sit above it ("speculative decoding" 0.52, "retrieval augmented
# generation" 0.50 and 0.52, "federated learning" 0.61 to 0.73), papers that merely share a word
# or a field below ("Decoding convolutional codes" 0.43, text-to-image generation 0.41 for
# retrieval augmented generation), and the rest of a day between 0.2 and 0.4. A paper whose
# title or abstract holds every word of the topic counts as this close at least: the model
# places "LoRA" and "Mamba" papers far from those words (0.2 to 0.4 on the demo's papers).
TOPIC_MATCH = 0.45


@dataclass
class Signals:
    """What one reader's For-you ranking learns from."""

    positives: list[int] = field(default_factory=list)  # saved or upvoted, newest first
    negatives: list[int] = field(default_factory=list)  # "not interested"
    following: follows.Following = field(default_factory=follows.Following)
    # Every paper the reader keeps, upvoted or dismissed: never a pick. The two lists above are
    # the newest of them only, the ranking's inputs.
    seen: frozenset[int] = frozenset()

    @property
    def empty(self) -> bool:
        return not (self.positives or self.negatives) and self.following.empty


@dataclass
class Pick:
    paper_id: int
    score: float
    reason: str = ""
    liked: int | None = None  # the saved paper it is most like, named in the reason


def signals_of(user) -> Signals:
    """The reader's saves and upvotes (positives), dismissals (negatives) and follows."""
    if not user.is_authenticated:
        return Signals()
    return signals_for([user.pk])[user.pk]


def signals_for(user_ids: list[int]) -> dict[int, Signals]:
    """signals_of for many readers at once (a digest batch), in four queries."""
    newest: dict[int, dict[int, datetime]] = {uid: {} for uid in user_ids}
    saved = CollectionItem.objects.filter(collection__owner_id__in=user_ids).values_list(
        "collection__owner_id", "paper_id", "added_at"
    )
    voted = Vote.objects.filter(user_id__in=user_ids).values_list("user_id", "paper_id", "created_at")
    for uid, pid, when in [*saved, *voted]:
        if when is None:
            continue
        if pid not in newest[uid] or when > newest[uid][pid]:
            newest[uid][pid] = when
    dismissed: dict[int, list] = {uid: [] for uid in user_ids}
    for uid, pid, dismissed_at in PaperState.objects.filter(
        user_id__in=user_ids, dismissed_at__isnull=False
    ).values_list("user_id", "paper_id", "dismissed_at"):
        dismissed[uid].append((dismissed_at, pid))
    following = follows.of_many(user_ids)
    result = {}
    for uid in user_ids:
        negatives = [pid for _, pid in sorted(dismissed[uid], reverse=True)][:MAX_NEGATIVES]
        gone = set(negatives)
        liked = sorted(newest[uid], key=newest[uid].__getitem__, reverse=True)
        positives = [pid for pid in liked if pid not in gone][:MAX_POSITIVES]
        seen = frozenset(newest[uid]) | {pid for _, pid in dismissed[uid]}
        result[uid] = Signals(positives, negatives, following[uid], seen)
    return result


class Pool:
    """The papers being ranked (a period's), with their vectors, authors and categories loaded
    once, for a caller that ranks them for many readers (a digest run)."""

    def __init__(self, paper_ids: list[int]) -> None:
        from paperroute import search

        self.ids = list(dict.fromkeys(paper_ids))
        self.vectors, self.embedded = search.paper_matrix(self.ids)
        self.row = {int(pid): i for i, pid in enumerate(self.embedded)}
        self.centred = recommend.centre(self.vectors) if len(self.embedded) else None
        self.dim = self.vectors.shape[1] if self.vectors.ndim == 2 else 0
        # Each saved or dismissed paper's vector and similarities to the candidates (None: not
        # embedded), kept for the next reader: in a digest run thousands of readers are ranked
        # and their libraries overlap, so most rows are reused.
        self._known: dict[int, tuple[np.ndarray, np.ndarray] | None] = {}
        self._authors: dict[str, list[int]] | None = None
        self._categories: list[tuple[int, str]] | None = None
        self._titles: dict[int, str] = {}
        self._about: dict[str, set[int]] = {}

    def by_authors(self, names: dict[str, str]) -> dict[int, str]:
        """{paper id: name} of the papers by any author whose key is in `names`."""
        if self._authors is None:
            self._authors = {}
            for chunk in _chunks(self.ids):
                for pid, key in Authorship.objects.filter(paper_id__in=chunk).values_list(
                    "paper_id", "author__key"
                ):
                    self._authors.setdefault(key, []).append(pid)
        found: dict[int, str] = {}
        for key, name in names.items():
            for pid in self._authors.get(key, ()):
                found.setdefault(pid, name)
        return found

    def in_categories(self, codes: list[str]) -> dict[int, str]:
        """{paper id: code} of the papers in any of the categories (an archive counts for its own)."""
        if self._categories is None:
            through = Paper.categories.through
            self._categories = [
                row
                for chunk in _chunks(self.ids)
                for row in through.objects.filter(paper_id__in=chunk).values_list(
                    "paper_id", "category__code"
                )
            ]
        found: dict[int, str] = {}
        for pid, code in self._categories:
            if any(taxonomy.within(code, wanted) for wanted in codes):
                found.setdefault(pid, code)
        return found

    def about(self, topic: str) -> set[int]:
        """The papers whose title or abstract holds every word of a topic, kept for the next
        reader who follows it."""
        from paperroute import search

        if topic not in self._about:
            self._about[topic] = search.papers_about(topic, self.ids)
        return self._about[topic]

    def signal_rows(self, paper_ids: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(unit vectors, ids, similarities to the candidates (k, n) or None) of the embedded
        papers among `paper_ids`, in their order: search.paper_matrix and recommend.similarities,
        each paper's rows computed once per pool."""
        from paperroute import search

        new = [pid for pid in dict.fromkeys(paper_ids) if pid not in self._known]
        if new:
            if len(self._known) + len(new) > self._kept_rows():
                self._known.clear()  # a bound on memory; the readers after this refill it
            vectors, ids = search.paper_matrix(new)
            sims = np.zeros((len(ids), 0), np.float32)  # no candidate is embedded: none to compare
            if self.centred is not None and len(ids):
                sims = recommend.similarities(vectors, self.centred)
            self._known.update(dict.fromkeys(new))
            for i, pid in enumerate(ids.tolist()):
                self._known[pid] = (vectors[i], sims[i])
        rows = [(pid, row) for pid in paper_ids if (row := self._known.get(pid)) is not None]
        if not rows:
            return np.zeros((0, self.dim), np.float32), np.zeros(0, np.int64), None
        vectors = np.stack([vector for _, (vector, _) in rows])
        ids = np.asarray([pid for pid, _ in rows], np.int64)
        if self.centred is None:
            return vectors, ids, None
        return vectors, ids, np.stack([sims for _, (_, sims) in rows])

    def _kept_rows(self) -> int:
        """How many papers' rows to keep: 64 MB of them (about 7,000 papers against a day of all
        arXiv, 2,000 candidates; 12,000 against the demo's day of 926)."""
        return max(1000, (64 << 20) // max(1, 4 * (len(self.embedded) + self.dim)))

    def titles(self, paper_ids: set[int]) -> dict[int, str]:
        """The titles of some papers (saved ones, to name in reasons), kept for the next reader."""
        missing = paper_ids - self._titles.keys()
        if missing:
            self._titles.update(Paper.objects.filter(pk__in=missing).values_list("pk", "title"))
        return {pid: self._titles[pid] for pid in paper_ids if pid in self._titles}


def _chunks(values: list, size: int = 900):  # SQLite's limit on a query's variables
    return [values[i : i + size] for i in range(0, len(values), size)]


def rank(
    user, candidates: list[int] | Pool, *, signals: Signals | None = None, limit: int | None = None
) -> list[Pick]:
    """The candidates (paper ids, or a Pool of them) the reader has not dismissed, saved or
    upvoted, best first, each with why. Candidates not embedded yet can still be picked through
    a followed author or category; the rest wait until the index has them."""
    signals = signals if signals is not None else signals_of(user)
    if signals.empty:
        return []
    pool = candidates if isinstance(candidates, Pool) else Pool(candidates)
    following = signals.following
    by_author = pool.by_authors({f.value: f.label for f in following.authors}) if following.authors else {}
    in_category = pool.in_categories(following.categories) if following.categories else {}
    # Not what they said no to, nor what they already keep or upvoted: that is not news.
    known = set(signals.negatives) | set(signals.positives) | signals.seen

    positives, positive_ids, positive_sims = pool.signal_rows(signals.positives)
    topics = _topic_vectors(following.topics)
    # The followed topics whose every word each paper holds.
    worded: dict[int, list[int]] = {}
    for j, topic_text in enumerate(following.topics):
        for pid in pool.about(topic_text):
            worded.setdefault(pid, []).append(j)
    scores = np.zeros(len(pool.embedded), np.float32)
    nearest = topic = np.full(len(pool.embedded), -1)
    if len(pool.embedded) and (len(positives) or topics is not None):
        negatives, _, negative_sims = pool.signal_rows(signals.negatives)
        scored = recommend.score(
            pool.vectors,
            positives,
            negatives,
            topics,
            centred=pool.centred,
            positive_sims=positive_sims,
            negative_sims=negative_sims,
            topic_floor=_topic_floor(pool, worded, topics),
        )
        scores, nearest, topic = scored.scores, scored.nearest, scored.topic
    if in_category:
        rows = [pool.row[pid] for pid in in_category if pid in pool.row]
        scores = scores.copy()
        scores[rows] += CATEGORY_BONUS
    # Followed authors' papers first, then the best by score; dismissed, saved and upvoted out.
    first = sorted(
        (pid for pid in pool.ids if pid in by_author and pid not in known),
        key=lambda pid: -scores[pool.row[pid]] if pid in pool.row else 0.0,
    )
    wanted = (limit or len(pool.ids)) + len(known) + len(first)
    if not len(positives):
        wanted = len(scores)  # a reader who only follows: papers without a reason are left out
    order = np.argsort(-scores, kind="stable")[:wanted] if len(scores) else np.zeros(0, int)
    ranked = first + [
        pid for pid in pool.embedded[order].tolist() if pid not in known and pid not in by_author
    ]
    if len(positives) or topics is not None:
        unembedded = [
            pid
            for pid in pool.ids
            if pid not in pool.row
            and (pid in in_category or pid in worded)
            and pid not in known
            and pid not in by_author
        ]
    else:  # follows only: nothing has a score, so only the followed count
        ranked = first + [
            pid for pid in pool.ids if pid in in_category and pid not in known and pid not in by_author
        ]
        unembedded = []
    ranked += unembedded

    picks = []
    for pid in ranked:
        i = pool.row.get(pid)
        pick = Pick(pid, float(scores[i]) if i is not None else 0.0)
        # The followed topic nearest the paper, and how near, if the paper is about it.
        about, closeness = worded.get(pid, [None])[0], TOPIC_MATCH
        if i is not None and topics is not None and topic[i] >= 0:
            cosine = float(pool.vectors[i] @ topics[topic[i]])
            if cosine >= TOPIC_MATCH or topic[i] in worded.get(pid, ()):
                about, closeness = int(topic[i]), max(cosine, TOPIC_MATCH)
        if pid in by_author:
            pick.reason = f"by {by_author[pid]}, whom you follow"
        elif (
            i is not None
            and nearest[i] >= 0
            and (about is None or float(pool.vectors[i] @ positives[nearest[i]]) >= closeness)
        ):
            pick.liked = int(positive_ids[nearest[i]])
        elif about is not None:
            pick.reason = f"follows topic “{following.topics[about]}”"
        elif pid in in_category:
            pick.reason = f"in {taxonomy.labelled(in_category[pid])}, which you follow"
        else:
            continue  # nothing the reader keeps or follows led here: no true reason to show it
        picks.append(pick)
        if limit and len(picks) == limit:
            break
    _name_liked(picks, pool)
    return picks


def _topic_floor(pool: Pool, worded: dict[int, list[int]], topics: np.ndarray | None) -> np.ndarray | None:
    """recommend.score's topic_floor: for an embedded paper and each topic whose words it holds,
    TOPIC_MATCH, plus a tenth of its cosine to keep such papers in order of it; else -1.1,
    under any cosine."""
    cells = [(pool.row[pid], j) for pid, held in worded.items() if pid in pool.row for j in held]
    if not cells or topics is None:
        return None
    rows, columns = np.asarray(cells).T
    floor = np.full((len(pool.embedded), len(topics)), -1.1, np.float32)
    cosines = np.einsum("ij,ij->i", pool.vectors[rows], topics[columns])
    floor[rows, columns] = TOPIC_MATCH + 0.1 * cosines
    return floor


def _name_liked(picks: list[Pick], pool: Pool) -> None:
    """Name the saved paper in the reasons of the picks that are shown: "like “<title>”"."""
    titles = pool.titles({pick.liked for pick in picks if pick.liked is not None})
    for pick in picks:
        title = titles.get(pick.liked, "") if pick.liked is not None else ""
        if title:
            pick.reason = f"like “{cut(title, 70)}”"


def _topic_vectors(topics: list[str]) -> np.ndarray | None:
    """Unit query vectors for followed topics (the query model keeps the vectors of the texts it
    met lately, so a followed topic is not run through it again at each visit)."""
    if not topics:
        return None
    from paperroute import search

    return search.embed_texts(topics)
