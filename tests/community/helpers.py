"""Papers and users for community and web tests, stored through the real ingest path."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from django.contrib.auth import get_user_model
from django.db import connection

from paperroute.catalog.ingest import Importer
from paperroute.catalog.models import Paper
from paperroute.catalog.records import HFInfo, PaperRecord

HOSTILE = '<script>alert("x")</script>"><img src=x onerror=alert(1)>'


def add_paper(
    key: str,
    title: str = "",
    *,
    listed: date | None = None,
    hf_upvotes: int | None = None,
    authors: tuple[str, ...] = ("Ada Lovelace", "Alan Turing"),
    abstract: str = "",
    categories: tuple[str, ...] = ("cs.CL",),
    published: datetime | None = None,
    source: str = "jsonl",
    code: str = "",
) -> Paper:
    """Ingest one paper (an arXiv id, or a doi:/seed: key) and return it from the database."""
    arxiv = "" if ":" in key else key
    record = PaperRecord(
        source=source,
        position=key,
        title=title or f"A study of {key}",
        arxiv_id=arxiv,
        key="" if arxiv else key,
        abstract=abstract or f"We study {key} in depth.",
        authors=list(authors),
        categories=list(categories),
        published=published or datetime(2024, 11, 26, 18, tzinfo=UTC),
        version=1,
        versions={1: published or datetime(2024, 11, 26, 18, tzinfo=UTC)},
        announced_on=listed,
        code_url=code,
    )
    if hf_upvotes is not None:
        record.submitted_on = listed
        record.hf = HFInfo(upvotes=hf_upvotes, submitted_by="hf-user")
    summary = Importer(source).store([record])
    assert not summary.skipped, summary.skipped
    return Paper.objects.get(key=key)


def user(name: str = "reader", *, staff: bool = False):
    users = get_user_model()
    account, _ = users.objects.get_or_create(
        username=name, defaults={"email": f"{name}@example.org", "is_staff": staff}
    )
    return account


def together(work: list[Callable[[], object]], *, pause: float = 0.0) -> list[BaseException]:
    """Run each callable in a thread of its own (so on a connection of its own) and return what
    they raised. With no `pause` they start at one moment (a barrier); with one, in order,
    `pause` seconds apart."""
    barrier = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def run(job):
        try:
            if not pause:
                barrier.wait()
            job()
        except BaseException as exc:  # noqa: BLE001 - returned to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
        time.sleep(pause)
    for thread in threads:
        thread.join(timeout=60)
    return errors
