"""Papers by id with everything a result card shows, read with four fixed SQL statements.

`listings.annotated` says the same with querysets, and listings use it. A search, a ranking or
a feed instead asks for a list of ids, every time, and Django spent most of such a load building
and compiling its four queries and running the prefetch machinery around them: 7.0-8.7 ms for
20 papers at 1M, against 2.6-2.9 ms here (BENCHMARKS.md, "Loading the papers a search shows"),
where the SQL itself takes about 0.4 ms when its pages are cached. Here the statements are
plain SQL over the models' own tables and columns, and the rows become model instances through
Django's own converters and `Model.from_db`, with their relations cached as `annotated` leaves
them: `stats`, `submission.user` and `author_links` joined, and the `loaded_authorships`,
`loaded_categories` and `approved_claims` lists.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import connections, router

from paperroute.catalog.models import Author, Authorship, Category, Paper
from paperroute.community.models import AuthorClaim, PaperLinks, PaperStats, Submission

# Ids per statement: far below every backend's limit on parameters (SQLite's is 32,766).
CHUNK = 500


class _Columns:
    """One model's concrete columns, and how a row of them becomes an instance (with the
    converters Django's compiler would apply on this connection)."""

    def __init__(self, model, connection) -> None:
        quote = connection.ops.quote_name
        table = model._meta.db_table
        self.model = model
        fields = model._meta.concrete_fields
        self.sql = ", ".join(f"{quote(table)}.{quote(f.column)}" for f in fields)
        self.width = len(fields)
        self.converters = []
        for position, field in enumerate(fields):
            column = field.get_col(table)
            found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
            if found:
                self.converters.append((position, found, column))
        self.pk = [f.primary_key for f in fields].index(True)

    def make(self, row: tuple, start: int, connection):
        """The instance in row[start:start + width], or None where a LEFT JOIN found no row."""
        values = list(row[start : start + self.width])
        if values[self.pk] is None:
            return None
        for position, found, column in self.converters:
            value = values[position]
            for convert in found:
                value = convert(value, column, connection)
            values[position] = value
        return self.model.from_db(connection.alias, None, values)


class _Statements:
    """The four statements for one connection, with the column sets they read. Tables go by
    their own names, as in Django's SQL: no statement reads a table twice."""

    def __init__(self, connection) -> None:
        quote = connection.ops.quote_name
        user = get_user_model()
        self.paper, self.stats, self.submission, self.submitter, self.links = (
            _Columns(model, connection) for model in (Paper, PaperStats, Submission, user, PaperLinks)
        )
        self.authorship, self.author = _Columns(Authorship, connection), _Columns(Author, connection)
        self.category = _Columns(Category, connection)
        self.claim, self.claimant = _Columns(AuthorClaim, connection), _Columns(user, connection)

        def table(model) -> str:
            return quote(model._meta.db_table)

        def column(model, name: str) -> str:
            return f"{table(model)}.{quote(model._meta.get_field(name).column)}"

        paper_id = column(Paper, "id")
        papers = (
            f"SELECT {self.paper.sql}, {self.stats.sql}, {self.submission.sql}, {self.submitter.sql}, "
            f"{self.links.sql} FROM {table(Paper)} "
            f"LEFT JOIN {table(PaperStats)} ON {column(PaperStats, 'paper')} = {paper_id} "
            f"LEFT JOIN {table(Submission)} ON {column(Submission, 'paper')} = {paper_id} "
            f"LEFT JOIN {table(user)} ON {column(user, 'id')} = {column(Submission, 'user')} "
            f"LEFT JOIN {table(PaperLinks)} ON {column(PaperLinks, 'paper')} = {paper_id} "
        )
        self.papers = papers + f"WHERE {paper_id} IN ({{ids}})"
        self.paper_by_key = papers + f"WHERE {column(Paper, 'key')} = %s"
        # In the order Authorship.Meta.ordering gives: by paper, then position.
        self.authorships = (
            f"SELECT {self.authorship.sql}, {self.author.sql} FROM {table(Authorship)} "
            f"JOIN {table(Author)} ON {column(Author, 'id')} = {column(Authorship, 'author')} "
            f"WHERE {column(Authorship, 'paper')} IN ({{ids}}) "
            f"ORDER BY {column(Authorship, 'paper')}, {column(Authorship, 'position')}"
        )
        through = Paper._meta.get_field("categories")
        link = quote(through.m2m_db_table())
        owner = f"{link}.{quote(through.m2m_column_name())}"
        self.categories = (
            f"SELECT {owner}, {self.category.sql} FROM {table(Category)} "
            f"JOIN {link} ON {link}.{quote(through.m2m_reverse_name())} = {column(Category, 'id')} "
            f"WHERE {owner} IN ({{ids}}) ORDER BY {column(Category, 'code')}"
        )
        # In the order AuthorClaim.Meta.ordering gives: newest first.
        self.claims = (
            f"SELECT {self.claim.sql}, {self.claimant.sql} FROM {table(AuthorClaim)} "
            f"JOIN {table(user)} ON {column(user, 'id')} = {column(AuthorClaim, 'user')} "
            f"WHERE {column(AuthorClaim, 'status')} = %s AND {column(AuthorClaim, 'paper')} IN ({{ids}}) "
            f"ORDER BY {column(AuthorClaim, 'created_at')} DESC, {column(AuthorClaim, 'id')} DESC"
        )


_statements: dict[str, _Statements] = {}  # by database alias


def _for(connection) -> _Statements:
    statements = _statements.get(connection.alias)
    if statements is None:
        statements = _statements[connection.alias] = _Statements(connection)
    return statements


# Where each relation is cached on an instance, as select_related and prefetch leave it.
STATS = Paper._meta.get_field("stats")
SUBMISSION = Paper._meta.get_field("submission")
LINKS = Paper._meta.get_field("author_links")
SUBMITTER = Submission._meta.get_field("user")
AUTHORSHIP_PAPER = Authorship._meta.get_field("paper")
AUTHORSHIP_AUTHOR = Authorship._meta.get_field("author")
CLAIM_PAPER = AuthorClaim._meta.get_field("paper")
CLAIM_USER = AuthorClaim._meta.get_field("user")
STATS_PAPER = PaperStats._meta.get_field("paper")
SUBMISSION_PAPER = Submission._meta.get_field("paper")
LINKS_PAPER = PaperLinks._meta.get_field("paper")


def load(ids: Iterable[int]) -> dict[int, Paper]:
    """The papers with these ids that exist, by id, each as `listings.annotated` leaves it."""
    wanted = list(dict.fromkeys(int(i) for i in ids))
    connection = connections[router.db_for_read(Paper)]
    statements = _for(connection)
    papers: dict[int, Paper] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        marks = ", ".join(["%s"] * len(chunk))
        papers.update(_load(statements.papers.format(ids=marks), chunk, statements, connection))
    return papers


def load_key(key: str) -> Paper | None:
    """The paper with this key, as `listings.annotated` leaves it, or None (a paper's page reads
    its paper so: the queryset cost it 3 ms a view, most of it building the SQL)."""
    connection = connections[router.db_for_read(Paper)]
    statements = _for(connection)
    found = _load(statements.paper_by_key, [key], statements, connection)
    return next(iter(found.values()), None)


def _load(sql: str, params: list, s: _Statements, connection) -> dict[int, Paper]:
    """The papers the statement `sql` (s.papers or s.paper_by_key) selects, with their lists."""
    papers: dict[int, Paper] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        at_stats = s.paper.width
        at_submission = at_stats + s.stats.width
        at_submitter = at_submission + s.submission.width
        at_links = at_submitter + s.submitter.width
        for row in cursor.fetchall():
            paper = s.paper.make(row, 0, connection)
            stats = s.stats.make(row, at_stats, connection)
            submission = s.submission.make(row, at_submission, connection)
            if submission is not None:
                SUBMITTER.set_cached_value(submission, s.submitter.make(row, at_submitter, connection))
            links = s.links.make(row, at_links, connection)
            for relation, back, related in (
                (STATS, STATS_PAPER, stats),
                (SUBMISSION, SUBMISSION_PAPER, submission),
                (LINKS, LINKS_PAPER, links),
            ):
                relation.set_cached_value(paper, related)
                if related is not None:
                    back.set_cached_value(related, paper)
            # As listings.annotated's Coalesce expressions compute them.
            votes = stats.votes if stats is not None and stats.votes is not None else 0
            paper.upvotes = (paper.hf_upvotes or 0) + votes
            paper.num_comments = stats.comments if stats is not None and stats.comments is not None else 0
            paper.loaded_authorships, paper.loaded_categories, paper.approved_claims = [], [], []
            papers[paper.pk] = paper
        if not papers:
            return papers
        found = list(papers)
        marks = ", ".join(["%s"] * len(found))

        cursor.execute(s.authorships.format(ids=marks), found)
        _append(
            cursor,
            connection,
            papers,
            "loaded_authorships",
            (s.authorship, AUTHORSHIP_PAPER),
            (s.author, AUTHORSHIP_AUTHOR),
        )

        cursor.execute(s.categories.format(ids=marks), found)
        by_paper = defaultdict(list)
        for row in cursor.fetchall():
            by_paper[row[0]].append(s.category.make(row, 1, connection))
        for pid, categories in by_paper.items():
            papers[pid].loaded_categories = categories

        cursor.execute(s.claims.format(ids=marks), [AuthorClaim.APPROVED, *found])
        _append(
            cursor, connection, papers, "approved_claims", (s.claim, CLAIM_PAPER), (s.claimant, CLAIM_USER)
        )
    return papers


def _append(cursor, connection, papers: dict[int, Paper], attr: str, own: tuple, joined: tuple) -> None:
    """The rows just read, each a paper's (an authorship, a claim) with the row it joined (its
    author, its user), appended in order to the `attr` list of their paper."""
    (columns, to_paper), (joined_columns, to_joined) = own, joined
    for row in cursor.fetchall():
        item = columns.make(row, 0, connection)
        to_joined.set_cached_value(item, joined_columns.make(row, columns.width, connection))
        paper = papers[item.paper_id]
        to_paper.set_cached_value(item, paper)
        getattr(paper, attr).append(item)
