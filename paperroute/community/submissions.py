"""Submissions: a signed-in user puts an arXiv paper on today's listing."""

from __future__ import annotations

import logging
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction

from paperroute.catalog.announce import listing_day
from paperroute.catalog.ingest import Importer
from paperroute.catalog.models import Paper
from paperroute.catalog.records import PaperRecord, UnusableInput, pasted_identifier
from paperroute.catalog.sources import arxiv_api
from paperroute.catalog.sources.fetch import FetchError, PoliteClient
from paperroute.community import ratelimit, stamp
from paperroute.community.errors import CommunityError, InvalidInput
from paperroute.community.models import Submission

SOURCE = "submit"
log = logging.getLogger(__name__)


class ArxivUnavailable(CommunityError):
    """arXiv could not be asked about the paper just now."""


def parse_submission(text: str) -> str:
    """The arXiv id (without version) in what a user typed: whatever search takes as naming an
    arXiv paper (an id, an arXiv abs, PDF or HTML link, a Hugging Face paper link, arXiv's DOI)."""
    found = pasted_identifier(text or "")
    if found and found[0] == "doi":
        raise InvalidInput(
            f"{found[1]} is not an arXiv paper's DOI, and only arXiv papers can be submitted here; "
            "enter its arXiv id or link if it has one",
            "arxiv",
        )
    if found is None:
        raise InvalidInput(
            "that is not an arXiv id or link; enter something like 2406.01234 or "
            "https://arxiv.org/abs/2406.01234",
            "arxiv",
        )
    return found[1]


def submit(user, text: str, *, today: date, client: PoliteClient | None = None) -> tuple[Paper, bool]:
    """The submitted paper and whether this submission added it (False: it was already here)."""
    arxiv_id = parse_submission(text)
    existing = Paper.objects.filter(key=arxiv_id).first()
    if existing:
        return existing, False
    ratelimit.check("submit", str(user.pk), ratelimit.setting("RATE_SUBMISSIONS"))
    record = fetch(arxiv_id, client or default_client())
    record.source = SOURCE
    record.submitted_on = today
    if record.published:
        # The query API gives the submission time; arXiv's own listing day follows from it.
        record.announced_on = listing_day(record.published)
    with transaction.atomic():
        summary = Importer(SOURCE).store([record])
        if not summary.skipped:
            paper = Paper.objects.get(key=arxiv_id)
            try:
                with transaction.atomic():
                    Submission.objects.create(paper=paper, user=user)
            except IntegrityError:  # someone else submitted it in the same moment
                return paper, False
            stamp.bump()
    if summary.skipped:
        # arXiv's own record is at fault, not the submitter: the attempt is not counted.
        ratelimit.refund("submit", str(user.pk), ratelimit.setting("RATE_SUBMISSIONS"))
        raise InvalidInput(
            f"arXiv's record of {arxiv_id} cannot be listed here ({summary.skipped[0].reason})", "arxiv"
        )
    return paper, True


def fetch(arxiv_id: str, client: PoliteClient) -> PaperRecord:
    """The paper's record from the arXiv query API."""
    url = arxiv_api.query_url(settings.CONFIG.arxiv_api_url, id_list=arxiv_id)
    try:
        page = arxiv_api.parse(client.get(url))
    except FetchError as exc:
        # The reader gets words, the operator the details (a DNS failure means no internet).
        log.warning("submission of %s: %s", arxiv_id, exc)
        raise ArxivUnavailable(
            "arXiv could not be reached from this site just now; try again in a "
            "few minutes, and if it keeps failing, tell the site's operator"
        ) from None
    except UnusableInput as exc:
        raise InvalidInput(f"arXiv did not accept {arxiv_id}: {exc}", "arxiv") from None
    for item in page.items:
        if isinstance(item, PaperRecord) and item.arxiv_id == arxiv_id:
            return item
    raise InvalidInput(f"arXiv has no paper with the id {arxiv_id}", "arxiv")


def default_client() -> PoliteClient:
    config = settings.CONFIG
    # One retry only: a person is waiting for the page.
    return PoliteClient(
        delay=0,
        timeout=min(config.http_timeout, 20),
        retries=1,
        contact=config.contact_email,
        sleep=lambda seconds: None,
    )


def submitter(paper: Paper) -> str:
    """Who put the paper on the listing, as the pages name them: a user here, or the Hugging
    Face submitter."""
    if Paper._meta.get_field("submission").is_cached(paper):  # joined when the paper was read
        sub = getattr(paper, "submission", None)  # a paper with none raises an AttributeError
    else:
        sub = Submission.objects.filter(paper=paper).select_related("user").first()
    return sub.user.username if sub else paper.hf_submitter
