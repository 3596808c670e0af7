"""The JSON API (django-ninja), compatible with Hugging Face's papers API: daily papers, papers,
search, submissions, comments and upvotes. Response shapes live in paperroute.web.api_shapes.

OpenAPI lives at /api/openapi.json and the browsable docs at /api/docs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from urllib.parse import quote, urlencode

from django.db.models import DateTimeField, F, Q
from django.db.models.functions import Cast, Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Body, NinjaAPI, Path, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, SessionAuth
from pydantic import Field, computed_field

from paperroute.catalog.models import Paper
from paperroute.community import authors, comments, listings, submissions, tokens, trending, votes
from paperroute.community.errors import InvalidInput, NotAllowed, RateLimited
from paperroute.library import foryou
from paperroute.web import periods, searching
from paperroute.web.api_shapes import (
    CommentOut,
    DailyItemOut,
    PaperDetailOut,
    PaperOut,
    comment_out,
    item_out,
    paper_out,
)
from paperroute.web.context import absolute
from paperroute.web.views.errors import error_json

# What the schema promises: a paper id holds no control character, a query no NUL.
# Anything else is refused before it reaches a view (400, or 404 for an id).
ID_CHARS = r"\x00-\x1f\x7f"  # the characters an id may not hold
PaperId = Annotated[str, Path(pattern=rf"^[^{ID_CHARS}]+$")]


def _none_of(words: list[str]) -> str:
    """A pattern for ids other than these words (routes such as /papers/search, which a
    GET /papers/{id} of the same text reaches instead). The schema's regex and pydantic's have
    no look-ahead, so it lists what else may match: any other length, or for a length some
    words have, a first character where the id differs from all of them."""
    char = f"[^{ID_CHARS}]"

    def differing(same_length: list[str]) -> list[str]:
        if not same_length[0]:
            return []  # the word itself
        rest = len(same_length[0]) - 1
        firsts = sorted({w[0] for w in same_length})
        tail = f"{char}{{{rest}}}" if rest else ""
        other = "[^" + "".join(re.escape(f) for f in firsts) + ID_CHARS + "]" + tail
        return [other] + [
            re.escape(first) + f"(?:{'|'.join(inner)})"
            for first in firsts
            if (inner := differing([w[1:] for w in same_length if w[0] == first]))
        ]

    lengths = sorted({len(w) for w in words})
    spans = [(low, high - 1) for low, high in zip([1] + [n + 1 for n in lengths], lengths) if low < high]
    options = [f"{char}{{{low},{high}}}" for low, high in spans] + [f"{char}{{{lengths[-1] + 1},}}"]
    for length in lengths:
        options += differing([w for w in words if len(w) == length])
    return "^(?:" + "|".join(options) + ")$"


# A paper's own page: an id that is not one of the routes beside it.
PaperPageId = Annotated[str, Path(pattern=_none_of(["index", "search"]))]
# Text with nothing visible in it, to Python (whose \s holds \x1c-\x1f and \x85) or to JavaScript
# (whose \s holds the byte order mark).
BLANK = re.compile(r"[\s\ufeff]*")
# Text with something visible in it, as comments.clean_body keeps it: a character that is not
# blank in any regex engine that reads the schema, nor to Python's strip(). \s differs between
# them: the next line \x85 is not blank to JavaScript, the byte order mark to it alone.
COMMENT_TEXT = r"^[\s\S]*[^\s\x00-\x1f\x7f\x85\ufeff][\s\S]*$"
# The spellings of an arXiv id that submissions.parse_submission understands (a subset of them).
ARXIV_ID = (
    r"^((arXiv:)?|https?://(www\.)?arxiv\.org/(abs|pdf)/)"
    r"([0-9]{2}(0[1-9]|1[0-2])\.[0-9]{4,5}|[a-z][a-z-]*(\.[A-Z]{2})?/[0-9]{7})"
    r"(v[0-9]{1,4})?(\.pdf)?$"
)

api = NinjaAPI(
    title="paperroute API",
    version="1",
    description="Daily papers, paper records, search, submissions, comments and upvotes, "
    "compatible with Hugging Face's papers API (and its huggingface_hub "
    "client): see docs/api.md's compatibility table for the differences.",
    urls_namespace="api",
)


# The endpoints anyone may read, without signing in: the ones other sites' pages may fetch from
# the browser too (paperroute.web.cors), by their url names (the view functions' names, and
# django-ninja's for the OpenAPI document). An endpoint that needs auth is never one of them.
PUBLIC_READS = frozenset({"daily_papers", "search_papers", "list_papers", "paper_detail", "openapi-json"})


class BearerToken(HttpBearer):
    """A personal API token from the settings page: `Authorization: Bearer prt_…`."""

    def authenticate(self, request, token):
        user = tokens.authenticate(token)
        if user is not None:
            request.user = user
        return user


class SignedInSession(SessionAuth):
    """A signed-in browser session, whose writes need their CSRF token. A request that is not
    signed in has nothing to forge: it is told to sign in or send a token (401), where
    django-ninja's check answered a script without a session "CSRF check Failed" (403)."""

    def _get_key(self, request):
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)


WRITE_AUTH = [BearerToken(), SignedInSession()]


class VoteOut(Schema):
    upvoted: bool
    upvotes: int


class ErrorOut(Schema):
    detail: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def error(self) -> str:
        """The message again, where Hugging Face's API puts it (huggingface_hub reads it here)."""
        return self.detail


class PeriodQuery(Schema):
    date: str | None = Field(
        None,
        pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
        description="one day, YYYY-MM-DD (default: today, or the most recent day with papers)",
    )
    week: str | None = Field(
        None, pattern=r"^[0-9]{4}-W(0[1-9]|[1-4][0-9]|5[0-3])$", description="one ISO week, YYYY-Www"
    )
    month: str | None = Field(None, pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="one month, YYYY-MM")


class DailyQuery(PeriodQuery):
    submitter: str | None = Field(
        None,
        pattern=r"^[^\x00-\x1f\x7f]{1,200}$",
        description="only papers this user submitted (a username here, "
        "or a Hugging Face username); without a period, all "
        "of them",
    )
    sort: Literal["publishedAt", "trending", "upvotes"] = Field(
        "publishedAt",
        description="publishedAt (newest first, Hugging Face's default), trending "
        "(votes decayed with time; across all papers when no period or "
        "submitter is given) or upvotes (most upvoted first)",
    )
    p: int = Field(0, ge=0, le=100_000, description="page number, from 0")
    limit: int = Field(50, ge=1, le=100, description="items per page")


def _period(query) -> periods.Period:
    """The day, week or month a query names (the narrowest given wins: date, then week, then
    month); by default today, or the most recent day with papers. BadPeriod if it does not
    exist (the schema checks the form, so this is 2021-W53 or 2024-02-30)."""
    chosen = [(n, v) for n, v in (("date", query.date), ("week", query.week), ("month", query.month)) if v][
        :1
    ]
    if not chosen:
        return periods.day(listings.current_day(timezone.localdate()))
    name, value = chosen[0]
    parser = {"date": periods.parse_day, "week": periods.parse_week, "month": periods.parse_month}[name]
    try:
        return parser(value)
    except periods.BadPeriod as exc:
        raise periods.BadPeriod(f"{name}: {exc}") from None


def _next_link(request: HttpRequest, response: HttpResponse, **changes: str) -> None:
    params = {**request.GET.dict(), **changes}
    response["Link"] = f'<{absolute(request.path)}?{urlencode(params)}>; rel="next"'


@api.get(
    "/daily_papers",
    response={200: list[DailyItemOut], 400: ErrorOut, 404: ErrorOut},
    by_alias=True,
    # An unclaimed author is {_id, name, hidden}, as on Hugging Face: no null claim fields.
    exclude_unset=True,
    summary="Papers of a day, week or month",
)
def daily_papers(request: HttpRequest, response: HttpResponse, query: Query[DailyQuery]):
    """Items shaped like Hugging Face's /api/daily_papers. `X-Total-Count` gives the number of
    papers asked for (not sent for the global trending list) and `Link: <…>; rel="next"` the next
    page while there is one."""
    start, end = query.p * query.limit, (query.p + 1) * query.limit
    dated = query.date or query.week or query.month
    if query.sort == "trending" and not dated and not query.submitter:
        # Hugging Face's trending without a date: what trends now, across every day.
        window, more = trending.now_trending_window(start, end)
        if more:
            _next_link(request, response, p=str(query.p + 1))
        return Status(200, [item_out(p) for p in window])
    if dated or not query.submitter:
        try:
            period = _period(query)
        except periods.BadPeriod as exc:
            return Status(404, {"detail": str(exc)})
        papers = listings.between(period.start, period.end)
    else:
        papers = listings.annotated(Paper.objects.exclude(listed_on=None))
    if query.submitter:
        papers = papers.filter(
            Q(submission__user__username=query.submitter)
            | Q(submission__isnull=True, hf_submitted_by=query.submitter)
        )
    total = papers.count()
    if query.sort == "publishedAt":
        rows = list(
            papers.order_by(PUBLISHED_AT.desc(nulls_last=True), F("upvotes").desc(), "key")[start:end]
        )
    elif query.sort == "trending":
        # As the listing pages rank a period: its voted papers by decayed votes, then the others,
        # each page read on its own (not every paper of a month up to it).
        rows = trending.TrendingOrder(papers, timezone.now())[start:end]
    else:
        rows = list(
            papers.order_by(F("upvotes").desc(), PUBLISHED_AT.desc(nulls_last=True), "key")[start:end]
        )
    response["X-Total-Count"] = str(total)
    if end < total:
        _next_link(request, response, p=str(query.p + 1))
    return Status(200, [item_out(p) for p in rows])


@api.get(
    "/papers/search",
    response={200: list[DailyItemOut], 400: ErrorOut},
    by_alias=True,
    exclude_unset=True,
    summary="Search papers",
)
def search_papers(
    request: HttpRequest,
    response: HttpResponse,
    q: str = Query("", pattern=r"^[^\x00]*$", max_length=1000, description="without one, the newest papers"),
    limit: int = Query(20, ge=1, le=120),
    mode: Literal["hybrid", "lexical", "semantic"] = "hybrid",
    spell: bool = Query(True, description="correct words no paper contains"),
):
    """Hybrid (default), keyword or semantic search; the query syntax is described in the README.
    Only papers that match are returned, possibly none. `X-Total-Count` is how many match
    (`X-Total-Estimated: true` when it is an estimate); a query corrected for typos says so in
    `X-Search-Corrected`, and an offered correction comes in `X-Search-Suggestion`.
    `X-Search-Index-Behind: true` says the search index lags the catalogue (or is not built
    yet): the newest papers may be missing until the worker syncs it.

    Without a query (or with a blank one), the newest papers, as `/api/papers` lists them:
    what `huggingface_hub`'s `list_papers()` asks for when given no query."""
    if BLANK.fullmatch(q):
        return Status(200, [item_out(p) for p in newest()[:limit]])
    try:
        opts = searching.options({"q": q, "mode": mode, "spell": "1" if spell else "0"})
        found = searching.run(opts, limit=limit, snippets=False)
    except searching.BadSearch as exc:
        return Status(400, {"detail": str(exc)})
    response["X-Total-Count"] = str(found.total)
    response["X-Total-Estimated"] = "false" if found.exact else "true"
    if found.behind:
        response["X-Search-Index-Behind"] = "true"
    if found.corrected:
        response["X-Search-Corrected"] = quote(found.corrected)
    elif found.suggestion:
        response["X-Search-Suggestion"] = quote(found.suggestion)
    return Status(200, [item_out(p) for p in found.papers])


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LAST_MICROSECOND = (datetime(9999, 12, 31, tzinfo=UTC) - EPOCH) // timedelta(microseconds=1)


# The publishedAt the papers show (api_shapes.published_at), for ordering by it.
PUBLISHED_AT = Coalesce("published", Cast("announced_on", DateTimeField()))


def newest():
    """Every paper, newest first: by arXiv submission time, or the time it was added here."""
    papers = Paper.objects.annotate(sort_time=Coalesce("published", "created_at"))
    return listings.annotated(papers).order_by("-sort_time", "-pk")


def _cursor(paper: Paper) -> str:
    """Where the next page starts: the paper's sort time (µs since 1970) and its row id."""
    # The Coalesce("published", "created_at") the list is sorted by, computed again.
    sort_at = paper.published or paper.created_at
    return f"{(sort_at - EPOCH) // timedelta(microseconds=1)}-{paper.pk}"


@api.get(
    "/papers",
    response={200: list[PaperOut], 400: ErrorOut},
    by_alias=True,
    exclude_unset=True,
    summary="Every paper, newest first",
)
def list_papers(
    request: HttpRequest,
    response: HttpResponse,
    cursor: str | None = Query(
        None, pattern=r"^[0-9]{1,20}-[0-9]{1,19}$", description="from the previous page's Link header"
    ),
    limit: int = Query(50, ge=1, le=100),
):
    """All papers by arXiv submission time (the time they were added here when they have none),
    newest first. `Link: <…>; rel="next"` gives the next page while there is one."""
    papers = newest()
    if cursor:
        micro, pk = (int(part) for part in cursor.split("-"))
        at = EPOCH + timedelta(microseconds=min(micro, LAST_MICROSECOND))
        pk = min(pk, 2**63 - 1)
        # The first condition alone bounds a range of the index the list is read in
        # (catalog_paper_newest); the OR alone would make the database walk from the top.
        papers = papers.filter(Q(sort_time__lte=at), Q(sort_time__lt=at) | Q(pk__lt=pk))
    rows = list(papers[: limit + 1])
    if len(rows) > limit:
        rows = rows[:limit]
        _next_link(request, response, cursor=_cursor(rows[-1]))
    return Status(200, [paper_out(p) for p in rows])


class IndexIn(Schema):
    arxivId: str = Field(
        pattern=ARXIV_ID,
        max_length=300,
        description=(
            "an arXiv id or an arXiv abs/PDF link (the submit page also takes Hugging Face paper "
            "links and arXiv DOIs)"
        ),
    )


@api.post(
    "/papers/index",
    auth=WRITE_AUTH,
    by_alias=True,
    exclude_unset=True,
    response={
        200: PaperOut,
        201: PaperOut,
        400: ErrorOut,
        401: ErrorOut,
        404: ErrorOut,
        429: ErrorOut,
        503: ErrorOut,
    },
    summary="Submit an arXiv paper to today's listing",
)
def index_paper(request: HttpRequest, body: IndexIn):
    """What the submit page does: fetch the paper from arXiv and list it today, credited to you.
    201 when this added it, 200 when it was already here (and nothing changed)."""
    arxiv_id = submissions.parse_submission(body.arxivId)
    try:
        paper, added = submissions.submit(request.user, arxiv_id, today=timezone.localdate())
    except InvalidInput as exc:
        # The id is well formed, so it is arXiv that has no listable paper by it.
        raise Http404(str(exc)) from None
    except submissions.ArxivUnavailable as exc:
        return Status(503, {"detail": str(exc)})
    return Status(201 if added else 200, paper_out(find_paper(paper.key)))


class CommentIn(Schema):
    comment: str = Field(
        pattern=COMMENT_TEXT,
        max_length=comments.MAX_LENGTH,
        description="Markdown (CommonMark, with TeX math); raw HTML is shown as text",
    )


@api.post(
    "/papers/{path:paper_id}/comment",
    auth=WRITE_AUTH,
    by_alias=True,
    exclude_unset=True,
    response={201: CommentOut, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 429: ErrorOut},
    summary="Comment on a paper",
)
def comment_add(request: HttpRequest, paper_id: PaperId, body: CommentIn = Body(...)):
    comment = comments.add(request.user, find_paper(paper_id), body.comment)
    return Status(201, comment_out(comment))


@api.post(
    "/papers/{path:paper_id}/comment/{comment_id}/reply",
    auth=WRITE_AUTH,
    by_alias=True,
    exclude_unset=True,
    response={201: CommentOut, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 429: ErrorOut},
    summary="Reply to a comment",
)
def comment_reply(
    request: HttpRequest,
    paper_id: PaperId,
    comment_id: int = Path(..., ge=1, le=2**63 - 1),
    body: CommentIn = Body(...),
):
    """Replies are one level deep: a reply to a reply joins the thread of the comment on top."""
    paper = find_paper(paper_id)
    parent = comments.visible(paper).filter(pk=comment_id).first()
    if parent is None:
        raise Http404(f"paper {paper.key} has no comment {comment_id}")
    try:
        comment = comments.add(request.user, paper, body.comment, parent=parent)
    except NotAllowed:
        # The thread's top comment is hidden, so to readers it has nothing to reply to.
        raise Http404(f"paper {paper.key} has no comment {comment_id} open to replies") from None
    return Status(201, comment_out(comment))


def find_paper(paper_id: str) -> Paper:
    """The paper with this id, with its counts (upvotes, num_comments); Http404 (a 404 JSON answer
    in the API) when there is none. Also what the MCP server looks papers up with."""
    paper = listings.one(paper_id)
    if paper is None:
        raise Http404(f"no paper with the id {paper_id!r}")
    return paper


# What the links endpoint accepts, in the schema too: a GitHub repository, an http(s) address whose
# host has a dot, or '' to clear one. paperroute.community.authors checks the same again.
GITHUB_REPO = r"^(https://(www\.)?github\.com/[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}/?)?$"
WEB_PAGE = r"^(https?://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:[0-9]{1,5})?([/?#][^\x00-\x20<>\"\\`{}|^]*)?)?$"


class LinksIn(Schema):
    githubRepo: str | None = Field(
        None,
        max_length=500,
        pattern=GITHUB_REPO,
        description="https://github.com/owner/repo; an empty string clears it, leaving it out keeps it",
    )
    projectPage: str | None = Field(
        None,
        max_length=500,
        pattern=WEB_PAGE,
        description="an http(s) address; an empty string clears it, leaving it out keeps it",
    )


@api.post(
    "/papers/{path:paper_id}/links",
    auth=WRITE_AUTH,
    by_alias=True,
    exclude_unset=True,
    response={200: PaperOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 429: ErrorOut},
    summary="Set a paper's code repository and project page",
)
def set_links(request: HttpRequest, paper_id: PaperId, body: LinksIn = Body(...)):
    """For a verified author of the paper (a claim a moderator approved) and for moderators: the
    links shown on the paper's page and in `githubRepo` and `projectPage` from then on. Every
    change is logged."""
    paper = find_paper(paper_id)
    authors.set_links(request.user, paper, body.githubRepo, body.projectPage)
    return Status(200, paper_out(find_paper(paper_id)))


@api.post(
    "/papers/{path:paper_id}/upvote",
    auth=WRITE_AUTH,
    response={200: VoteOut, 401: ErrorOut, 404: ErrorOut, 429: ErrorOut},
    summary="Upvote a paper",
)
def upvote(request: HttpRequest, paper_id: PaperId):
    """Add your upvote (repeating it changes nothing). Authenticate with a session or a token."""
    state = votes.set_vote(request.user, find_paper(paper_id), True)
    return Status(200, {"upvoted": state.upvoted, "upvotes": state.upvotes})


@api.delete(
    "/papers/{path:paper_id}/upvote",
    auth=WRITE_AUTH,
    response={200: VoteOut, 401: ErrorOut, 404: ErrorOut, 429: ErrorOut},
    summary="Withdraw an upvote",
)
def unvote(request: HttpRequest, paper_id: PaperId):
    state = votes.set_vote(request.user, find_paper(paper_id), False)
    return Status(200, {"upvoted": state.upvoted, "upvotes": state.upvotes})


@api.get(
    "/papers/{path:paper_id}",
    response={200: PaperDetailOut, 400: ErrorOut, 404: ErrorOut},
    by_alias=True,
    exclude_unset=True,
    summary="One paper",
)
def paper_detail(
    request: HttpRequest,
    paper_id: PaperPageId,
    field: list[Literal["comments"]] = Query([], description="extra fields to include; may repeat"),
):
    """A paper by its id: an arXiv id such as 2411.17700 or hep-th/9901001, or doi:…/seed:…."""
    paper = find_paper(paper_id)
    shown = paper_out(paper)
    if "comments" in field:
        shown["comments"] = [comment_out(c) for c in comments.visible(paper)]
    return Status(200, shown)


# What a parameter's pattern asks for, in words: pydantic names the regular expression.
FORMATS = {
    "date": "use YYYY-MM-DD, such as 2024-11-28",
    "week": "use YYYY-Www (an ISO week), such as 2024-W48",
    "month": "use YYYY-MM, such as 2024-11",
    "cursor": "use the cursor from the previous page's Link header",
}


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    fields = []
    for e in exc.errors:
        field = ".".join(str(p) for p in e.get("loc", ())[1:]) or "body"
        said = e.get("msg", "invalid")
        if e.get("type") == "string_pattern_mismatch" and field in FORMATS:
            said = FORMATS[field]
        # Each message names its field: huggingface_hub shows `error` and then every message in
        # `errors`, leaving out a line it has shown, so that one mistake reads once.
        fields.append({"field": field, "message": f"{field}: {said}"})
    summary = "; ".join(f["message"] for f in fields)
    return api.create_response(request, error_json(summary, errors=fields), status=400)


@api.exception_handler(Http404)
def not_found(request, exc: Http404):
    message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else "not found"
    return api.create_response(request, error_json(message), status=404)


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    """django-ninja's own refusals (a session write without its CSRF token), in this API's shape."""
    return api.create_response(request, error_json(str(exc)), status=exc.status_code)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return api.create_response(
        request,
        error_json(
            "sign in, or send a personal token as 'Authorization: Bearer prt_…' "
            "(create one on your settings page)"
        ),
        status=401,
    )


@api.exception_handler(RateLimited)
def rate_limited(request, exc: RateLimited):
    response = api.create_response(request, error_json(str(exc)), status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(InvalidInput)
def invalid_input(request, exc: InvalidInput):
    return api.create_response(request, error_json(str(exc)), status=400)


@api.exception_handler(NotAllowed)
def not_allowed(request, exc: NotAllowed):
    return api.create_response(request, error_json(str(exc)), status=403)


class RecommendationsQuery(PeriodQuery):
    limit: int = Field(20, ge=1, le=100, description="how many papers")


class RecommendationOut(Schema):
    paper: PaperOut
    score: float = Field(description="higher is a better match for you; only the order means something")
    reason: str = Field(description='why it was picked: "like “…”", "follows topic “…”", …')


@api.get(
    "/recommendations",
    auth=WRITE_AUTH,
    by_alias=True,
    exclude_unset=True,
    response={200: list[RecommendationOut], 401: ErrorOut, 404: ErrorOut},
    summary="Your “For you” papers of a day, week or month",
)
def recommendations(request: HttpRequest, query: Query[RecommendationsQuery]):
    """The period's papers ranked for you from your saves, upvotes, "not interested" and follows,
    best first, as the "For you" tab shows them. Empty until you have given it something."""
    try:
        period = _period(query)
    except periods.BadPeriod as exc:
        return Status(404, {"detail": str(exc)})
    papers = listings.between(period.start, period.end)
    picks = foryou.rank(
        request.user, list(papers.values_list("pk", flat=True)[: foryou.PERIOD_POOL]), limit=query.limit
    )
    found = {p.pk: p for p in papers.filter(pk__in=[pick.paper_id for pick in picks])}
    return Status(
        200,
        [
            {"paper": paper_out(found[pick.paper_id]), "score": round(pick.score, 4), "reason": pick.reason}
            for pick in picks
            if pick.paper_id in found
        ],
    )
