"""Papers of a day, week or month as readers ask for them: the community's picks or all of
them, in some categories, most upvoted, trending or newest first."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from paperroute.catalog import models as catalog_models
from paperroute.catalog.models import Authorship, Category, Paper
from paperroute.catalog.records import parse_arxiv_id
from paperroute.catalog.textclean import author_key
from paperroute.community import cards
from paperroute.community.models import AuthorClaim

SORTS = ("votes", "trending", "newest")
VIEWS = ("community", "all")


def annotated(papers: QuerySet) -> QuerySet:
    """Papers with `upvotes` (community + Hugging Face) and `num_comments` (visible comments),
    the links their verified authors set and their approved author claims."""
    return (
        papers.select_related("stats", "submission__user", "author_links")
        # A join rather than a second prefetch for the authors: a page of papers can name
        # thousands (physics collaborations), and Django prefetches a foreign key with one
        # OR term each, more than SQLite accepts in one expression.
        # Into plain lists (Paper.bylines, Paper.ordered_categories, authors.approved).
        .prefetch_related(
            Prefetch(
                "authorships",
                queryset=Authorship.objects.select_related("author"),
                to_attr="loaded_authorships",
            ),
            Prefetch("categories", to_attr="loaded_categories"),
            Prefetch(
                "author_claims",
                queryset=AuthorClaim.objects.filter(status=AuthorClaim.APPROVED).select_related("user"),
                to_attr="approved_claims",
            ),
        )
        .annotate(
            upvotes=Coalesce("hf_upvotes", Value(0))
            + Coalesce("stats__votes", Value(0), output_field=IntegerField()),
            num_comments=Coalesce("stats__comments", Value(0)),
        )
    )


def one(key: str) -> Paper | None:
    """The paper with this key, as `annotated` leaves it; for an arXiv id written with a version
    or a prefix (2411.17700v2, arXiv:2411.17700), the paper it names."""
    if "\x00" in key:
        return None  # no key holds one, and PostgreSQL refuses to compare with it
    paper = cards.load_key(key)
    if paper is None:
        try:
            arxiv_id, _ = parse_arxiv_id(key)
        except ValueError:
            return None
        if arxiv_id != key:
            paper = cards.load_key(arxiv_id)
    return paper


def by_id(ids: list[int]) -> dict[int, Paper]:
    """Papers by id, as `annotated` leaves them: what a search, a ranking or a card list shows
    (read by `cards.load` in fixed SQL, several milliseconds less than the queryset)."""
    return cards.load(ids)


def between(start: date, end: date) -> QuerySet:
    """Papers listed from start to end inclusive, most upvoted first, then the newest."""
    return annotated(Paper.objects.filter(listed_on__gte=start, listed_on__lte=end)).order_by(
        F("upvotes").desc(), F("published").desc(nulls_last=True), "key"
    )


# The papers the community picked: submitted to a daily feed (here or on Hugging Face), or
# upvoted here.
PICKED = Q(submitted_on__isnull=False) | Q(stats__votes__gt=0)


def community(papers: QuerySet) -> QuerySet:
    """The papers the community picked (PICKED)."""
    return papers.filter(PICKED)


def in_categories(papers: QuerySet, codes: list[str]) -> QuerySet:
    """Papers in any of the categories; an archive code (cs, math) stands for all of its own."""
    if not codes:
        return papers
    # A test on each paper the rest of the query keeps (a day's, a week's), not a list of every
    # paper in the categories first: at 100k papers that list made a listing's queries take
    # 130-150 ms each, and it grows with the catalogue (BENCHMARKS.md, "Listings at scale").
    links = Paper.categories.through.objects.filter(paper_id=OuterRef("pk"), category_id__in=_ids(codes))
    return papers.filter(Exists(links))


def _ids(codes: list[str]) -> QuerySet:
    return Category.objects.filter(catalog_models.category_codes(codes)).values("pk")


def sorted_by(papers: QuerySet, sort: str) -> QuerySet:
    """Most upvoted first (then newest), or newest first; "trending" is ranked by the caller."""
    if sort == "newest":
        return papers.order_by(F("published").desc(nulls_last=True), "key")
    return papers.order_by(F("upvotes").desc(), F("published").desc(nulls_last=True), "key")


def category_counts(papers: QuerySet, limit: int = 12, keep: tuple[str, ...] = ()) -> list[tuple[str, int]]:
    """The most common categories among the papers, with counts, and the ones in `keep`."""
    through = Paper.categories.through
    rows = (
        through.objects.filter(paper__in=papers.order_by().values("pk"))
        .values_list("category__code")
        .annotate(n=Count("paper_id", distinct=True))
        .order_by(F("n").desc(), "category__code")
    )
    counts = Counter(dict(rows))
    top = [code for code, _ in rows[:limit]]
    shown = top + [code for code in keep if code not in top]
    return [(code, counts.get(code, 0) or _archive_count(papers, code)) for code in shown]


def _archive_count(papers: QuerySet, code: str) -> int:
    return in_categories(papers, [code]).count() if "." not in code else 0


def period_with_papers(start: date, end: date, direction: int) -> date | None:
    """The nearest listing day with papers before `start` (-1) or after `end` (+1)."""
    if direction < 0:
        return latest_day(on_or_before=start - timedelta(days=1)) if start > date.min else None
    return (
        Paper.objects.filter(listed_on__gt=end)
        .order_by("listed_on")
        .values_list("listed_on", flat=True)
        .first()
    )


def current_day(today: date) -> date:
    """The day the home page, the daily feed and the API show by default: today, or the latest
    day before it with papers. Never a later one: a record dated in the future (a typo in a
    file) took their place and hid every real day until that date came."""
    if between(today, today).exists():
        return today
    return latest_day(on_or_before=today) or today


def latest_day(on_or_before: date | None = None) -> date | None:
    """The most recent day that has papers (on or before a day, when given)."""
    papers = Paper.objects.exclude(listed_on=None)
    if on_or_before:
        papers = papers.filter(listed_on__lte=on_or_before)
    return papers.order_by("-listed_on").values_list("listed_on", flat=True).first()


def by_category(code: str) -> QuerySet:
    """A category's papers, or an archive's (cs: every cs.* category), newest listed first."""
    # Read newest listed first, each paper tested as it comes (in_categories), a page costs what
    # its papers do. Sorting every paper of the category first made cs's page take 342 ms at
    # 100k papers and 3.1 s at 1M (BENCHMARKS.md, "Listings at scale").
    papers = in_categories(Paper.objects.all(), [code])
    return annotated(papers).order_by(F("listed_on").desc(nulls_last=True), F("upvotes").desc(), "key")


def category_links(code: str) -> QuerySet:
    """The links of `by_category`'s papers to the category (or the archive's categories): the
    fastest way to count them (42 ms for cs at 100k papers, against 264 ms with in_categories'
    test of each paper)."""
    return Paper.categories.through.objects.filter(category_id__in=_ids([code]))


def by_author(name: str) -> QuerySet:
    """An author's papers, whichever way a source spelled the name (TeX or Unicode)."""
    return annotated(Paper.objects.filter(authors__key=author_key(name)).distinct()).order_by(
        F("published").desc(nulls_last=True), "key"
    )
