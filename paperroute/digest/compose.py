"""Choosing each subscriber's papers: the period's trending papers, the reader's own "For you"
picks when the subscriber has an account, one section per followed topic, then, when too few
papers were voted on, the period's other new papers.

A Composer is made once per period: it loads the trending pool and runs each distinct followed
topic through the hybrid search once, so that ten thousand subscribers cost ten thousand set
operations rather than ten thousand searches. A paper appears at most once in a digest, and
never in a digest to a subscriber who was already sent it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from django.conf import settings
from django.db.models import Case, F, Q, Value, When
from django.urls import reverse

from paperroute import search
from paperroute.catalog import latex, taxonomy
from paperroute.catalog import models as catalog_models
from paperroute.catalog.models import Paper
from paperroute.catalog.textclean import teaser_text
from paperroute.community import listings, trending
from paperroute.digest.periods import Period
from paperroute.library import foryou

log = logging.getLogger(__name__)

POOL = 200  # papers of the period considered for the trending section, and for the new one
TOPIC_DEPTH = 30  # search results considered per followed topic
TOPIC_SECTION = 5  # papers shown per followed topic
# The hybrid ranking always returns something, so a result must also match on its own terms:
# its title and abstract hold every word of the topic, or its embedding is close to the topic's
# (cosine similarity of the MiniLM vectors). Measured on the demo day: papers that share one
# word sit below it ("Decoding convolutional codes" 0.44 for "speculative decoding"; a PPO paper
# 0.52 for "reinforcement learning from human feedback"), the papers about the topic above it.
MIN_SIMILARITY = 0.55
STOPWORDS = frozenset(
    "a an and are as at be by for from in into is of on or the to with via using based towards toward".split()
)
AUTHORS_SHOWN = 4
FOR_YOU_POOL = 2000  # the period's papers a reader's "For you" section is ranked from
FOR_YOU_SECTION = 5


@dataclass
class Card:
    """What a digest shows of one paper."""

    pid: int
    key: str
    title: str
    url: str
    authors: str
    teaser: str
    votes: int
    code_url: str
    categories: tuple[str, ...]
    picked: bool = False  # listed by a daily feed (here or Hugging Face's) or voted on here
    html: str = ""
    text: str = ""


@dataclass
class Section:
    title: str
    topic: str
    cards: list[Card]
    # Why each paper was picked, for a section made for one reader (never shared by others).
    reasons: dict[int, str] | None = None


@dataclass
class Personal:
    """What a subscriber's account adds: its followed topics and its "For you" picks."""

    topics: list[str] = field(default_factory=list)
    picks: list[tuple[int, str]] = field(default_factory=list)  # (paper id, why), best first


@dataclass
class Digest:
    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    trending: bool = False  # whether it opens with papers that readers voted on
    # The paper the subject names: the first that readers voted on or picked. None rather than
    # an arbitrary paper on a day nobody voted, when the subject counts `period_papers`: the
    # period's papers in the subscriber's categories.
    headline: Card | None = None
    period_papers: int = 0
    categories: tuple[str, ...] = ()  # the subscriber's, which the link to the period's listing keeps

    @property
    def papers(self) -> list[Card]:
        return [card for section in self.sections for card in section.cards]


class Wants(Protocol):
    """What decides a digest's content: a Subscriber, or Preferences for an address that is none."""

    @property
    def max_papers(self) -> int: ...
    @property
    def categories(self) -> list[str]: ...
    @property
    def topics(self) -> list[str]: ...
    @property
    def pk(self) -> int | None: ...


@dataclass
class Preferences:
    """The defaults, for a preview to an address that has no subscription."""

    max_papers: int = 10
    categories: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    pk: int | None = None
    user_id: int | None = None  # the reader's account, whose "For you" picks are added


def site_url() -> str:
    from django.conf import settings

    return settings.CONFIG.site_url.rstrip("/")


def shorten_authors(names: list[str]) -> str:
    if len(names) <= AUTHORS_SHOWN:
        return ", ".join(names)
    return ", ".join(names[: AUTHORS_SHOWN - 1]) + f" and {len(names) - AUTHORS_SHOWN + 1} more"


def teaser(paper: Paper) -> str:
    """One sentence: the Hugging Face summary when there is one, else the abstract's first."""
    # Mail shows no TeX: as the site's plain text ($\alpha$-models is α-models).
    text = " ".join(latex.to_plain(teaser_text(paper.ai_summary or paper.abstract or "")).split())
    match = re.match(r"(.{40,}?[.!?])(\s|$)", text)
    sentence = match.group(1) if match else text
    return sentence if len(sentence) <= 280 else sentence[:277].rsplit(" ", 1)[0] + "…"


def _prefix(word: str) -> str:
    # Five letters stand in for a stem: network/networks, decoding/decoder, model/models.
    return word[:5]


def topic_terms(query: str) -> set[str]:
    """The words of a topic that a matching paper should contain, as prefixes."""
    words = re.findall(
        r"[\w-]+", " ".join(t for t in query.lower().split() if ":" not in t and not t.startswith("-"))
    )
    return {_prefix(w) for w in words if len(w) > 1 and w not in STOPWORDS}


def covered(terms: set[str], text: str) -> int:
    """How many of the terms appear in a text."""
    present = {_prefix(w) for w in re.findall(r"[\w-]+", text.lower())}
    return len(terms & present)


def in_categories(card: Card, wanted: list[str]) -> bool:
    """Whether a paper is in any wanted category; an archive (cs) covers its categories."""
    if not wanted:
        return True
    return any(taxonomy.within(code, want) for code in card.categories for want in wanted)


class Composer:
    """The papers of one period, and each subscriber's selection from them."""

    def __init__(self, period: Period, *, now: datetime) -> None:
        self.period = period
        self.now = now
        self.cards: dict[int, Card] = {}
        self.topics: dict[str, list[int] | None] = {}
        self.rendered: dict = {}  # sections rendered for one subscriber, reused for the next
        self.personal: dict[int, Personal] = {}  # by subscriber, filled by prepare()
        self._for_you: foryou.Pool | None = None
        # Only papers with votes: a paper nobody voted on is new, not trending.
        papers = [r.paper for r in trending.top(period.start, period.end, limit=POOL, now=now)]
        self.pool: list[int] = [p.pk for p in papers]
        self._add_cards(papers)
        self.unvoted: dict[tuple[str, ...], list[int]] = {}  # by the subscriber's categories
        self.listed_in: dict[tuple[str, ...], int] = {}  # the period's papers in those categories
        self.base = site_url()

    def _listed(self):
        return Paper.objects.filter(listed_on__gte=self.period.start, listed_on__lte=self.period.end)

    def new_papers(self, categories: list[str]) -> list[int]:
        """The period's papers in the categories that are not trending, best first: the
        community's picks, then those filed in the categories the site follows (what its
        listings open with), then those cross-listed there, then the rest; each group in listing
        order, newest first."""
        wanted = tuple(sorted(categories))
        if wanted not in self.unvoted:
            listed = listings.in_categories(self._listed(), list(wanted))
            self.listed_in[wanted] = listed.count()
            ordered = (
                listed.exclude(pk__in=self.pool)
                .annotate(
                    picked=Case(When(listings.PICKED, then=Value(0)), default=Value(1)),
                    outside=self._outside_site(),
                )
                .order_by("picked", "outside", F("published").desc(nulls_last=True), "key")
            )
            self.unvoted[wanted] = list(ordered.values_list("pk", flat=True)[:POOL])
            self._add_cards(
                listings.by_id([pk for pk in self.unvoted[wanted] if pk not in self.cards]).values()
            )
        return self.unvoted[wanted]

    def _outside_site(self) -> Case | Value:
        """0 for a paper filed in a category the site follows, 1 for one cross-listed there, else 2."""
        site = list(settings.CONFIG.arxiv_categories)
        if not site:
            return Value(0)
        filed = Q()
        for code in site:  # an archive (cs) stands for its categories, as in taxonomy.within
            filed |= Q(primary_category=code) | Q(primary_category__startswith=code + ".")
        listed = self._listed().filter(catalog_models.in_categories(site)).values("pk")
        return Case(When(filed, then=Value(0)), When(pk__in=listed, then=Value(1)), default=Value(2))

    def _add_cards(self, papers) -> None:
        base = site_url()
        for paper in papers:
            if paper.pk in self.cards:
                continue
            self.cards[paper.pk] = Card(
                pid=paper.pk,
                key=paper.key,
                title=" ".join(paper.title_text.split()),
                url=base + reverse("paper", args=[paper.key]),
                authors=shorten_authors(paper.author_names),
                teaser=teaser(paper),
                votes=int(getattr(paper, "upvotes", 0) or 0),
                code_url=paper.code_link,
                categories=tuple(c.code for c in paper.ordered_categories),
                picked=paper.submitted_on is not None or bool(getattr(paper, "upvotes", 0)),
            )

    def topic(self, query: str) -> list[int] | None:
        """The period's papers matching a followed topic, best first; None if it cannot run."""
        norm = " ".join(query.lower().split())
        if norm not in self.topics:
            self.topics[norm] = self._search(norm)
        return self.topics[norm]

    def _search(self, query: str) -> list[int] | None:
        try:
            hybrid = search.search(
                query, mode="hybrid", limit=TOPIC_DEPTH, since=self.period.start, until=self.period.end
            )
            semantic = search.search(
                query, mode="semantic", limit=TOPIC_DEPTH, since=self.period.start, until=self.period.end
            )
        except search.SearchError as exc:
            log.warning("followed topic %r cannot be searched: %s", query, exc)
            return None
        close = {hit.key for hit in semantic.hits if hit.score >= MIN_SIMILARITY}
        keys = [h.key for h in hybrid.hits]
        papers = {p.key: p for p in listings.annotated(Paper.objects.filter(key__in=keys))}
        terms = topic_terms(query)
        matched = [
            papers[k]
            for k in keys
            if k in papers
            and (k in close or covered(terms, papers[k].title + " " + papers[k].abstract) == len(terms))
        ]
        self._add_cards(matched)
        return [p.pk for p in matched]

    def prepare(self, subscribers) -> None:
        """Search the subscribers' topics, rank their "For you" picks and load the new papers of
        their categories, ahead of digest(): candidate_ids() then holds every paper it may show."""
        readers = {s.pk: s.user_id for s in subscribers if getattr(s, "user_id", None)}
        signals = foryou.signals_for(sorted(set(readers.values()))) if readers else {}
        picked: set[int] = set()
        for subscriber in subscribers:
            reader = readers.get(subscriber.pk)
            mine = signals.get(reader) if reader is not None else None
            personal = Personal()
            if mine is not None:
                personal.topics = [
                    t for t in dict.fromkeys(mine.following.topics) if t not in subscriber.topics
                ]
                if not mine.empty:
                    # More than a section's worth: some may have been sent or shown above.
                    picks = foryou.rank(None, self._for_you_pool(), signals=mine, limit=3 * FOR_YOU_SECTION)
                    personal.picks = [(pick.paper_id, pick.reason) for pick in picks]
                    picked.update(pick.paper_id for pick in picks)
            for topic in [*subscriber.topics, *personal.topics]:
                self.topic(topic)
            self.new_papers(subscriber.categories)
            if subscriber.pk is not None:
                self.personal[subscriber.pk] = personal
        self._add_cards(listings.by_id(sorted(picked - set(self.cards))).values())

    def _for_you_pool(self) -> foryou.Pool:
        """The period's papers "For you" ranks, with their vectors, loaded once per period."""
        if self._for_you is None:
            self._for_you = foryou.Pool(
                list(
                    listings.between(self.period.start, self.period.end).values_list("pk", flat=True)[
                        :FOR_YOU_POOL
                    ]
                )
            )
        return self._for_you

    def digest(self, prefs: Wants, already_sent: set[int] | frozenset = frozenset()) -> Digest:
        """One subscriber's digest: trending first, then what was picked for them, then each
        topic's new papers, then other new papers if too few trend; no paper twice."""
        new = self.new_papers(prefs.categories)
        result = Digest(
            period_papers=self.listed_in[tuple(sorted(prefs.categories))], categories=tuple(prefs.categories)
        )
        shown = set(already_sent)
        # Both go out after their period ("today" and "this week" were said of the past).
        start = self.period.start
        weekly = f"in the week of {start:%B} {start.day}"
        label = f"on {start:%A}" if self.period.frequency == "daily" else weekly
        top = self._unshown(self.pool, prefs.categories, shown, prefs.max_papers)
        if top:
            result.sections.append(Section(f"Trending {label}", "", top))
            result.trending = True
        personal = (self.personal.get(prefs.pk) if prefs.pk is not None else None) or Personal()
        mine, reasons = [], {}
        for pid, reason in personal.picks:
            pick = self.cards.get(pid)
            if pick is not None and pid not in shown and in_categories(pick, prefs.categories):
                mine.append(pick)
                reasons[pid] = reason
                shown.add(pid)
                if len(mine) >= FOR_YOU_SECTION:
                    break
        if mine:
            result.sections.append(Section("For you", "", mine, reasons))
        for topic in [*prefs.topics, *personal.topics]:
            matches = self.topic(topic)
            if matches is None:
                # Quoted as a reader writes it: repr()'s quotes and backslashes were code, not prose.
                result.notes.append(f"your topic “{' '.join(topic.split())}” could not be searched")
                continue
            cards = self._unshown(matches, prefs.categories, shown, TOPIC_SECTION)
            if cards:
                result.sections.append(Section(topic, topic, cards))
        # Last, so that a paper of a followed topic is shown in the section that says why.
        fresh = self._unshown(new, prefs.categories, shown, prefs.max_papers - len(top))
        if fresh:
            result.sections.append(Section(f"New {label}", "", fresh))
        result.headline = next((card for card in result.papers if card.picked), None)
        return result

    def _unshown(self, pids: list[int], categories: list[str], shown: set[int], limit: int) -> list[Card]:
        """Up to `limit` of the papers, in order, that are in the categories and not shown yet
        (adding them to `shown`)."""
        cards: list[Card] = []
        for pid in pids:
            if len(cards) >= limit:
                break
            card = self.cards[pid]
            if pid not in shown and in_categories(card, categories):
                cards.append(card)
                shown.add(pid)
        return cards

    def candidate_ids(self) -> set[int]:
        return set(self.cards)


def eligible(frequency: str):
    """Confirmed subscribers of a frequency, as a queryset."""
    from paperroute.digest.models import Subscriber

    return Subscriber.objects.filter(Q(status=Subscriber.CONFIRMED) & Q(frequency=frequency))
