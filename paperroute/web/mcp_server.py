"""The site for AI agents: a Model Context Protocol server (the official `mcp` SDK) over stdio or
streamable HTTP. Each tool is a thin adapter over what the JSON API and the pages already do, and
returns the API's shapes (paperroute.web.api_shapes), so an agent sees what a reader sees.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import ipaddress
import json
import threading
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import close_old_connections
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.http.request import split_domain_port, validate_host
from django.views.decorators.csrf import csrf_exempt
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import ToolAnnotations
from ninja.responses import NinjaJSONEncoder
from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.responses import JSONResponse

from paperroute import search
from paperroute.catalog.records import pasted_identifier
from paperroute.community import listings, ratelimit, tokens, votes
from paperroute.community.errors import InvalidInput, NotAllowed, RateLimited
from paperroute.library import foryou, shelf
from paperroute.web import api, related, searching
from paperroute.web.api_shapes import PaperDetailOut, PaperOut, paper_out
from paperroute.web.mcp_arguments import (
    Category,
    Comments,
    DailyLimit,
    DailyPage,
    Date,
    Exact,
    Limit,
    Mode,
    Month,
    PaperId,
    PicksLimit,
    Query,
    Related,
    SearchPage,
    Since,
    Sort,
    Token,
    Until,
    Upvoted,
    Week,
    explain,
    unknown,
)
from paperroute.web.middleware import client_address, is_trusted, parse_address, rate_key
from paperroute.web.views.common import client_ip
from paperroute.web.views.errors import error_json, unknown_host

INSTRUCTIONS = (
    "paperroute: daily research papers (arXiv and community submissions). Find papers with "
    "search_papers, list a day's, week's or month's papers with daily_papers, read one with paper "
    "and find similar ones with related_papers. my_library, recommendations and upvote act as a "
    "reader: they need that reader's personal API token (from the site's settings page), sent as "
    "`Authorization: Bearer prt_…` over HTTP or as the `token` argument."
)

# Whether the call in progress sent a token, and whose account it is (None: unknown or revoked).
_CALLER: ContextVar[tuple[bool, Any]] = ContextVar("paperroute_mcp_caller")


def build() -> MCPServer:
    """The MCP server with the site's tools."""
    server = _Server("paperroute", instructions=INSTRUCTIONS, log_level="WARNING")
    for tool in (search_papers, daily_papers, paper, related_papers, my_library, recommendations, upvote):
        # Every tool takes the call's context, which the rate limit and the reader come from.
        assert "ctx" in inspect.signature(tool).parameters, tool.__name__
        server.add_tool(
            _as_request(tool),
            # One paragraph: the docstring's line breaks and indentation are no part of it.
            description=" ".join((tool.__doc__ or "").split()),
            annotations=WRITES if tool is upvote else READS,
        )
    return server


class _Server(MCPServer):
    """The SDK's server, with arguments checked as the input schemas in tools/list say: no
    argument they do not name, and one line for each bad argument instead of pydantic's report."""

    _schemas: dict[str, dict[str, Any]] | None = None

    async def list_tools(self):
        tools = await super().list_tools()
        for tool in tools:
            # The SDK ignores an argument its tool has no parameter for: a misspelt `limt` or
            # `sort_by` did nothing, and the agent could not tell.
            tool.input_schema = {**tool.input_schema, "additionalProperties": False}
        return tools

    async def call_tool(self, name: str, arguments: dict[str, Any], context=None) -> Any:
        if self._schemas is None:
            self._schemas = {tool.name: tool.input_schema for tool in await self.list_tools()}
        schema = self._schemas.get(name)
        if schema is not None and (wrong := unknown(name, arguments, schema)):
            raise ToolError(wrong)
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(exc, UnexpectedToolError) or not isinstance(cause, ValidationError) or not schema:
                raise
            # Still a ValidationError's ToolError, which the SDK logs by field names alone.
            raise ToolError(explain(cause.errors(), schema)) from cause


# Hints for clients that ask before running a tool (or run read-only ones freely): only upvote
# changes anything, and setting the same vote twice changes nothing more. No tool reaches past
# this site.
READS = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITES = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)


def _as_request(tool):
    """The tool, treating its database connection as a request does (the SDK runs each call in a
    worker thread, where Django's request signals never close stale connections)."""

    @functools.wraps(tool)
    def call(*args, **kwargs):
        close_old_connections()
        try:
            ctx = kwargs["ctx"]
            # The token, from the Authorization header over HTTP or else the `token` argument,
            # looked up once for the rate limit and the reader tools.
            secret = _bearer(ctx) or (kwargs.get("token") or "").strip()
            user = tokens.authenticate(secret) if secret else None
            _count_call(ctx, user)
            caller = _CALLER.set((bool(secret), user))
            try:
                return tool(*args, **kwargs)
            finally:
                _CALLER.reset(caller)
        finally:
            close_old_connections()

    return call


def run(*, http: bool = False, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve until interrupted: over stdin/stdout, or over streamable HTTP at /mcp."""
    server = build()
    if http:
        import uvicorn

        # Stateless, JSON answers: every call stands alone, so any client (and any number of them)
        # can talk to it without a session to keep, and a restart loses nothing.
        app = server.streamable_http_app(
            stateless_http=True,
            json_response=True,
            # The host names are checked as the site checks them (below): the SDK's own check
            # knows only localhost, and refused every call a proxy passed on under the site's name.
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        # Not uvicorn's proxy headers: they trust 127.0.0.1 whatever PAPERROUTE_TRUSTED_PROXIES
        # says, and no other proxy, so a proxy on another host had every client count as itself.
        uvicorn.run(_as_the_site(app), host=host, port=port, proxy_headers=False, log_level="warning")
    else:
        server.run("stdio")


def _as_the_site(app):
    """The ASGI app, serving as the site serves /mcp: under the host names the site answers to
    (PAPERROUTE_ALLOWED_HOSTS and SITE_URL's), and with each request's client taken from
    X-Forwarded-For only when a trusted proxy sent it (paperroute.web.middleware)."""
    networks = [ipaddress.ip_network(n) for n in settings.CONFIG.trusted_proxies]

    async def asgi(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        name = Headers(scope=scope).get("host", "")
        domain, _ = split_domain_port(name)
        if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
            refused = JSONResponse(error_json(unknown_host(name)), status_code=400)
            return await refused(scope, receive, send)
        peer = (scope.get("client") or ("",))[0]
        if is_trusted(parse_address(peer), networks):
            forwarded = ",".join(v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for")
            scope = {**scope, "client": (client_address(peer, forwarded, networks), 0)}
        await app(scope, receive, send)

    return asgi


# -- /mcp in the web server ------------------------------------------------------------------


class _Mounted:
    """The SDK's streamable HTTP handler on an event loop of its own, in a thread of the web
    process: the site is a WSGI application (gunicorn), and the SDK serves ASGI."""

    def __init__(self) -> None:
        self.server = build()
        # Django already refuses Host headers outside ALLOWED_HOSTS, and the credentials are
        # bearer tokens that a browser never attaches by itself, so the SDK's own DNS-rebinding
        # check (which knows only localhost) would only refuse the site's real name.
        self.server.streamable_http_app(
            stateless_http=True,
            json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="mcp", daemon=True).start()
        started = threading.Event()
        asyncio.run_coroutine_threadsafe(self._manage(started), self.loop)
        started.wait()

    async def _manage(self, started: threading.Event) -> None:
        async with self.server.session_manager.run():
            started.set()
            await asyncio.Event().wait()  # for the life of the process

    def answer(self, request: HttpRequest) -> HttpResponse:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": request.scheme,
            "path": request.path,
            "raw_path": request.path.encode(),
            "root_path": "",
            "query_string": request.META.get("QUERY_STRING", "").encode("latin-1"),
            "headers": [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in request.headers.items()
            ],
            # The real client (behind a trusted proxy too), which per-client limits count against.
            "client": (client_ip(request), 0),
            "server": (request.get_host().rsplit(":", 1)[0], int(request.get_port() or 0)),
        }
        future = asyncio.run_coroutine_threadsafe(self._exchange(scope, request.body), self.loop)
        status, headers, body = future.result()
        response = HttpResponse(body, status=status)
        for name, value in headers:
            if name.lower() not in (b"content-length", b"content-type"):
                response[name.decode("latin-1")] = value.decode("latin-1")
            elif name.lower() == b"content-type":
                response["Content-Type"] = value.decode("latin-1")
        return response

    async def _exchange(self, scope: dict, body: bytes) -> tuple[int, list, bytes]:
        """One request through the SDK's handler: its status, headers and whole body."""
        answered = asyncio.Event()
        sent_body = False
        status, headers, chunks = 500, [], []

        async def receive() -> dict:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            await answered.wait()
            return {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status, headers = message["status"], list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    answered.set()

        await self.server.session_manager.handle_request(scope, receive, send)
        return status, headers, b"".join(chunks)


_mounted: _Mounted | None = None
_mounting = threading.Lock()


@csrf_exempt
def endpoint(request: HttpRequest) -> HttpResponse:
    """/mcp: the MCP tools over streamable HTTP (stateless; JSON answers)."""
    global _mounted
    with _mounting:
        if _mounted is None:
            _mounted = _Mounted()
    return _mounted.answer(request)


# -- anonymous tools -----------------------------------------------------------------------


def search_papers(
    ctx: Context,
    query: Query,
    mode: Mode = "hybrid",
    since: Since = None,
    until: Until = None,
    category: Category = None,
    limit: Limit = 20,
    exact: Exact = False,
    page: SearchPage = 0,
) -> dict[str, Any]:
    """Search titles, abstracts and authors, as the site's search does. Query syntax: "exact
    phrase", -excluded, author:vaswani, cat:cs.CL, year:2024, year:2020..2023. `since` and `until`
    are dates (YYYY-MM-DD) the paper was listed on; `category` is one category or archive (cs.CL,
    cs); `exact` searches the words as typed, without correcting typos. Pages of `limit` (1-100)
    papers, counted from 0; `more` says whether a next page has some (the first 1,000 results
    can be paged through). `notes` says how the query was read, `fewer_words` a shorter query
    that finds papers when this one finds none."""
    try:
        opts = searching.options(
            {
                "q": query,
                "mode": mode,
                "since": since,
                "until": until,
                "cat": category,
                "spell": "0" if exact else "1",
            }
        )
        if not opts.q:
            raise ToolError("query is empty: give some words to search for")
        found = searching.run(opts, limit=limit, offset=page * limit, snippets=False)
    except searching.BadSearch as exc:
        raise ToolError(f"cannot search: {exc}") from None
    return {
        "total": found.total,
        "exact_total": found.exact,
        "corrected": found.corrected or None,
        "suggestion": found.suggestion or None,
        "page": page,
        "more": page * limit + len(found.papers) < min(found.total, search.MAX_TOTAL),
        # What the site says beside the results: how the query was read ("used the first 1,000
        # characters", "no paper with the arXiv id … is here"), fewer words that would find
        # some, and whether the newest papers may not be searchable yet.
        "notes": found.message or None,
        "fewer_words": found.fewer or None,
        "index_behind": found.behind,
        "papers": [_paper_json(p) for p in found.papers],
    }


def daily_papers(
    ctx: Context,
    date: Date = None,
    week: Week = None,
    month: Month = None,
    sort: Sort = "publishedAt",
    page: DailyPage = 0,
    limit: DailyLimit = 50,
) -> dict[str, Any]:
    """The papers listed on a day (date, YYYY-MM-DD), an ISO week (week, YYYY-Www) or a month
    (month, YYYY-MM), as GET /api/daily_papers gives them; give one (of several, the narrowest
    counts). By default the most recent day with papers, but sort=trending without a period
    ranks what trends now across all days (and `total` is null). sort: publishedAt (newest
    first), trending, or upvotes. Pages of `limit` (1-100) papers, counted from 0."""
    query = _valid(api.DailyQuery, date=date, week=week, month=month, sort=sort, p=page, limit=limit)
    response = HttpResponse()
    answer = api.daily_papers(
        _request("/api/daily_papers", query.model_dump(exclude_none=True)), response, query
    )
    shown = _answer(answer)
    total = response.get("X-Total-Count")
    return {
        "total": int(total) if total else None,
        "page": page,
        "more": response.has_header("Link"),
        "papers": [_dump(PaperOut, item["paper"]) for item in shown],
    }


def paper(ctx: Context, id: PaperId, comments: Comments = False) -> dict[str, Any]:
    """One paper by its id (an arXiv id such as 2411.17700, a link to it on arXiv or Hugging Face,
    a DOI, or the site's doi:…/seed:… ids): title, authors, abstract (`summary`), upvotes,
    categories, links to arXiv, the PDF, code and project page, and the page on this site; with
    `comments`, its visible comments, oldest first."""
    key = _not_found(_find, id).key
    field = ["comments"] if comments else []
    shown = _answer(_not_found(api.paper_detail, _request(f"/api/papers/{key}", {}), key, field=field))
    return _dump(PaperDetailOut, shown)


def related_papers(ctx: Context, id: PaperId, limit: Related = 5) -> dict[str, Any]:
    """The papers nearest to one paper by meaning (embeddings), best first, as its page lists them;
    `notes` says why there are none when the search index cannot answer."""
    found = _not_found(_find, id)
    try:
        hits = search.related(found.key, limit=limit, load=listings.by_id, snippets=False)
    except search.SearchError as exc:
        # The paper's page shows no list then; an agent must not read it as "nothing like it".
        return {"id": found.key, "notes": f"cannot find related papers: {exc}", "papers": []}
    papers = [_paper_json(hit.paper) for hit in hits if hit.key != found.key]
    return {"id": found.key, "notes": None, "papers": papers}


# -- a reader's tools ----------------------------------------------------------------------


def my_library(ctx: Context, token: Token = None) -> dict[str, Any]:
    """Your collections ("Saved" first) and the papers in each, in their order, with your note on
    each item. Needs your API token (Authorization header, or `token`)."""
    user = _reader()
    shown = []
    for collection in shelf.collections_of(user):
        items = list(shelf.items(collection))
        papers = {p.key: p for p in related.in_order([item.paper.key for item in items])}
        shown.append(
            {
                "name": collection.name,
                "description": collection.description,
                "public": collection.public,
                "saved": collection.is_default,
                "count": len(items),
                "items": [
                    {"note": item.note, "paper": _paper_json(papers[item.paper.key])}
                    for item in items
                    if item.paper.key in papers
                ],
            }
        )
    return {"user": user.username, "collections": shown}


def recommendations(
    ctx: Context,
    token: Token = None,
    date: Date = None,
    week: Week = None,
    month: Month = None,
    limit: PicksLimit = 20,
) -> dict[str, Any]:
    """Your "For you" papers of a day, week or month (as daily_papers names them; by default the
    most recent day), best first, each with why it was picked; from your saves, upvotes, "not
    interested" and follows, as GET /api/recommendations. `notes` says why there are none.
    Needs your API token."""
    request = _request("/api/recommendations", {})
    request.user = _reader()
    query = _valid(api.RecommendationsQuery, date=date, week=week, month=month, limit=limit)
    picks = _answer(api.recommendations(request, query))
    return {
        "user": request.user.username,
        # What the "For you" tab says when it has nothing: an empty list alone read as "no
        # papers that day" to an agent whose reader had simply given it nothing to go on.
        "notes": None if picks else _no_picks(request.user),
        "papers": [{**pick, "paper": _dump(PaperOut, pick["paper"])} for pick in picks],
    }


def _no_picks(user) -> str:
    if foryou.signals_of(user).empty:
        return (
            "nothing to rank for you yet: “For you” learns from the papers you save and upvote, "
            "the ones you mark “Not interested”, and the topics, authors and categories you follow"
        )
    return (
        "no paper of this period is near what you save, upvote and follow (or none was listed "
        "then): try a week or a month"
    )


def upvote(ctx: Context, id: PaperId, token: Token = None, upvoted: Upvoted = True) -> dict[str, Any]:
    """Upvote a paper (repeating it changes nothing), or withdraw your upvote with upvoted=false.
    Needs your API token; votes are rate-limited as on the site."""
    user = _reader()
    found = _not_found(_find, id)
    try:
        state = votes.set_vote(user, found, upvoted)
    except RateLimited as exc:
        raise ToolError(f"rate limited: {exc}") from None
    return {"id": found.key, "upvoted": state.upvoted, "upvotes": state.upvotes}


# -- adapters ------------------------------------------------------------------------------


def _count_call(ctx: Context, user) -> None:
    """Count a call over HTTP against its reader's account, or its client address's without a
    valid token (PAPERROUTE_RATE_MCP). Only stdio calls have no HTTP request: they come from the
    operator's own process and are not counted."""
    request = ctx.request_context.request
    if request is None:
        return
    # The mounted /mcp passes the real client (see _Mounted.answer); an IPv6 one counts by its /64.
    address = rate_key(request.client.host if request.client else "")
    ident = f"user:{user.pk}" if user is not None else f"ip:{address}"
    try:
        ratelimit.check("mcp", ident, ratelimit.setting("RATE_MCP"))
    except RateLimited as exc:
        raise ToolError(f"rate limited: {exc}") from None


def _bearer(ctx: Context) -> str:
    """The token in the call's `Authorization: Bearer …` header, or ""."""
    header = (ctx.headers or {}).get("authorization", "")
    scheme, _, secret = header.partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


def _reader():
    """The account whose token came with the call: the Authorization header over HTTP, else the
    `token` argument."""
    sent, user = _CALLER.get((False, None))
    if not sent:
        raise ToolError(
            "this tool acts as a reader: send your personal API token (create one on "
            "your settings page) as 'Authorization: Bearer prt_…' or as `token`"
        )
    if user is None:
        raise ToolError("bad token: it is unknown or revoked; create a new one on your settings page")
    return user


def _request(path: str, params: dict) -> HttpRequest:
    """A request for an API view called in-process (its links and headers are built from it)."""
    request = HttpRequest()
    request.method, request.path = "GET", path
    request.GET = QueryDict(urlencode({k: str(v) for k, v in params.items()}))
    return request


def _valid(schema, **values):
    """The API's own query schema, filled in. The tools' arguments carry its bounds, so this fails
    only where the two drift apart: then as the same readable tool error."""
    try:
        return schema(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        raise ToolError(explain(exc.errors(), schema.model_json_schema(), names={"p": "page"})) from None


def _find(id: str):
    """The paper an id names, as GET /api/papers/{id} takes it; or, as the search box takes them,
    a link to it on Hugging Face (where agents meet daily papers), or its DOI."""
    try:
        return api.find_paper(id)
    except Http404:
        if pasted_identifier(id) is None:
            raise
        # The search finds a pasted identifier's paper from the catalogue, without its index.
        found = searching.run(searching.options({"q": id}), limit=1, snippets=False).papers
        if not found:
            raise
        return api.find_paper(found[0].key)


def _not_found(function, *args, **kwargs):
    """Call an API helper; its 404 (an unknown paper) and refusals as tool errors."""
    try:
        return function(*args, **kwargs)
    except Http404 as exc:
        raise ToolError(f"unknown paper: {exc}") from None
    except (InvalidInput, NotAllowed) as exc:
        raise ToolError(str(exc)) from None


def _answer(answer):
    """The value an API view answered with; its error statuses as tool errors."""
    if answer.status_code >= 400:
        raise ToolError(answer.value["detail"])
    return answer.value


def _dump(schema, value: dict) -> dict[str, Any]:
    """A shape as the API sends it: only the fields the dict gives (an unclaimed author has no
    claim fields), with its JSON encoder (ISO times with Z, to the millisecond)."""
    shown = schema.model_validate(value).model_dump(by_alias=True, exclude_unset=True)
    return json.loads(json.dumps(shown, cls=NinjaJSONEncoder))


def _paper_json(found) -> dict[str, Any]:
    return _dump(PaperOut, paper_out(found))
