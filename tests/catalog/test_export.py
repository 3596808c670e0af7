import io
import json

import pytest

from paperroute.catalog.export import export_jsonl
from paperroute.catalog.ingest import Importer
from paperroute.catalog.models import Author, Category, Paper
from paperroute.catalog.sources import arxiv_api, arxiv_rss, hf_daily, jsonl
from tests.conftest import fixture_bytes, wipe_catalogue

pytestmark = pytest.mark.django_db


def load_everything():
    for source, parse, name in (
        ("arxiv-rss", arxiv_rss.parse, "arxiv_rss/rss2_allarchives_2024-11-28_1504items.xml.gz"),
        ("arxiv-api", arxiv_api.parse, "arxiv_atom_api/query_newapi_cs.AI-LG-CL_2026-08-02_25entries.xml"),
        ("arxiv-api", arxiv_api.parse, "arxiv_atom_api/old_layout_2entries.xml"),
        ("hf-daily", hf_daily.parse, "hf_daily_papers/daily_papers_2026-07-31_30entries.json"),
        ("jsonl", jsonl.parse, "seed-papers.jsonl"),
    ):
        Importer(source).store(parse(fixture_bytes(name)).items)


def export() -> str:
    stream = io.StringIO()
    export_jsonl(stream)
    return stream.getvalue()


def test_round_trip_through_jsonl_loses_nothing():
    load_everything()
    first = export()
    counts = (Paper.objects.count(), Author.objects.count(), Category.objects.count())
    wipe_catalogue()
    summary = Importer("jsonl").store(jsonl.parse(first.encode()).items)
    assert summary.new == counts[0] and not summary.skipped
    assert (Paper.objects.count(), Author.objects.count(), Category.objects.count()) == counts
    assert export() == first


def test_export_shows_every_field():
    load_everything()
    lines = {json.loads(line)["id"]: json.loads(line) for line in export().splitlines()}
    askchem = lines["2607.28618"]
    assert askchem["hf"]["upvotes"] == 292
    assert askchem["links"]["code"] == "https://github.com/bingyan4science/askchem"
    assert askchem["links"]["pdf"] == "https://arxiv.org/pdf/2607.28618"
    assert set(askchem["sources"]) == {"arxiv-api", "hf-daily"}
    attention = lines["1706.03762"]
    assert [v["version"] for v in attention["versions"]] == [1, 5]
    assert attention["categories"] == ["cs.CL", "cs.LG"]
    assert lines["1401.3665"]["announcements"] == [{"date": "2024-11-28", "type": "replace"}]
