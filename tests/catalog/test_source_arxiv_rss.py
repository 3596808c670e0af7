from collections import Counter
from datetime import date

import pytest

from paperroute.catalog.records import RecordError, UnusableInput
from paperroute.catalog.sources import arxiv_rss
from tests.conftest import fixture_bytes

DAY = "arxiv_rss/rss2_allarchives_2024-11-28_1504items.xml.gz"


def test_full_day_with_announce_types():
    page = arxiv_rss.parse(fixture_bytes(DAY))
    assert len(page.items) == 1504
    kinds = Counter(kind for record in page.items for _, kind in record.announcements)
    assert kinds == {"new": 926, "replace": 569, "cross": 9}
    assert {day for record in page.items for day, _ in record.announcements} == {date(2024, 11, 28)}
    first = page.items[0]
    assert first.arxiv_id == "2411.17700" and first.version == 1
    assert first.authors == ["Jun Cui"]
    assert first.categories == ["cs.CY"]
    assert first.abstract.startswith("This study investigates the influence of generative")
    assert first.license == "http://creativecommons.org/licenses/by/4.0/"


def test_replacement_keeps_its_version():
    page = arxiv_rss.parse(fixture_bytes(DAY))
    designs = next(r for r in page.items if r.arxiv_id == "1401.3665")
    assert designs.version == 4
    assert designs.announcements == [(date(2024, 11, 28), "replace")]


def test_several_authors_in_one_creator():
    page = arxiv_rss.parse(fixture_bytes(DAY))
    assert any(r.authors[:3] == ["Hyewon Jeong", "Suyeol Yun", "Hammaad Adam"] for r in page.items)


def test_empty_feed_has_no_items():
    assert arxiv_rss.parse(fixture_bytes("arxiv_rss/rss2_empty_feed_test-archive_2024-11-28.xml")).items == []


def test_error_feed_is_unusable_with_arxivs_explanation():
    with pytest.raises(UnusableInput, match="Bad archive 'astroph'"):
        arxiv_rss.parse(fixture_bytes("arxiv_rss/rss2_error_feed_bad-archive_2024-11-28.xml"))


def test_broken_item_is_reported():
    data = fixture_bytes(DAY).replace(
        b"<title>Equivalent of Non-Trivial", b"<title><Equivalent of Non-Trivial", 1
    )
    page = arxiv_rss.parse(data)
    errors = [i for i in page.items if isinstance(i, RecordError)]
    assert len(page.items) == 1504 and len(errors) == 1
    assert errors[0].position == "item 2 (oai:arXiv.org:2411.17701v1)"
