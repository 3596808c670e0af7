"""Two ingests at once (the worker and a backfill, or two hosts' workers) lose nothing of each
other's, a cached page never outlives the ingest that changed it, and the order records come in
does not change a paper's day."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from paperroute.catalog import ingest
from paperroute.catalog.ingest import Importer
from paperroute.catalog.models import Paper
from paperroute.catalog.records import HFInfo, PaperRecord
from paperroute.community import stamp

DAY = date(2024, 11, 28)


def arxiv(key: str, title: str, version: int = 1, source: str = "arxiv-api", **values) -> PaperRecord:
    return PaperRecord(
        source=source,
        position="entry 1",
        title=title,
        arxiv_id=key,
        abstract="An abstract about sparse experts.",
        authors=["Ada Lovelace"],
        categories=["cs.LG"],
        published=datetime(2024, 11, 27, 18, tzinfo=UTC),
        version=version,
        announcements=[(DAY, "new")],
        **values,
    )


def hf(key: str, title: str) -> PaperRecord:
    return PaperRecord(
        source="hf-daily",
        position="paper 1",
        title=title,
        arxiv_id=key,
        submitted_on=DAY + timedelta(days=1),
        hf=HFInfo(upvotes=57, submitted_by="ada"),
    )


@pytest.mark.django_db(transaction=True)
def test_two_ingests_of_one_paper_at_once_keep_both(monkeypatch):
    """A Hugging Face record committed while an arXiv batch merged the same paper: the arXiv
    batch wrote the paper as it had read it, and the paper lost its Hugging Face day and
    sighting (it left that day's listing)."""
    Importer("arxiv-rss").store([arxiv("2411.30001", "Sparse experts", source="arxiv-rss")])
    loaded, release = threading.Event(), threading.Event()
    load = ingest._BatchWriter._load

    def slow_load(self):
        load(self)
        if threading.current_thread().name == "arxiv":
            loaded.set()
            release.wait(timeout=2)  # long enough for the other ingest to commit, if it may

    monkeypatch.setattr(ingest._BatchWriter, "_load", slow_load)
    errors: list[BaseException] = []

    def run(records):
        try:
            Importer(records[0].source).store(records)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    first = threading.Thread(
        target=run,
        args=([arxiv("2411.30001", "Sparse experts", version=2), arxiv("2411.30002", "Other")],),
        name="arxiv",
    )
    first.start()
    assert loaded.wait(timeout=10)
    second = threading.Thread(target=run, args=([hf("2411.30001", "Sparse experts")],), name="hf")
    second.start()
    second.join(timeout=1.5)  # committed by now, unless it waits for the arXiv batch
    release.set()
    first.join()
    second.join()
    assert errors == []
    paper = Paper.objects.get(key="2411.30001")
    assert set(paper.sightings.values_list("source", flat=True)) >= {"arxiv-rss", "arxiv-api", "hf-daily"}
    assert paper.hf_upvotes == 57 and paper.latest_version == 2
    assert paper.listed_on == DAY + timedelta(days=1)


@pytest.mark.django_db(transaction=True)
def test_an_ingest_that_commits_late_still_changes_the_cached_pages_key(monkeypatch):
    """The page cache is keyed by the site stamp, which took the catalogue's latest
    `changed_at`: a batch that began earlier (a long OAI page, or a host whose clock is behind)
    committed after a later-stamped one, the latest stayed the same, and readers got the old
    page for five minutes."""
    Importer("arxiv-rss").store([arxiv("2411.30001", "Sparse experts"), arxiv("2411.30002", "Other")])
    before = stamp.current()
    late = timezone.now() - timedelta(seconds=30)
    monkeypatch.setattr(ingest.timezone, "now", lambda: late)
    summary = Importer("arxiv-api").store([arxiv("2411.30001", "Sparse experts, retitled", version=2)])
    assert summary.updated == 1
    assert Paper.objects.get(key="2411.30001").title == "Sparse experts, retitled"
    assert stamp.current() != before
    # Nothing changed: nothing to invalidate.
    again = stamp.current()
    Importer("arxiv-api").store([arxiv("2411.30001", "Sparse experts, retitled", version=2)])
    assert stamp.current() == again


@pytest.mark.django_db
@pytest.mark.parametrize("order", ["oai-first", "api-first"])
def test_a_papers_listing_day_does_not_depend_on_which_record_came_first(order):
    """An OAI record in the `arXiv` format dates a paper by its day alone (midnight UTC), which
    arXiv's schedule puts before the 14:00 ET cutoff; the query API's exact time (15:30 ET) puts it
    a day later. The first record's day stayed, so the two orders listed the paper on two days."""
    oai = PaperRecord(
        source="arxiv-oai",
        position="record 1",
        title="Sparse experts",
        arxiv_id="2411.11111",
        published=datetime(2024, 11, 27, tzinfo=UTC),
    )
    api = arxiv("2411.11111", "Sparse experts")
    api.published, api.announcements = datetime(2024, 11, 27, 20, 30, tzinfo=UTC), []
    records = [oai, api] if order == "oai-first" else [api, oai]
    for record in records:
        Importer(record.source).store([record])
    paper = Paper.objects.get(key="2411.11111")
    assert paper.published == datetime(2024, 11, 27, 20, 30, tzinfo=UTC)
    assert paper.listed_on == date(2024, 11, 29)  # Wednesday 15:30 ET: announced Thursday 20:00 ET
