"""Ingest inputs that stopped a whole run, were stored as impossible data, were lost, or
overwrote better data: each costs only itself now, or merges as it should."""

import json
from datetime import date
from io import StringIO

import pytest

from paperroute.catalog.export import export_jsonl
from paperroute.catalog.ingest import Importer
from paperroute.catalog.models import Paper
from paperroute.catalog.sources import arxiv_api, arxiv_oai, arxiv_rss, hf_daily, jsonl
from tests.catalog.test_ingest import HF_DAY, RSS_DAY, store
from tests.conftest import fixture_bytes, wipe_catalogue

pytestmark = pytest.mark.django_db

HEPTH = "arxiv_oai_pmh/listrecords_arXiv_hep-th_no_token.xml"


# A lone UTF-16 surrogate escape (a JSON string cut in the middle of an emoji) is valid JSON;
# the database driver cannot encode it, and UnicodeEncodeError is no DatabaseError: the whole
# run died with a traceback and none of the 30 papers was stored, on every rerun.
def test_a_lone_surrogate_costs_only_its_own_record():
    entries = json.loads(fixture_bytes(HF_DAY))
    entries[10]["paper"]["summary"] = entries[10]["paper"]["summary"][:50] + "\ud83d"
    summary = store("hf-daily", hf_daily.parse, json.dumps(entries).encode())
    assert (summary.new, len(summary.skipped)) == (29, 1)
    assert Paper.objects.count() == 29


# JSON Lines were split with str.splitlines(), which also splits at U+2028, U+2029, U+0085,
# U+001C..U+001E, \v and \f; json.dumps(ensure_ascii=False) (our own export) writes those raw.
def test_a_line_separator_inside_a_json_string_does_not_split_the_record():
    line = json.dumps({"id": "2411.20002", "title": "Second\u2028part"}, ensure_ascii=False)
    data = ('{"id": "2411.20001", "title": "First"}\n' + line + "\n").encode()
    summary = store("jsonl", jsonl.parse, data)
    assert summary.skipped == [] and summary.new == 2


def test_export_then_ingest_is_a_lossless_round_trip_with_a_nel_in_a_keyword():
    entries = json.loads(fixture_bytes(HF_DAY))
    entries[0]["paper"]["ai_keywords"] = ["vision\x85language"]  # cp1252 ellipsis read as Latin-1
    store("hf-daily", hf_daily.parse, json.dumps(entries).encode())
    out = StringIO()
    assert export_jsonl(out) == 30
    wipe_catalogue()
    summary = store("jsonl", jsonl.parse, out.getvalue().encode())
    assert summary.skipped == []
    assert Paper.objects.count() == 30


# One line with a non-UTF-8 byte made the whole JSON Lines file unusable (exit 2, nothing
# stored); a lone surrogate in one stopped the whole run.
@pytest.mark.parametrize("bad", [b'"Caf\xe9"', b'"Lone \\ud800 surrogate"'])
def test_one_bad_line_costs_only_that_line(bad):
    data = b'{"id": "2411.10000", "title": "Paper 0"}\n{"id": "2411.10001", "title": %s}\n' % bad
    data += b'{"id": "2411.10002", "title": "Paper 2"}\n'
    summary = store("jsonl", jsonl.parse, data)
    assert summary.new == 2 and [s.position for s in summary.skipped] == ["line 2"], summary.skipped


# Dates that are not timestamps escaped validate(): submitted_on, announced_on and the
# announcements' days were stored whatever year they held. Year 9999 made the paper the newest
# listing day (the home page showed it) and crashed the themes refresh after every ingest.
def test_an_implausible_submission_day_is_reported_and_skipped():
    entries = json.loads(fixture_bytes(HF_DAY))
    entries[1]["paper"]["submittedOnDailyAt"] = "9999-12-31T00:00:00.000Z"
    summary = store("hf-daily", hf_daily.parse, json.dumps(entries).encode())
    assert len(summary.skipped) == 1 and summary.skipped[0].reason.startswith("implausible date")
    assert not Paper.objects.filter(listed_on__year=9999).exists()


def test_an_implausible_announcement_day_is_reported_and_skipped():
    data = (
        b'{"id": "2411.40001", "title": "T1", "announced_on": "0001-01-01"}\n'
        b'{"id": "2411.40002", "title": "T2", "announcements": [{"date": "9999-12-31", "type": "new"}]}\n'
    )
    summary = store("jsonl", jsonl.parse, data)
    assert len(summary.skipped) == 2, Paper.objects.values_list("key", "listed_on")


def test_themes_refresh_survives_an_ingested_far_future_day():
    from datetime import timedelta

    from django.utils import timezone

    from paperroute.search import themesets

    began = timezone.now() - timedelta(seconds=1)
    entries = json.loads(fixture_bytes(HF_DAY))
    entries[1]["paper"]["submittedOnDailyAt"] = "9999-12-31T00:00:00.000Z"
    store("hf-daily", hf_daily.parse, json.dumps(entries).encode())
    themesets.refresh(since=began)  # OverflowError: date value out of range


# A content-only (seed) record and the arXiv record with the same title became one paper
# when they arrived in different batches, but two papers when they were in the same batch (one
# file of under 500 lines), and re-ingesting never merged them.
@pytest.mark.parametrize("order", ["seed first", "arxiv first"])
def test_seed_and_arxiv_record_in_one_batch_are_one_paper(order):
    seed = json.dumps({"title": "Attention Is All You Need", "links": ["https://github.com/x/y"]})
    arxiv = json.dumps({"id": "1706.03762", "title": "Attention is all you need"})
    lines = [seed, arxiv] if order == "seed first" else [arxiv, seed]
    store("jsonl", jsonl.parse, ("\n".join(lines) + "\n").encode())
    assert list(Paper.objects.values_list("key", flat=True)) == ["1706.03762"]


# An OAI-PMH record in the `arXiv` metadata format describes the paper as it is now, but it
# lists the first version's date only (versions = {1: created}): once another source had said
# v2, the OAI record counted as an *older* version, so its newer title was never applied.
API_V2 = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">
<id>x</id><title>q</title><updated>2016-03-05T00:00:00Z</updated>
<entry><id>http://arxiv.org/abs/1507.07790v2</id>
<updated>2016-03-04T10:00:00Z</updated><published>2015-07-28T10:00:00Z</published>
<title>An old title of the vector boson paper</title><summary>old</summary>
<author><name>Luis B. Castro</name></author>
<arxiv:primary_category term="hep-th"/><category term="hep-th"/></entry></feed>"""


def test_oai_arxiv_format_record_updates_a_paper_first_seen_at_v2():
    store("arxiv-api", arxiv_api.parse, API_V2)
    # arXiv's current metadata (OAI datestamp 2017-12-14, updated 2016-03-04 or later).
    store("arxiv-oai", arxiv_oai.parse, fixture_bytes(HEPTH))
    paper = Paper.objects.get(key="1507.07790")
    assert paper.title == "Relativistic quantum dynamics of vector bosons in an Aharonov-Bohm potential"


# A truncated XML file (a download cut short, a disk that filled up) stored nothing: the
# salvage pass handled the unclosed last item but then parsed the rest without its closing root.
def test_a_truncated_feed_stores_the_complete_items_before_the_cut():
    data = fixture_bytes(RSS_DAY)
    page = arxiv_rss.parse(data[: len(data) // 2])
    good = [i for i in page.items if hasattr(i, "arxiv_id")]
    assert len(good) > 700


# The query API was paged by fixed offsets (start = n * 100) whatever a page held: when arXiv
# answered a page with fewer entries than asked for (it caps or truncates pages; totalResults
# says more are there), the entries between were never requested, silently (exit 0).
def _atom(start: int, count: int, total: int) -> bytes:
    entries = "".join(
        f"<entry><id>http://arxiv.org/abs/2401.{n + 1:05d}v1</id>"
        f"<updated>2024-01-02T10:00:00Z</updated><published>2024-01-02T10:00:00Z</published>"
        f"<title>Paper number {n}</title><summary>s</summary><author><name>A B</name></author></entry>"
        for n in range(start, min(start + count, total))
    )
    return (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"><id>q</id><title>q</title>'
        f"<updated>2024-01-03T00:00:00Z</updated><opensearch:totalResults>{total}</opensearch:totalResults>"
        f"<opensearch:startIndex>{start}</opensearch:startIndex>"
        f"<opensearch:itemsPerPage>{count}</opensearch:itemsPerPage>{entries}</feed>"
    ).encode()


def test_api_short_pages_lose_nothing():
    from paperroute.catalog.harvest import Request, run
    from paperroute.catalog.sources.fetch import PoliteClient
    from tests.replay import ReplayServer, Reply

    # The server gives at most 60 entries per request, of 150 in all.
    def respond(path, params):
        return Reply(_atom(int(params["start"]), 60, 150))

    with ReplayServer(respond) as server:
        summary = run(
            Request(source="arxiv-api", input=server.url + "/api/query?search_query=cat:cs.AI"),
            client=PoliteClient(delay=0, timeout=10),
            importer=Importer("arxiv-api"),
            log=lambda m: None,
        )
    assert (summary.new, Paper.objects.count()) == (150, 150), [r.params["start"] for r in server.requests]


# `jsonl` was authoritative whatever the line's own sources said: re-ingesting an export in
# which a paper was known only from Hugging Face overwrote arXiv's title, abstract and authors
# with Hugging Face's ("arXiv's title, abstract and authors win").
def test_exported_hugging_face_only_paper_does_not_overwrite_arxivs_title():
    store("hf-daily", hf_daily.parse, fixture_bytes(HF_DAY))
    out = StringIO()
    export_jsonl(out)
    wipe_catalogue()
    store(
        "arxiv-api",
        arxiv_api.parse,
        fixture_bytes("arxiv_atom_api/query_newapi_cs.AI-LG-CL_2026-08-02_25entries.xml"),
    )
    assert Paper.objects.get(key="2607.28582").title.startswith("$β$-OPSD")
    store("jsonl", jsonl.parse, out.getvalue().encode())
    assert Paper.objects.get(key="2607.28582").title.startswith("$β$-OPSD")


# The first announcement kind seen for a day stayed: a paper seen as a "cross" in one feed
# and then as "new" the same day in its own category's feed kept "cross", so it got no
# announcement day and was never listed.
def test_new_beats_cross_on_the_same_day():
    data = fixture_bytes(RSS_DAY)
    start = data.index(b"<item>")
    end = data.index(b"</item>", start) + len(b"</item>")
    head, item, tail = data[:start], data[start:end], data[data.rindex(b"</item>") + len(b"</item>") :]
    cross = item.replace(b"Announce Type: new", b"Announce Type: cross").replace(
        b"<arxiv:announce_type>new<", b"<arxiv:announce_type>cross<"
    )
    store("arxiv-rss", arxiv_rss.parse, head + cross + tail)
    store("arxiv-rss", arxiv_rss.parse, head + item + tail)
    paper = Paper.objects.get(key="2411.17700")
    assert paper.listed_on == date(2024, 11, 28)
