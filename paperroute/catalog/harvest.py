"""Run a source end to end: read or fetch its pages, store them, remember where a harvest got to."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from django.db import transaction

from paperroute import stopping
from paperroute.catalog.ingest import Importer, Summary
from paperroute.catalog.models import HarvestCheckpoint
from paperroute.catalog.records import Page, UnusableInput
from paperroute.catalog.sources import arxiv_api, arxiv_oai, arxiv_rss, hf_daily, jsonl
from paperroute.catalog.sources.fetch import PoliteClient, is_url, read_local, with_params
from paperroute.catalog.sources.worker import ParserProcess

PARSERS: dict[str, Callable[[bytes], Page]] = {
    arxiv_oai.NAME: arxiv_oai.parse,
    arxiv_api.NAME: arxiv_api.parse,
    arxiv_rss.NAME: arxiv_rss.parse,
    hf_daily.NAME: hf_daily.parse,
    jsonl.NAME: jsonl.parse,
}
DEFAULT_URLS = {
    arxiv_oai.NAME: "https://oaipmh.arxiv.org/oai",
    arxiv_api.NAME: "https://export.arxiv.org/api/query",
    arxiv_rss.NAME: "https://rss.arxiv.org/rss",
    hf_daily.NAME: "https://huggingface.co/api/daily_papers",
}


def oai_since(last_success: datetime | None, now: datetime, first_days: int = 3) -> str:
    """The `from` day of a recurring harvest: the day before the last successful one ended
    (OAI datestamps are UTC days, and a record changed late that day may have come after it
    read the day), or, before any, the last `first_days` days. A harvest cut short keeps the day,
    so it resumes from its checkpoint."""
    start = last_success - timedelta(days=1) if last_success else now - timedelta(days=first_days)
    return start.astimezone(UTC).date().isoformat()


class HarvestStopped(UnusableInput):
    """A later page of a multi-page harvest was unusable; the pages before it were stored."""


@dataclass
class Request:
    """What to ingest: an input (file, '-', URL, or '' for the live service) and its options."""

    source: str
    input: str = ""
    since: str = ""
    until: str = ""
    set_spec: str = ""
    metadata_prefix: str = "arXiv"
    resume: str = ""
    restart: bool = False
    search_query: str = ""
    id_list: str = ""
    max_results: int = 1000
    day: str = ""
    week: str = ""
    month: str = ""
    categories: list[str] = field(default_factory=list)


def run(
    request: Request, *, client: PoliteClient, importer: Importer, log: Callable[[str], None] = print
) -> Summary:
    """Ingest everything the request names; raises UnusableInput for input that cannot be used."""
    parse = PARSERS[request.source]
    if request.input and not is_url(request.input):
        page = parse(read_local(request.input, client.max_bytes))
        importer.store(itertools.takewhile(lambda item: not stopping.requested(), page.items))
        if stopping.requested():
            raise stopping.Stopped(
                f"{request.source}: stopped by {stopping.reason()} after {importer.summary.total} "
                "records; run it again for the rest (what is stored is merged, not stored twice)"
            )
        if page.truncated:
            log("note: the file ends early (cut short?); its whole records before the cut were read")
        if page.next_token:
            log(
                f"note: the input ends with resumption token {page.next_token!r}; continue with "
                f"`paperroute ingest {request.source} --resume '{page.next_token}'`"
            )
        return importer.summary
    if request.source == arxiv_oai.NAME:
        _harvest_oai(request, client, importer, log)
    elif request.source == arxiv_api.NAME:
        _page_through(
            request,
            client,
            importer,
            log,
            arxiv_api.parse,
            # From where the last page ended: arXiv may answer with fewer entries than asked.
            lambda url, n, offset: with_params(url, start=str(offset), max_results=str(arxiv_api.PAGE_SIZE)),
            _api_url(request),
        )
    elif request.source == hf_daily.NAME:
        _page_through(
            request,
            client,
            importer,
            log,
            hf_daily.parse,
            lambda url, n, offset: with_params(url, p=str(n)),
            request.input
            or hf_daily.api_url(
                DEFAULT_URLS[hf_daily.NAME], day=request.day, week=request.week, month=request.month
            ),
        )
    else:
        url = request.input
        if not url and request.source == arxiv_rss.NAME:
            url = arxiv_rss.feed_url(DEFAULT_URLS[arxiv_rss.NAME], request.categories)
        if not url:
            raise UnusableInput(f"{request.source} needs an input: a file, '-' or a URL")
        importer.store(_fetch_page(client, parse, url, 0).items)
    return importer.summary


def _api_url(request: Request) -> str:
    if request.input:
        return request.input
    query = request.search_query
    if not query and not request.id_list:
        query = " OR ".join(f"cat:{c}" for c in request.categories)
    return arxiv_api.query_url(DEFAULT_URLS[arxiv_api.NAME], search_query=query, id_list=request.id_list)


def _page_through(request, client, importer, log, parse, page_url, first_url) -> None:
    """Fetch pages (by number, and the count of entries before each) until one comes back empty,
    repeats itself, or the cap is reached."""
    seen: set[str] = set()
    fetched = 0
    number = 0
    total = None
    while fetched < request.max_results:
        url = page_url(first_url, number, fetched)
        try:
            page = _fetch_page(client, parse, url, number)
        except stopping.Stopped:  # while the client waited to fetch it (a Retry-After)
            raise _stopped_paging(request, number, fetched) from None
        keys = {getattr(item, "arxiv_id", "") or getattr(item, "position", "") for item in page.items}
        if not page.items or keys <= seen:
            if total is not None and fetched < min(total, request.max_results):
                log(
                    f"note: the source stopped after {fetched} of the {total} entries it said it "
                    "has (an empty or repeated page); run the same command again later for the rest"
                )
            break
        seen |= keys
        importer.store(page.items[: request.max_results - fetched])
        fetched += len(page.items)
        total = page.complete_list_size
        if total is not None and (page.cursor or 0) + len(page.items) >= total:
            break
        number += 1
        if stopping.requested():
            raise _stopped_paging(request, number, fetched)


def _stopped_at(request, checkpoint) -> stopping.Stopped:
    return stopping.Stopped(
        f"{request.source}: stopped by {stopping.reason()} after page "
        f"{checkpoint.pages}; the next run resumes from its checkpoint"
    )


def _stopped_paging(request, pages: int, fetched: int) -> stopping.Stopped:
    return stopping.Stopped(
        f"{request.source}: stopped by {stopping.reason()} after {pages} page(s), "
        f"{fetched} entries; the next run fetches them again and stores only what changed"
    )


def _fetch_page(client, parse, url: str, number: int) -> Page:
    try:
        page = parse(client.get(url))
        if page.truncated:
            # A response cut short has lost what came after the cut (an OAI resumption token,
            # the rest of a page): stop, so that the run again resumes from the last whole page.
            raise UnusableInput("the response was cut short")
        return page
    except UnusableInput as exc:
        if number == 0:
            raise
        raise HarvestStopped(
            f"page {number + 1} could not be used ({exc}); the {number} page(s) before it were stored"
        ) from None


class _ReadAhead:
    """Fetches and parses the next page of a harvest while the current one is being stored.

    The request (with its politeness pause) runs in a thread and the parsing in a worker
    process, so a long harvest goes at the pace of its slowest step instead of the sum of all
    three. The worker is started only when a harvest turns out to have a second page.
    """

    def __init__(self, client: PoliteClient, module: str) -> None:
        self.client = client
        self.module = module
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="paperroute-fetch")
        self._worker: ParserProcess | None = None

    def read(self, url: str, number: int) -> Future:
        return self._thread.submit(_fetch_page, self.client, self._parse_in_worker, url, number)

    def _parse_in_worker(self, data: bytes) -> Page:
        if self._worker is None:
            self._worker = ParserProcess(self.module)
        return self._worker.parse(data)

    def close(self) -> None:
        self._thread.shutdown(wait=True, cancel_futures=True)
        if self._worker is not None:
            self._worker.close()


def _harvest_oai(request: Request, client: PoliteClient, importer: Importer, log) -> None:
    """Follow resumption tokens, checkpointing each stored page so a killed harvest resumes."""
    if request.input and "?" in request.input:
        parts = urlsplit(request.input)
        base, first = urlunsplit(parts._replace(query="")), request.input
    else:
        base = request.input or DEFAULT_URLS[arxiv_oai.NAME]
        first = arxiv_oai.harvest_url(
            base,
            prefix=request.metadata_prefix,
            since=request.since,
            until=request.until,
            set_spec=request.set_spec,
        )
    checkpoint, _ = HarvestCheckpoint.objects.get_or_create(source=arxiv_oai.NAME, query=first[:500])
    token = request.resume
    if not token and checkpoint.token and not checkpoint.finished and not request.restart:
        token = checkpoint.token
        log(f"resuming the interrupted harvest after page {checkpoint.pages} (token {token!r})")
    elif not token:
        checkpoint.pages = 0
    url = arxiv_oai.resume_url(base, token) if token else first
    page = _fetch_page(client, arxiv_oai.parse, url, 0)
    ahead = _ReadAhead(client, "arxiv_oai")
    try:
        for number in itertools.count(1):
            upcoming = (
                ahead.read(arxiv_oai.resume_url(base, page.next_token), number) if page.next_token else None
            )
            with transaction.atomic():
                importer.store(page.items)
                checkpoint.token = page.next_token
                checkpoint.cursor = page.cursor
                checkpoint.complete_list_size = page.complete_list_size
                checkpoint.pages += 1
                checkpoint.finished = not page.next_token
                checkpoint.save()
            if upcoming is None:
                return
            if stopping.requested():  # the page fetched meanwhile is fetched again on resuming
                raise _stopped_at(request, checkpoint)
            try:
                page = upcoming.result()
            except stopping.Stopped:  # while the client waited to fetch it (a Retry-After)
                raise _stopped_at(request, checkpoint) from None
    finally:
        ahead.close()
