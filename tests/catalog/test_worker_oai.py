"""The worker's arXiv OAI-PMH ingest asks for what changed since its last harvest, in the sets of
the site's categories: it asked for every record of arXiv, every hour."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from paperroute import health, worker
from paperroute.catalog import harvest, taxonomy
from paperroute.catalog.models import Paper
from tests.conftest import fixture_bytes
from tests.replay import ReplayServer, Reply

HEPTH = "arxiv_oai_pmh/listrecords_arXiv_hep-th_no_token.xml"


@pytest.mark.django_db
def test_the_worker_harvests_the_sets_of_its_categories_since_its_last_harvest(
    settings, monkeypatch, tmp_path
):
    settings.DATA_DIR = str(tmp_path)
    settings.CONFIG = settings.CONFIG.replace(arxiv_categories=("cs.LG", "cs.CL", "hep-th"), arxiv_delay=0)
    with ReplayServer(lambda path, params: Reply(fixture_bytes(HEPTH))) as server:
        monkeypatch.setitem(harvest.DEFAULT_URLS, "arxiv-oai", server.url + "/oai")
        worker.ingest("arxiv-oai", say=lambda line: None)
        first = [r.params for r in server.requests]
        assert Paper.objects.count() == 3
        assert health.last_success("arxiv-oai", worker=True) is not None
        # Five days later (the worker was stopped), after a backlog ingested by hand
        # (`paperroute ingest arxiv-oai FILE`): the hand-run moved where the worker went on from,
        # and the days between were never harvested.
        status = tmp_path / "status" / "ingest-arxiv-oai.json"
        finished = timezone.now() - timedelta(days=5)
        record = {**json.loads(status.read_text()), "worker_success": finished.isoformat()}
        status.write_text(json.dumps({**record, "success": finished.isoformat()}))
        health.record_ingest("arxiv-oai", ok=True, line="by hand")
        worker.ingest("arxiv-oai", say=lambda line: None)
        second = [r.params for r in server.requests[len(first) :]]
    three_days_ago = (timezone.now() - timedelta(days=3)).astimezone(UTC).date().isoformat()
    assert [(p.get("set"), p.get("from")) for p in first] == [
        ("cs", three_days_ago),
        ("physics:hep-th", three_days_ago),
    ]
    day_before = (finished - timedelta(days=1)).astimezone(UTC).date().isoformat()
    assert [(p.get("set"), p.get("from")) for p in second] == [
        ("cs", day_before),
        ("physics:hep-th", day_before),
    ]


def test_oai_sets_and_days():
    assert taxonomy.oai_sets(["cs.LG", "stat.ML", "cs.CL", "hep-th", "quant-ph", "math.CO"]) == [
        "cs",
        "stat",
        "physics:hep-th",
        "physics:quant-ph",
        "math",
    ]
    assert taxonomy.oai_sets([]) == []
    now = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
    assert harvest.oai_since(datetime(2026, 11, 29, 23, 50, tzinfo=UTC), now) == "2026-11-28"
    assert harvest.oai_since(None, now) == "2026-11-27"
