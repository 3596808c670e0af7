"""A paper's id, DOI or URL holding a control character: ingest skips it and says why; one
stored before it did has a page, every list holding it answers, and `paperroute check` names it.
"""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from paperroute.catalog.models import Paper
from tests.community.helpers import add_paper

# Each one a line break in some reader, or nothing visible at all.
HIDDEN = ["\n", "\t", "\x0b", "\r", "\x00", "\x85", "\u2028", "\u2029", "\u200b", "\ufeff"]


def test_an_id_or_doi_with_a_control_character_is_skipped_and_the_rest_stored(cli, client, tmp_path):
    lines = [{"doi": f"10.1234/doi{ch}inside", "title": f"DOI {ord(ch):04X}"} for ch in HIDDEN]
    lines += [
        {"id": "url:https://example.org/a\tb", "title": "A tab in a URL id"},
        {"id": "seed:one\ntwo", "title": "A line break in a seed id"},
        {"id": "2411.00009", "title": "A category ending in a line break", "categories": ["cs.LG\n"]},
        {"doi": "10.1234/honest", "title": "An honest DOI"},
    ]
    path = tmp_path / "hidden.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = cli("ingest", "jsonl", str(path))
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert f"1 new, 0 updated, 0 unchanged, {len(lines) - 1} skipped" in result.stdout.decode()
    assert (
        "skipped line 1: the DOI '10.1234/doi\\ninside' holds a line break (U+000A), "
        "which a paper's id cannot hold" in stderr
    )
    assert "skipped line 2: the DOI '10.1234/doi\\tinside' holds a tab (U+0009)" in stderr
    assert (
        "skipped line 9: the DOI '10.1234/doi\\u200binside' holds an invisible character (U+200B)" in stderr
    )
    assert "skipped line 11: the id 'url:https://example.org/a\\tb' holds a tab" in stderr
    assert "skipped line 12: the id 'seed:one\\ntwo' holds a line break" in stderr
    assert "skipped line 13: bad category 'cs.LG\\n'" in stderr
    assert list(Paper.objects.values_list("key", flat=True)) == ["doi:10.1234/honest"]
    assert client.get("/api/papers").status_code == 200


def test_space_around_a_doi_in_the_id_is_trimmed(cli, tmp_path):
    path = tmp_path / "spaced.jsonl"
    path.write_text(json.dumps({"id": "doi: 10.1234/spaced\n", "title": "Spaced"}) + "\n")
    result = cli("ingest", "jsonl", str(path))
    assert result.returncode == 0, result.stderr.decode()
    assert Paper.objects.get(title="Spaced").key == "doi:10.1234/spaced"


@pytest.fixture
def stored_before(db):
    """A paper whose key holds a line break, as ingest stored it before it refused one."""
    today = timezone.localdate()
    paper = add_paper(
        "doi:10.1234/stored", "A paper stored long ago", listed=today, authors=("Ada Lovelace",)
    )
    Paper.objects.filter(pk=paper.pk).update(key="doi:10.1234/line\nbreak")
    add_paper("2411.00001", "A neighbour on the same day", listed=today, authors=("Ada Lovelace",))
    return Paper.objects.get(pk=paper.pk)


@pytest.mark.parametrize(
    "url", ["/", "/api/papers", "/api/daily_papers", "/authors/Ada Lovelace", "/feeds/daily.xml"]
)
def test_a_stored_key_with_a_line_break_leaves_every_list_answering(client, stored_before, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert "A paper stored long ago" in response.content.decode()


def test_a_stored_key_with_a_line_break_has_a_page(client, stored_before):
    page = client.get("/papers/doi:10.1234/line%0Abreak")
    assert page.status_code == 200
    assert "A paper stored long ago" in page.content.decode()
    assert client.get("/papers/doi:10.1234/line%0Abreak.bib").status_code == 200


def test_check_names_a_stored_key_with_a_control_character(cli, stored_before):
    result = cli("check")
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert "(paperroute.W009) 1 paper has an id holding an invisible character" in stderr
    assert "'doi:10.1234/line\\nbreak'" in stderr


def test_an_arxiv_paper_whose_doi_holds_a_soft_hyphen_is_stored_without_the_doi(cli, tmp_path):
    """Its id is its arXiv id, so only the DOI goes (copied from a PDF, it may hold a U+00AD)."""
    path = tmp_path / "soft.jsonl"
    line = {"id": "2411.00010", "doi": "10.1234/soft\u00adhyphen", "title": "A DOI from a PDF"}
    path.write_text(json.dumps(line) + "\n")
    result = cli("ingest", "jsonl", str(path))
    assert result.returncode == 1
    assert "1 new, 0 updated, 0 unchanged, 0 skipped, 1 links dropped" in result.stdout.decode()
    assert (
        "line 1: dropped the DOI '10.1234/soft\\xadhyphen': it holds an invisible character (U+00AD)"
        in result.stderr.decode()
    )
    assert Paper.objects.get(key="2411.00010").doi == ""
