"""`paperroute ingest` as a user runs it: summary line, exit codes, messages, no tracebacks."""

import gzip

import pytest

from paperroute.catalog.models import Paper
from tests.conftest import FIXTURES, fixture_bytes

RSS_DAY = FIXTURES / "arxiv_rss/rss2_allarchives_2024-11-28_1504items.xml.gz"
pytestmark = pytest.mark.slow


def test_clean_input_exits_0_with_a_summary(cli):
    result = cli("ingest", "arxiv-rss", str(RSS_DAY))
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.decode().strip()
        == "arxiv-rss: 1504 records: 1504 new, 0 updated, 0 unchanged, 0 skipped"
    )
    assert Paper.objects.count() == 1504
    again = cli("ingest", "arxiv-rss", str(RSS_DAY))
    assert again.stdout.decode().strip().endswith("0 new, 0 updated, 1504 unchanged, 0 skipped")


def test_skipped_records_exit_1_and_are_named(cli, tmp_path):
    broken = fixture_bytes("arxiv_rss/rss2_allarchives_2024-11-28_1504items.xml.gz").replace(
        b"<title>Equivalent of Non-Trivial", b"<title><Equivalent of Non-Trivial", 1
    )
    path = tmp_path / "broken.xml.gz"
    path.write_bytes(gzip.compress(broken))
    result = cli("ingest", "arxiv-rss", str(path))
    assert result.returncode == 1
    assert "1503 new, 0 updated, 0 unchanged, 1 skipped" in result.stdout.decode()
    stderr = result.stderr.decode()
    assert "skipped item 2 (oai:arXiv.org:2411.17701v1): broken XML" in stderr
    assert "Traceback" not in stderr
    assert Paper.objects.count() == 1503


@pytest.mark.parametrize(
    "source, fixture, message",
    [
        (
            "arxiv-rss",
            "arxiv_rss/rss2_error_feed_bad-archive_2024-11-28.xml",
            "arXiv feed error: Bad archive 'astroph'",
        ),
        ("arxiv-oai", "hf_daily_papers/daily_papers_2026-07-31_30entries.json", "not XML"),
        ("hf-daily", "arxiv_rss/rss2_empty_feed_test-archive_2024-11-28.xml", "not JSON"),
        ("arxiv-api", "arxiv_oai_pmh/listrecords_arXiv_hep-th_no_token.xml", "not an arXiv API Atom feed"),
    ],
)
def test_unusable_input_exits_2_with_one_line_and_changes_nothing(cli, source, fixture, message):
    cli("ingest", "jsonl", str(FIXTURES / "seed-papers.jsonl"))
    before = sorted(Paper.objects.values_list("key", "changed_at"))
    result = cli("ingest", source, str(FIXTURES / fixture))
    assert result.returncode == 2
    stderr = result.stderr.decode()
    assert message in stderr and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert sorted(Paper.objects.values_list("key", "changed_at")) == before


def test_bad_resumption_token_is_unusable(cli):
    reply = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        b'<responseDate>2024-01-27T17:53:42Z</responseDate><request verb="ListRecords">http://export.arxiv.org/oai2</request>'
        b'<error code="badResumptionToken">The value of the resumptionToken argument is invalid or expired.</error></OAI-PMH>'
    )
    result = cli("ingest", "arxiv-oai", "-", input=reply)
    assert result.returncode == 2
    assert "OAI-PMH error badResumptionToken" in result.stderr.decode()


def test_standard_input_and_missing_file(cli, tmp_path):
    result = cli("ingest", "jsonl", "-", input=(FIXTURES / "seed-papers.jsonl").read_bytes())
    assert result.returncode == 0 and "45 new" in result.stdout.decode()
    missing = cli("ingest", "jsonl", str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr.decode()


def test_file_ending_with_a_token_says_how_to_continue(cli):
    result = cli(
        "ingest",
        "arxiv-oai",
        str(FIXTURES / "arxiv_oai_pmh/listrecords_oai_dc_cs_2024-01-27_with_resumptionToken.xml"),
    )
    assert result.returncode == 0
    assert "--resume '6960524|1001'" in result.stderr.decode()
