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
