"""Putting what an import found into a reader's collection, and fetching from arXiv what it
did not find, as /submit does. Every step is safe to repeat: papers already in the collection
stay where they are."""

from __future__ import annotations

import time
from datetime import date

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from paperroute.catalog.models import Paper
from paperroute.catalog.sources.fetch import PoliteClient
from paperroute.community import ratelimit, submissions
from paperroute.community.errors import InvalidInput, NotAllowed, RateLimited
from paperroute.library import shelf
from paperroute.library.importing.entries import id_from_token
from paperroute.library.importing.formats import Counted, parse
from paperroute.library.importing.matching import chunks, match_entries
from paperroute.library.importing.report import (
    ADDED,
    ALREADY,
    FAILED,
    FULL,
    NOT_TRIED,
    REPEATED,
    Fetched,
    ImportReport,
    Matched,
    Unmatched,
)
from paperroute.library.models import Collection, CollectionItem

# How many papers one fetch asks arXiv for, one request each and a pause between them, while
# the reader waits for the page; each is a submission, so PAPERROUTE_RATE_SUBMISSIONS applies too.
MAX_FETCH = 10


def _collection_of(user, collection: Collection | None) -> Collection:
    if collection is None:
        return shelf.saved_collection(user)
    if collection.owner_id != user.pk:
        raise NotAllowed("that collection is not yours")
    return collection


def run(user, data: bytes | str, *, filename: str = "", collection: Collection | None = None) -> ImportReport:
    """Import a file or pasted list into the collection (Saved by default); the report of it."""
    # InvalidInput when the input cannot be used at all (the attempt is then not counted, unless
    # it cost what an import costs: formats.Counted), NotAllowed for someone else's collection,
    # RateLimited past PAPERROUTE_RATE_IMPORTS.
    collection = _collection_of(user, collection)
    rate = ratelimit.setting("RATE_IMPORTS")
    ratelimit.check("import", str(user.pk), rate)
    try:
        parsed = parse(data, filename)
    except Counted:
        # Too large, too many entries, or read through in vain: an attempt at an import, and the
        # cost of one, that counts like one, so that such files cannot be sent again and again.
        raise
    except InvalidInput:
        # A wrong file is the reader's slip, not an import: it does not use up the allowance.
        ratelimit.refund("import", str(user.pk), rate)
        raise
    report = ImportReport(parsed.format, collection, skipped=parsed.skipped)
    for entry, paper, how in match_entries(parsed.entries):
        if paper is None:
            report.unmatched.append(Unmatched(entry, how))
        else:
            report.matched.append(Matched(entry, paper, how))
    statuses = add_papers(collection, [m.paper for m in report.matched])
    seen: set[int] = set()
    for matched in report.matched:
        status = statuses[matched.paper.pk]
        matched.status = REPEATED if matched.paper.pk in seen and status != FULL else status
        seen.add(matched.paper.pk)
    return report


def add_papers(collection: Collection, papers: list[Paper]) -> dict[int, str]:
    """Put the papers at the end of the collection, each once; by paper id, ADDED, ALREADY or FULL."""
    # What shelf.add does for one paper, for many at once: an import counts once against the rate
    # limit, not once per paper. Callers check that the collection is the reader's.
    wanted = list(dict.fromkeys(p.pk for p in papers))
    statuses: dict[int, str] = {}
    if not wanted:
        return statuses
    with transaction.atomic():
        # One import into a collection at a time, so that positions do not collide.
        Collection.objects.select_for_update().filter(pk=collection.pk).first()
        present: set[int] = set()
        for chunk in chunks(wanted):
            present.update(
                CollectionItem.objects.filter(collection=collection, paper_id__in=chunk).values_list(
                    "paper_id", flat=True
                )
            )
        items = CollectionItem.objects.filter(collection=collection)
        room = shelf.MAX_ITEMS - items.count()
        last = items.aggregate(m=Max("position"))["m"] or 0
        now = timezone.now()
        new: list[CollectionItem] = []
        for pid in wanted:
            if pid in present:
                statuses[pid] = ALREADY
            elif len(new) < room:
                new.append(
                    CollectionItem(
                        collection=collection, paper_id=pid, position=last + len(new) + 1, added_at=now
                    )
                )
                statuses[pid] = ADDED
            else:
                statuses[pid] = FULL
        if new:
            CollectionItem.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
            Collection.objects.filter(pk=collection.pk).update(updated_at=now)
    return statuses


def _arxiv_client() -> PoliteClient:
    config = settings.CONFIG
    # arXiv asks for a pause between requests (PAPERROUTE_ARXIV_DELAY); one retry, as for /submit.
    return PoliteClient(
        delay=config.arxiv_delay,
        timeout=min(config.http_timeout, 20),
        retries=1,
        contact=config.contact_email,
        sleep=time.sleep,
    )


def fetch_unmatched(
    user, ids: list[str], collection: Collection | None = None, client=None, *, today: date | None = None
) -> list[Fetched]:
    """Fetch these arXiv papers as /submit does and put them in the collection; each id's outcome."""
    # Each is a submission, with its rate limit. Asking arXiv stops at the first rate limit or
    # outage, and the ids left are NOT_TRIED. Raises NotAllowed for someone else's collection.
    collection = _collection_of(user, collection)
    today = today or timezone.localdate()
    results: list[Fetched] = []
    arxiv_ids: list[str] = []
    for raw in ids:
        arxiv_id = id_from_token(str(raw)[:300])
        if not arxiv_id:
            results.append(Fetched(str(raw)[:100], FAILED, "not an arXiv id"))
        elif arxiv_id not in arxiv_ids:
            arxiv_ids.append(arxiv_id)
    later = arxiv_ids[MAX_FETCH:]
    arxiv_ids = arxiv_ids[:MAX_FETCH]
    client = client or (_arxiv_client() if arxiv_ids else None)
    stop = ""
    for arxiv_id in arxiv_ids:
        if stop:
            results.append(Fetched(arxiv_id, NOT_TRIED, stop))
            continue
        try:
            paper, _ = submissions.submit(user, arxiv_id, today=today, client=client)
        except (RateLimited, submissions.ArxivUnavailable) as exc:
            stop = str(exc)
            results.append(Fetched(arxiv_id, NOT_TRIED, stop))
            continue
        except InvalidInput as exc:
            results.append(Fetched(arxiv_id, FAILED, str(exc)))
            continue
        status = add_papers(collection, [paper])[paper.pk]
        if status == FULL:
            results.append(
                Fetched(
                    arxiv_id,
                    FAILED,
                    f"fetched, but not added: a collection holds at most {shelf.MAX_ITEMS:,} papers",
                    paper,
                )
            )
        else:
            message = f"added to {collection.name}" if status == ADDED else f"already in {collection.name}"
            results.append(Fetched(arxiv_id, status, message, paper))
    results.extend(
        Fetched(
            arxiv_id, NOT_TRIED, f"at most {MAX_FETCH} papers are fetched at a time; fetch the rest again"
        )
        for arxiv_id in later
    )
    return results
