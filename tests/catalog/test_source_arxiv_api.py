from datetime import UTC, datetime

import pytest

from paperroute.catalog.records import RecordError, UnusableInput
from paperroute.catalog.sources import arxiv_api
from tests.conftest import fixture_bytes

NEW_25 = "arxiv_atom_api/query_newapi_cs.AI-LG-CL_2026-08-02_25entries.xml"
NEW_5 = "arxiv_atom_api/query_newapi_transformer_cs.LG_2026-06-14_5entries.xml"
OLD = "arxiv_atom_api/old_layout_2entries.xml"


def test_new_layout():
    page = arxiv_api.parse(fixture_bytes(NEW_5))
    assert page.complete_list_size == 28946 and page.cursor == 0
    first = page.items[0]
    assert first.arxiv_id == "2606.13677" and first.version == 1
    assert first.title == "Mana: Dexterous Manipulation of Articulated Tools"
    assert first.authors == ["Zhao-Heng Yin", "Guanya Shi", "Pieter Abbeel", "C. Karen Liu"]
    assert first.categories == ["cs.RO", "cs.AI", "cs.CV", "cs.LG"]
    assert first.published == datetime(2026, 6, 11, 17, 59, 49, tzinfo=UTC)
    assert first.comments == "Project Page: https://zhaohengyin.github.io/mana"
    assert "(&lt;1 minute per tool)" not in first.abstract and "(<1 minute per tool)" in first.abstract


def test_all_25_entries_parse():
    page = arxiv_api.parse(fixture_bytes(NEW_25))
    assert len(page.items) == 25
    assert not [i for i in page.items if isinstance(i, RecordError)]
    assert page.complete_list_size == 449736


def test_old_layout():
    page = arxiv_api.parse(fixture_bytes(OLD))
    assert page.complete_list_size == 2
    first, second = page.items
    assert first.arxiv_id == "1706.03762" and first.version == 5
    assert first.versions[1] == datetime(2017, 6, 12, 17, 57, 34, tzinfo=UTC)
    assert first.versions[5] == datetime(2017, 12, 6, 3, 30, 32, tzinfo=UTC)
    assert first.categories == ["cs.CL", "cs.LG"]
    assert first.comments.startswith("15 pages")
    assert second.doi == "10.1162/neco.1997.9.8.1735"
    assert second.journal_ref == "Neural Computation 9(8):1735-1780, 1997"


def test_api_error_feed_is_unusable():
    data = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_1234</id>
<title>Error</title><summary>incorrect id format for 1234</summary></entry></feed>"""
    with pytest.raises(UnusableInput, match="incorrect id format for 1234"):
        arxiv_api.parse(data)
