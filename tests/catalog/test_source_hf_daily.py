import json
from datetime import date

import pytest

from paperroute.catalog.records import RecordError, UnusableInput
from paperroute.catalog.sources import hf_daily
from tests.conftest import fixture_bytes

DAY = "hf_daily_papers/daily_papers_2026-07-31_30entries.json"


def test_entries_with_hugging_face_fields():
    page = hf_daily.parse(fixture_bytes(DAY))
    assert len(page.items) == 30
    first = page.items[0]
    assert first.arxiv_id == "2607.23193"
    assert first.submitted_on == date(2026, 7, 31)
    assert first.hf.upvotes == 3 and first.hf.github_stars == 5
    assert first.hf.github_repo == "https://github.com/MAC-AutoML/OmniScope"
    # The username, which Hugging Face's `submitter` filter takes, and the name its page shows.
    assert (first.hf.submitted_by, first.hf.submitter_name) == ("Consonnm", "Jinsen Su")
    assert first.authors[:2] == ["Jinsen Su", "Yongdong Luo"]
    top = max(page.items, key=lambda r: r.hf.upvotes)
    assert (top.arxiv_id, top.hf.upvotes) == ("2607.28618", 292)


def test_missing_optional_fields_are_fine_and_missing_id_is_reported():
    entries = json.loads(fixture_bytes(DAY))
    for key in ("githubRepo", "githubStars", "upvotes", "submittedOnDailyAt", "publishedAt"):
        entries[0]["paper"].pop(key, None)
    entries[0].pop("publishedAt")
    entries[1]["paper"]["ai_keywords"] = ["speculative decoding", "LLM"]
    del entries[2]["paper"]["id"]
    entries[3]["paper"]["publishedAt"] = "yesterday"
    page = hf_daily.parse(json.dumps(entries).encode())
    assert page.items[0].hf.upvotes is None and page.items[0].published is None
    assert page.items[1].hf.ai_keywords == ["speculative decoding", "LLM"]
    assert isinstance(page.items[2], RecordError) and page.items[2].reason == "missing paper id"
    assert isinstance(page.items[3], RecordError) and "bad date 'yesterday'" in page.items[3].reason
    assert page.items[3].position == "entry 4 (2607.28319)"


@pytest.mark.parametrize("data", [b"<html>rate limited</html>", b'{"error": "Invalid date"}', b'"text"'])
def test_unusable(data):
    with pytest.raises(UnusableInput):
        hf_daily.parse(data)
