import json

import pytest

from paperroute.catalog.ingest import Importer
from paperroute.catalog.sources import arxiv_api, hf_daily
from tests.conftest import fixture_bytes

pytestmark = pytest.mark.slow


def test_stats_json_counts_and_newest_per_source(cli):
    Importer("arxiv-api").store(
        arxiv_api.parse(
            fixture_bytes("arxiv_atom_api/query_newapi_cs.AI-LG-CL_2026-08-02_25entries.xml")
        ).items
    )
    Importer("hf-daily").store(
        hf_daily.parse(fixture_bytes("hf_daily_papers/daily_papers_2026-07-31_30entries.json")).items
    )
    result = cli("stats", "--json")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert set(stats) == {"papers", "authors", "categories", "sources"}
    assert stats["papers"] == 52
    assert stats["sources"]["arxiv-api"]["papers"] == 25
    assert stats["sources"]["hf-daily"]["papers"] == 30
    assert stats["sources"]["arxiv-api"]["newest"]["id"] == "2607.28628"
    assert stats["sources"]["arxiv-api"]["newest"]["published"] == "2026-07-30T17:59:56+00:00"
    text = cli("stats").stdout.decode()
    assert "papers      52" in text and "arxiv-api   25 papers; newest 2607.28628" in text


def test_stats_dates_a_listed_paper_by_its_announcement_not_by_its_arrival(cli):
    """arXiv's daily listing gives no submission time: `stats` says the day arXiv announced the
    paper, not the day it was loaded here, and cuts a long title visibly."""
    from datetime import date

    from paperroute.catalog.records import PaperRecord

    title = "A study of listings whose title goes on and on, well past sixty characters in all"
    record = PaperRecord(
        source="arxiv-rss", position="1", arxiv_id="2411.17697", title=title, announced_on=date(2024, 11, 28)
    )
    assert not Importer("arxiv-rss").store([record]).skipped
    stats = json.loads(cli("stats", "--json").stdout)
    assert stats["sources"]["arxiv-rss"]["newest"]["announced"] == "2024-11-28"
    line = [row for row in cli("stats").stdout.decode().splitlines() if row.startswith("arxiv-rss")][0]
    assert "newest 2411.17697 (announced 2024-11-28) A study of listings" in line
    assert line.endswith("…") and title not in line
