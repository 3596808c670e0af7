from datetime import UTC, date, datetime

import pytest

from paperroute.catalog.ingest import Importer
from paperroute.catalog.models import Announcement, Author, Paper, Sighting
from paperroute.catalog.sources import arxiv_api, arxiv_rss, hf_daily, jsonl
from tests.conftest import fixture_bytes

pytestmark = pytest.mark.django_db

RSS_DAY = "arxiv_rss/rss2_allarchives_2024-11-28_1504items.xml.gz"
API_25 = "arxiv_atom_api/query_newapi_cs.AI-LG-CL_2026-08-02_25entries.xml"
HF_DAY = "hf_daily_papers/daily_papers_2026-07-31_30entries.json"


def store(source: str, parse, data: bytes):
    return Importer(source).store(parse(data).items)


def test_reingesting_the_same_records_changes_nothing():
    first = store("arxiv-rss", arxiv_rss.parse, fixture_bytes(RSS_DAY))
    assert (first.new, first.updated, first.unchanged, first.skipped) == (1504, 0, 0, [])
    stamps = dict(Paper.objects.values_list("key", "changed_at"))
    counts = (Paper.objects.count(), Author.objects.count(), Announcement.objects.count())
    again = store("arxiv-rss", arxiv_rss.parse, fixture_bytes(RSS_DAY))
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1504)
    assert dict(Paper.objects.values_list("key", "changed_at")) == stamps
    assert (Paper.objects.count(), Author.objects.count(), Announcement.objects.count()) == counts


def test_listing_day_follows_arxivs_announcements():
    store("arxiv-rss", arxiv_rss.parse, fixture_bytes(RSS_DAY))
    assert Paper.objects.filter(listed_on=date(2024, 11, 28)).count() == 926
    replaced = Paper.objects.get(key="1401.3665")
    assert replaced.listed_on is None and replaced.latest_version == 4
    assert list(replaced.announcements.values_list("kind", flat=True)) == ["replace"]
    # The query API gives submission times: 17:59:56 UTC on Thu 30 Jul 2026 is 13:59 in New
    # York, just before arXiv's 14:00 deadline, so it is listed on Friday 31 Jul.
    store("arxiv-api", arxiv_api.parse, fixture_bytes(API_25))
    assert Paper.objects.get(key="2607.28628").listed_on == date(2026, 7, 31)


def _v2_of_mana() -> bytes:
    data = fixture_bytes("arxiv_atom_api/query_newapi_transformer_cs.LG_2026-06-14_5entries.xml")
    return (
        data.replace(b"2606.13677v1", b"2606.13677v2")
        .replace(
            b"<title>Mana: Dexterous Manipulation of Articulated Tools</title>",
            b"<title>Mana: Dexterous Manipulation of Articulated Tools, Revised</title>",
        )
        .replace(b"<updated>2026-06-11T17:59:49Z</updated>", b"<updated>2026-06-20T09:00:00Z</updated>", 1)
    )


def test_newer_version_updates_the_paper_and_keeps_its_history():
    v1 = fixture_bytes("arxiv_atom_api/query_newapi_transformer_cs.LG_2026-06-14_5entries.xml")
    store("arxiv-api", arxiv_api.parse, v1)
    summary = store("arxiv-api", arxiv_api.parse, _v2_of_mana())
    assert (summary.new, summary.updated, summary.unchanged) == (0, 1, 4)
    paper = Paper.objects.get(key="2606.13677")
    assert paper.title.endswith("Revised") and paper.latest_version == 2
    assert list(paper.versions.values_list("number", "date")) == [
        (1, datetime(2026, 6, 11, 17, 59, 49, tzinfo=UTC)),
        (2, datetime(2026, 6, 20, 9, 0, tzinfo=UTC)),
    ]
    # The older version arriving late does not roll the paper back.
    late = store("arxiv-api", arxiv_api.parse, v1)
    assert late.unchanged == 5
    assert Paper.objects.get(key="2606.13677").title.endswith("Revised")


def test_same_paper_from_arxiv_and_hugging_face_is_one_paper():
    store("arxiv-api", arxiv_api.parse, fixture_bytes(API_25))
    summary = store("hf-daily", hf_daily.parse, fixture_bytes(HF_DAY))
    assert (summary.new, summary.updated) == (27, 3)
    assert Paper.objects.count() == 25 + 27
    beta = Paper.objects.get(key="2607.28582")
    # arXiv's title (with its LaTeX) stays; Hugging Face adds its own fields.
    assert beta.title.startswith("$β$-OPSD")
    assert beta.hf_upvotes == 19 and beta.submitted_on == date(2026, 7, 31)
    assert beta.project_url == "https://umd-huang-lab.github.io/beta-opsd/"
    assert set(beta.sightings.values_list("source", flat=True)) == {"arxiv-api", "hf-daily"}
    askchem = Paper.objects.get(key="2607.28618")
    assert askchem.github_repo == askchem.code_url == "https://github.com/bingyan4science/askchem"
    assert askchem.hf_upvotes == 292 and askchem.listed_on == date(2026, 7, 31)


def test_upvotes_change_on_a_later_hugging_face_response():
    store("hf-daily", hf_daily.parse, fixture_bytes(HF_DAY))
    later = fixture_bytes(HF_DAY).replace(b'"upvotes":292', b'"upvotes":301')
    assert later != fixture_bytes(HF_DAY)
    summary = store("hf-daily", hf_daily.parse, later)
    assert (summary.updated, summary.unchanged) == (1, 29)
    assert Paper.objects.get(key="2607.28618").hf_upvotes == 301


def test_code_links_from_abstract_and_comments():
    store("arxiv-api", arxiv_api.parse, fixture_bytes(API_25))
    assert Paper.objects.get(key="2607.28627").code_url == "https://github.com/avaxiao/ReToken"
    assert (
        Paper.objects.get(key="2607.28623").project_url == "https://lzyang2000.github.io/perceptive_cbf_rl/"
    )


def test_seed_papers_get_stable_ids_code_links_and_the_seed_source():
    first = store("jsonl", jsonl.parse, fixture_bytes("seed-papers.jsonl"))
    assert first.new == 45
    keys = set(Paper.objects.values_list("key", flat=True))
    assert all(key.startswith("seed:") for key in keys)
    assert set(Sighting.objects.values_list("source", flat=True)) == {"seed"}
    # Nine seed abstracts name a GitHub repository (the issue says five; the file has nine).
    with_code = Paper.objects.exclude(code_url="")
    assert with_code.count() == 9
    assert Paper.objects.get(title__startswith="FlowAR").code_url == "https://github.com/OliverRensu/FlowAR"
    again = store("jsonl", jsonl.parse, fixture_bytes("seed-papers.jsonl"))
    assert again.unchanged == 45 and set(Paper.objects.values_list("key", flat=True)) == keys


def test_arxiv_record_takes_over_a_seed_with_the_same_title():
    seed = b'{"title": "Attention  is all you NEED", "abstract": "seed text", "links": []}\n'
    store("jsonl", jsonl.parse, seed)
    old_key = Paper.objects.get().key
    assert old_key.startswith("seed:")
    store("arxiv-api", arxiv_api.parse, fixture_bytes("arxiv_atom_api/old_layout_2entries.xml"))
    paper = Paper.objects.get(title="Attention Is All You Need")
    assert paper.key == "1706.03762"
    assert set(paper.sightings.values_list("source", flat=True)) == {"seed", "arxiv-api"}
    assert not Paper.objects.filter(key=old_key).exists()


def test_malformed_records_are_skipped_and_the_rest_stored():
    data = fixture_bytes(API_25)
    data = data.replace(b"<title>AskChem", b"<title><AskChem", 1)  # broken XML in one entry
    data = data.replace(
        b"<published>2026-07-30T17:59:56Z</published>", b"<published>2026-07-30T27:59:56Z</published>", 1
    )
    summary = store("arxiv-api", arxiv_api.parse, data)
    assert summary.new == 23
    assert [(e.position.split(" (")[0], e.reason.split(":")[0]) for e in summary.skipped] == [
        ("entry 1", "bad date '2026-07-30T27"),
        ("entry 4", "broken XML"),
    ]
    assert Paper.objects.count() == 23


def test_validation_rejects_what_the_schema_cannot_hold():
    line = b'{"id": "2401.00001", "title": "T", "categories": ["cs.CL; DROP TABLE"]}\n'
    line += b'{"id": "2401.00002", "title": "T2", "links": {"code": "javascript:alert(1)"}}\n'
    line += b'{"id": "2401.00003", "title": "T3", "published": "1066-10-14"}\n'
    summary = store("jsonl", jsonl.parse, line)
    assert [e.reason.split(" ")[0:2] for e in summary.skipped] == [
        ["bad", "category"],
        ["implausible", "date"],
    ]
    # A bad link costs the record only the link.
    assert [(d.position, d.reason.split(":")[-1].strip()) for d in summary.dropped] == [
        ("line 2", "not an http(s) URL")
    ]
    assert list(Paper.objects.values_list("key", "code_url")) == [("2401.00002", "")]


def test_times_round_trip_and_match_the_orms_own_lookups():
    # The importer writes its rows with raw SQL; SQLite compares times as the stored text, so
    # they must be stored exactly as the ORM would store them.
    store("arxiv-api", arxiv_api.parse, fixture_bytes(API_25))
    paper = Paper.objects.get(key="2607.28628")
    assert paper.published == datetime(2026, 7, 30, 17, 59, 56, tzinfo=UTC)
    assert Paper.objects.filter(key=paper.key, published=paper.published).exists()
    assert Paper.objects.filter(
        key=paper.key, changed_at=paper.changed_at, created_at=paper.created_at
    ).exists()
    assert paper.announced_on == date(2026, 7, 31)
    assert Paper.objects.filter(key=paper.key, announced_on=date(2026, 7, 31)).exists()
    seen = Sighting.objects.get(paper=paper)
    assert seen.first_seen.tzinfo is not None
    assert Sighting.objects.filter(pk=seen.pk, first_seen=seen.first_seen).exists()
    version = paper.versions.get()
    assert paper.versions.filter(date=version.date).exists() and version.date == paper.published


def _cache_kib() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        return -cursor.fetchone()[0]


def test_sqlite_keeps_a_large_page_cache_only_while_records_are_stored():
    """Every web thread has a connection; a 64 MiB cache in each grew 8 web processes by about
    40 MiB apiece at 1M papers (BENCHMARKS.md). Imports want it; reading does not."""
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's cache is the server's, shared by every connection")

    assert _cache_kib() == settings.SQLITE_CACHE_KIB < settings.SQLITE_BULK_CACHE_KIB
    seen = []

    def items():
        for item in hf_daily.parse(fixture_bytes(HF_DAY)).items:
            seen.append(_cache_kib())
            yield item

    summary = Importer("hf-daily", batch_size=10).store(items())
    assert summary.new == 30 and set(seen) == {settings.SQLITE_BULK_CACHE_KIB}
    assert _cache_kib() == settings.SQLITE_CACHE_KIB
