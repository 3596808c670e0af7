"""The JSON API (django-ninja): daily papers shaped like Hugging Face's, papers, search, upvotes.

OpenAPI lives at /api/openapi.json and the browsable docs at /api/docs.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from urllib.parse import quote, urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import NinjaAPI, Path, Query, Schema, Status
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import HttpBearer, django_auth
from pydantic import Field

from paperroute.catalog.models import Paper
from paperroute.community import listings, tokens, trending, votes
from paperroute.community.errors import RateLimited
from paperroute.library import foryou
from paperroute.web import periods, searching
from paperroute.web.context import absolute

# What the schema promises: a paper id holds no control character, a query some visible text.
# Anything else is refused before it reaches a view (400, or 404 for an id).
PaperId = Annotated[str, Path(pattern=r"^[^\x00-\x1f\x7f]+$")]
SEARCH_TEXT = r"^[^\x00]*[^\x00\s][^\x00]*$"

api = NinjaAPI(title="paperroute API", version="1",
               description="Daily papers, paper records, search and upvotes. Lists and fields "
                           "follow Hugging Face's /api/daily_papers where they mean the same.",
               urls_namespace="api")


class BearerToken(HttpBearer):
    """A personal API token from the settings page: `Authorization: Bearer prt_…`."""

    def authenticate(self, request, token):
        user = tokens.authenticate(token)
        if user is not None:
            request.user = user
        return user


class AuthorOut(Schema):
    name: str


class PaperOut(Schema):
    id: str
    title: str
    summary: str
    authors: list[AuthorOut]
    publishedAt: datetime | None = Field(description="arXiv submission time of the first version")
    submittedOnDailyAt: date | None = Field(description="the day the paper was listed on the daily page")
    upvotes: int = Field(description="community upvotes plus Hugging Face upvotes")
    numComments: int
    githubRepo: str | None
    githubStars: int | None
    projectPage: str | None
    ai_summary: str | None
    ai_keywords: list[str]
    categories: list[str] = Field(description="primary category first")
    arxivUrl: str | None
    pdfUrl: str | None
    url: str = Field(description="the paper's page on this site")


class SubmitterOut(Schema):
    name: str
    fullname: str


class DailyItemOut(Schema):
    paper: PaperOut
    publishedAt: datetime | None
    title: str
    summary: str
    numComments: int
    submittedBy: SubmitterOut | None


class VoteOut(Schema):
    upvoted: bool
    upvotes: int


class ErrorOut(Schema):
    detail: str


class DailyQuery(Schema):
    date: str | None = Field(None, pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
                             description="one day, YYYY-MM-DD (default: today, or the most "
                                         "recent day with papers)")
    week: str | None = Field(None, pattern=r"^[0-9]{4}-W(0[1-9]|[1-4][0-9]|5[0-3])$",
                             description="one ISO week, YYYY-Www")
    month: str | None = Field(None, pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$",
                              description="one month, YYYY-MM")
    sort: Literal["upvotes", "trending", "publishedAt"] = Field(
        "upvotes", description="upvotes (then newest), trending (votes decayed with time), or "
                               "publishedAt (newest first)")
    p: int = Field(0, ge=0, le=100_000, description="page number, from 0")
    limit: int = Field(50, ge=1, le=100, description="items per page")


def paper_out(paper: Paper) -> dict:
    return {
        "id": paper.key, "title": paper.title, "summary": paper.abstract,
        "authors": [{"name": n} for n in paper.author_names],
        "publishedAt": paper.published, "submittedOnDailyAt": paper.listed_on,
        "upvotes": getattr(paper, "upvotes", None) or votes.count(paper),
        "numComments": getattr(paper, "num_comments", 0) or 0,
        "githubRepo": paper.code_link or None,
        "githubStars": paper.github_stars, "projectPage": paper.project_link or None,
        "ai_summary": paper.ai_summary or None, "ai_keywords": list(paper.ai_keywords or []),
        "categories": [c.code for c in paper.ordered_categories],
        "arxivUrl": paper.abs_link or None, "pdfUrl": paper.pdf_link or None,
        "url": absolute(reverse("paper", args=[paper.key])),
    }


def item_out(paper: Paper) -> dict:
    sub = getattr(paper, "submission", None) if _has_submission(paper) else None
    name = sub.user.username if sub else paper.hf_submitted_by
    return {
        "paper": paper_out(paper), "publishedAt": paper.published, "title": paper.title,
        "summary": paper.abstract, "numComments": getattr(paper, "num_comments", 0) or 0,
        "submittedBy": {"name": name, "fullname": name} if name else None,
    }


def _has_submission(paper: Paper) -> bool:
    try:
        return paper.submission is not None
    except Paper.submission.RelatedObjectDoesNotExist:
        return False


def _period(query) -> periods.Period:
    """The day, week or month a query names (the narrowest given wins: date, then week, then
    month); by default today, or the most recent day with papers. BadPeriod if it does not
    exist (the schema checks the form, so this is 2021-W53 or 2024-02-30)."""
    chosen = [(n, v) for n, v in (("date", query.date), ("week", query.week),
                                  ("month", query.month)) if v][:1]
    if not chosen:
        today = timezone.localdate()
        return periods.day(today if listings.between(today, today).exists()
                           else (listings.latest_day() or today))
    name, value = chosen[0]
    parser = {"date": periods.parse_day, "week": periods.parse_week, "month": periods.parse_month}[name]
    try:
        return parser(value)
    except periods.BadPeriod as exc:
        raise periods.BadPeriod(f"{name}: {exc}") from None


@api.get("/daily_papers", response={200: list[DailyItemOut], 400: ErrorOut, 404: ErrorOut},
         summary="Papers of a day, week or month")
def daily_papers(request: HttpRequest, response: HttpResponse, query: Query[DailyQuery]):
    """Items shaped like Hugging Face's /api/daily_papers. `X-Total-Count` gives the number of
    papers in the period and `Link: <…>; rel="next"` the next page while there is one."""
    try:
        period = _period(query)
    except periods.BadPeriod as exc:
        return Status(404, {"detail": str(exc)})
    papers = listings.between(period.start, period.end)
    total = papers.count()
    start = query.p * query.limit
    if query.sort == "publishedAt":
        rows = list(papers.order_by("-published", "key")[start:start + query.limit])
    elif query.sort == "trending":
        ranked = trending.rank(set(papers.values_list("pk", flat=True)), timezone.now(), total)
        voted = [r.paper for r in ranked]
        seen = {p.pk for p in voted}
        rows = (voted + [p for p in papers if p.pk not in seen])[start:start + query.limit]
    else:
        rows = list(papers[start:start + query.limit])
    response["X-Total-Count"] = str(total)
    if start + query.limit < total:
        params = {k: v for k, v in request.GET.items()}
        params["p"] = str(query.p + 1)
        response["Link"] = f'<{absolute(request.path)}?{urlencode(params)}>; rel="next"'
    return Status(200, [item_out(p) for p in rows])


@api.get("/papers/search", response={200: list[DailyItemOut], 400: ErrorOut},
         summary="Search papers")
def search_papers(request: HttpRequest, response: HttpResponse,
                  q: str = Query(..., pattern=SEARCH_TEXT, max_length=1000),
                  limit: int = Query(20, ge=1, le=100),
                  mode: Literal["hybrid", "lexical", "semantic"] = "hybrid",
                  spell: bool = Query(True, description="correct words no paper contains")):
    """Hybrid (default), keyword or semantic search; the query syntax is described in the README.
    Only papers that match are returned, possibly none. `X-Total-Count` is how many match
    (`X-Total-Estimated: true` when it is an estimate); a query corrected for typos says so in
    `X-Search-Corrected`, and an offered correction comes in `X-Search-Suggestion`."""
    try:
        opts = searching.options({"q": q, "mode": mode, "spell": "1" if spell else "0"})
        if not opts.q:
            return Status(400, {"detail": "q: the query is empty"})
        found = searching.run(opts, limit=limit)
    except searching.BadSearch as exc:
        return Status(400, {"detail": str(exc)})
    response["X-Total-Count"] = str(found.total)
    response["X-Total-Estimated"] = "false" if found.exact else "true"
    if found.corrected:
        response["X-Search-Corrected"] = quote(found.corrected)
    elif found.suggestion:
        response["X-Search-Suggestion"] = quote(found.suggestion)
    return Status(200, [item_out(p) for p in found.papers])


def _paper(paper_id: str) -> Paper:
    paper = listings.annotated(Paper.objects.filter(key=paper_id)).first()
    if paper is None:
        raise Http404(f"no paper with the id {paper_id!r}")
    return paper


@api.post("/papers/{path:paper_id}/upvote", auth=[BearerToken(), django_auth],
          response={200: VoteOut, 401: ErrorOut, 404: ErrorOut, 429: ErrorOut},
          summary="Upvote a paper")
def upvote(request: HttpRequest, paper_id: PaperId):
    """Add your upvote (repeating it changes nothing). Authenticate with a session or a token."""
    state = votes.set_vote(request.user, _paper(paper_id), True)
    return Status(200, {"upvoted": state.upvoted, "upvotes": state.upvotes})


@api.delete("/papers/{path:paper_id}/upvote", auth=[BearerToken(), django_auth],
            response={200: VoteOut, 401: ErrorOut, 404: ErrorOut, 429: ErrorOut},
            summary="Withdraw an upvote")
def unvote(request: HttpRequest, paper_id: PaperId):
    state = votes.set_vote(request.user, _paper(paper_id), False)
    return Status(200, {"upvoted": state.upvoted, "upvotes": state.upvotes})


@api.get("/papers/{path:paper_id}", response={200: PaperOut, 404: ErrorOut}, summary="One paper")
def paper_detail(request: HttpRequest, paper_id: PaperId):
    """A paper by its id: an arXiv id such as 2411.17700 or hep-th/9901001, or doi:…/seed:…."""
    return Status(200, paper_out(_paper(paper_id)))


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    fields = [{"field": ".".join(str(p) for p in e.get("loc", ())[1:]) or "body",
               "message": e.get("msg", "invalid")} for e in exc.errors]
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return api.create_response(request, {"detail": f"invalid request: {summary}", "errors": fields},
                               status=400)


@api.exception_handler(Http404)
def not_found(request, exc: Http404):
    message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else "not found"
    return api.create_response(request, {"detail": message}, status=404)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return api.create_response(
        request, {"detail": "sign in, or send a personal token as 'Authorization: Bearer prt_…' "
                            "(create one on your settings page)"}, status=401)


@api.exception_handler(RateLimited)
def rate_limited(request, exc: RateLimited):
    response = api.create_response(request, {"detail": str(exc)}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


class RecommendationsQuery(Schema):
    date: str | None = DailyQuery.model_fields["date"]
    week: str | None = DailyQuery.model_fields["week"]
    month: str | None = DailyQuery.model_fields["month"]
    limit: int = Field(20, ge=1, le=100, description="how many papers")


class RecommendationOut(Schema):
    paper: PaperOut
    score: float = Field(description="higher is a better match for you; only the order means something")
    reason: str = Field(description='why it was picked: "like “…”", "follows topic “…”", …')


@api.get("/recommendations", auth=[BearerToken(), django_auth],
         response={200: list[RecommendationOut], 401: ErrorOut, 404: ErrorOut},
         summary="Your “For you” papers of a day, week or month")
def recommendations(request: HttpRequest, query: Query[RecommendationsQuery]):
    """The period's papers ranked for you from your saves, upvotes, "not interested" and follows,
    best first, as the "For you" tab shows them. Empty until you have given it something."""
    try:
        period = _period(query)
    except periods.BadPeriod as exc:
        return Status(404, {"detail": str(exc)})
    papers = listings.between(period.start, period.end)
    picks = foryou.rank(request.user, list(papers.order_by().values_list("pk", flat=True)),
                        limit=query.limit)
    found = {p.pk: p for p in papers.filter(pk__in=[pick.paper_id for pick in picks])}
    return Status(200, [{"paper": paper_out(found[pick.paper_id]), "score": round(pick.score, 4),
                         "reason": pick.reason} for pick in picks if pick.paper_id in found])
