import pytest

from paperroute.catalog.records import PaperRecord, RecordError, UnusableInput
from paperroute.catalog.sources import jsonl
from tests.conftest import fixture_bytes


def test_seed_file_as_it_is():
    page = jsonl.parse(fixture_bytes("seed-papers.jsonl"))
    assert len(page.items) == 45
    assert all(isinstance(r, PaperRecord) and r.source == "seed" for r in page.items)
    flowar = page.items[0]
    assert flowar.title.startswith("FlowAR: Scale-wise Autoregressive")
    assert flowar.code_url == "https://github.com/OliverRensu/FlowAR"
    klue = next(r for r in page.items if r.title.startswith("KLUE"))
    assert klue.code_url == "" and klue.project_url == "https://klue-benchmark.com"


def test_bad_lines_are_reported_by_line_number():
    data = b'{"id": "2401.00001", "title": "Good"}\n{"title": \n\n[1, 2]\n{"id": "2401.00002"}\n{"title": "Bad date", "published": "2024-02-30"}\n'
    page = jsonl.parse(data)
    assert isinstance(page.items[0], PaperRecord)
    errors = [(e.position, e.reason.split(":")[0]) for e in page.items if isinstance(e, RecordError)]
    assert errors == [
        ("line 2", "invalid JSON"),
        ("line 4", "the line is not a JSON object"),
        ("line 5", "missing title"),
        ("line 6", "bad date '2024-02-30'"),
    ]


def test_not_json_lines_at_all():
    with pytest.raises(UnusableInput, match="not JSON Lines"):
        jsonl.parse(b"<?xml version='1.0'?>\n<feed/>\n")
