"""Hostile input to the importers: bombs, endless nesting, unclosed records, NUL bytes, bad links.

Each costs only itself: the importer stays within memory and linear time, reports what it
skipped or dropped, and stores everything else, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
import zlib

import pytest
from django.db import connection

from paperroute.catalog.ingest import Importer
from paperroute.catalog.models import Paper
from paperroute.catalog.records import HFInfo, PaperRecord, RecordError, UnusableInput
from paperroute.catalog.sources import arxiv_oai, hf_daily, jsonl
from paperroute.catalog.sources.fetch import PoliteClient, TooLarge, gunzip
from tests.conftest import FIXTURES, ROOT, fixture_bytes
from tests.replay import ReplayServer, Reply

HEPTH = "arxiv_oai_pmh/listrecords_arXiv_hep-th_no_token.xml"


def _bomb(path, gib: int = 1) -> None:
    """A gzip file of about 1 MB that unpacks to `gib` GiB of zeros."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(path, "wb") as handle:
        for _ in range(gib * 64):
            handle.write(packer.compress(bytes(1 << 24)))
        handle.write(packer.flush())


@pytest.mark.slow
def test_a_gzip_bomb_is_refused_within_bounded_memory(cli_env, tmp_path):
    bomb = tmp_path / "bomb.jsonl.gz"
    _bomb(bomb)
    assert bomb.stat().st_size < 1_100_000
    # The peak memory of the ingest alone: measured by a small Python parent, because a child
    # forked from this (large) test process would inherit its high-water mark.
    measure = (
        "import resource, subprocess, sys; "
        "done = subprocess.run(sys.argv[1:], capture_output=True); "
        "sys.stderr.buffer.write(done.stderr); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(done.returncode)"
    )
    process = subprocess.run(
        [sys.executable, "-c", measure, sys.executable, "-m", "paperroute", "ingest", "jsonl", str(bomb)],
        cwd=ROOT,
        env=cli_env,
        capture_output=True,
        timeout=120,
    )
    stderr = process.stderr.decode()
    peak_mb = int(process.stdout) / 1024  # ru_maxrss is in KiB on Linux
    assert process.returncode == 2, stderr
    assert "larger than 256 MB (once decompressed)" in stderr
    assert "PAPERROUTE_MAX_INPUT_MB" in stderr and "Traceback" not in stderr
    assert peak_mb < 500, f"peak RSS {peak_mb:.0f} MB"
    print(f"\n1 GiB gzip bomb ({bomb.stat().st_size} bytes): exit 2, peak RSS {peak_mb:.0f} MB")


def test_the_limit_is_a_setting_and_applies_to_plain_files_too(cli, tmp_path):
    big = tmp_path / "big.jsonl"
    line = json.dumps({"title": "A paper", "abstract": "x" * 1000}) + "\n"
    big.write_text(line * 1200)  # about 1.2 MB
    result = cli("ingest", "jsonl", str(big), env={"PAPERROUTE_MAX_INPUT_MB": "1"})
    assert result.returncode == 2
    assert "larger than 1 MB" in result.stderr.decode()
    assert Paper.objects.count() == 0
    assert cli("ingest", "jsonl", str(big), env={"PAPERROUTE_MAX_INPUT_MB": "2"}).returncode == 0


def test_a_bomb_from_the_network_is_refused_too():
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    body = packer.compress(bytes(64 << 20)) + packer.flush()
    with ReplayServer(lambda path, params: Reply(body, content_type="application/json")) as server:
        client = PoliteClient(delay=0, timeout=10, retries=0, max_bytes=16 << 20)
        with pytest.raises(TooLarge, match="larger than 16 MB"):
            client.get(server.url + "/api/daily_papers")


def test_gzip_members_and_truncation():
    data = b"a" * 3_000_000
    assert gunzip(gzip.compress(data) + gzip.compress(b"bc")) == data + b"bc"
    with pytest.raises(Exception, match="broken gzip data"):
        gunzip(gzip.compress(data)[:-20])


def _parse_seconds(count: int) -> float:
    data = fixture_bytes(HEPTH)
    start = data.index(b"<record>")
    hostile = data[:start] + b"<record>" * count + data[start:]
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        page = arxiv_oai.parse(hostile)
        best = min(best, time.perf_counter() - began)
    records = [i for i in page.items if isinstance(i, PaperRecord)]
    errors = [i for i in page.items if isinstance(i, RecordError)]
    assert len(records) == 3 and len(errors) == count
    assert errors[0].reason == "broken XML: the <record> element is never closed"
    return best


def test_unclosed_records_cost_linear_time():
    # 40,000 unclosed <record> tags (320 KB) took 157 s when each one scanned to the end of the
    # document. Linear time means four times the input takes about four times as long; quadratic
    # would take sixteen.
    small, large = _parse_seconds(10_000), _parse_seconds(40_000)
    assert large < 8 * small + 0.05, (small, large)
    assert large < 10, large


@pytest.mark.slow
def test_unclosed_records_are_reported_and_the_good_ones_stored(cli, tmp_path):
    data = fixture_bytes(HEPTH)
    start = data.index(b"<record>")
    path = tmp_path / "hostile.xml"
    path.write_bytes(data[:start] + b"<record>" * 40_000 + data[start:])
    result = cli("ingest", "arxiv-oai", str(path), "--quiet")
    assert result.returncode == 1, result.stderr
    assert "3 new, 0 updated, 0 unchanged, 40000 skipped" in result.stdout.decode()
    assert Paper.objects.count() == 3


def test_a_line_nested_100000_deep_is_skipped_and_the_rest_stored(cli, tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_bytes(
        b'{"title": "Before the bomb"}\n' + b"[" * 100_000 + b"\n" + b'{"title": "After the bomb"}\n'
    )
    result = cli("ingest", "jsonl", str(path))
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert "skipped line 2: invalid JSON: nested too deeply" in stderr and "Traceback" not in stderr
    assert sorted(Paper.objects.values_list("title", flat=True)) == ["After the bomb", "Before the bomb"]


def test_a_daily_papers_response_nested_too_deeply_is_unusable():
    with pytest.raises(Exception, match="nested too deeply"):
        hf_daily.parse(b"[" * 100_000)


def _record(key: str, title: str, **changes) -> PaperRecord:
    record = PaperRecord(
        source="jsonl",
        position=f"line {key}",
        title=title,
        arxiv_id=key,
        abstract=f"An abstract for {title}.",
        authors=["Ada Lovelace"],
        categories=["cs.CL"],
    )
    for name, value in changes.items():
        setattr(record, name, value)
    return record


@pytest.mark.django_db(transaction=True)
def test_a_nul_byte_costs_only_its_own_record():
    # On PostgreSQL one NUL used to roll back the whole batch: 0 of the 3 good papers were stored.
    records = [
        _record("2411.00001", "First good paper"),
        _record("2411.00002", "A title with a NUL \x00 inside"),
        _record("2411.00003", "Second good paper"),
        _record("2411.00004", "Third good paper", authors=["Eve \x00 Null"]),
    ]
    summary = Importer("jsonl").store(records)
    assert summary.new == 2 and [s.position for s in summary.skipped] == [
        "line 2411.00002",
        "line 2411.00004",
    ]
    assert all(s.reason == "holds a NUL character" for s in summary.skipped)
    records.append(_record("2411.00005", "Fourth good paper"))
    assert Importer("jsonl").store(records[-1:]).new == 1
    assert Paper.objects.count() == 3


@pytest.fixture
def poisoned_titles():
    """A trigger that makes the database itself refuse one title, whatever validation allowed."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "CREATE TRIGGER poison BEFORE INSERT ON catalog_paper "
                "WHEN NEW.title = 'Poisoned' BEGIN SELECT RAISE(ABORT, 'poisoned'); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN "
                "IF NEW.title = 'Poisoned' THEN RAISE EXCEPTION 'poisoned'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER poison BEFORE INSERT ON catalog_paper FOR EACH ROW EXECUTE FUNCTION poison()"
            )
    yield
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER poison")
        else:
            cursor.execute("DROP TRIGGER poison ON catalog_paper")
            cursor.execute("DROP FUNCTION poison()")


@pytest.mark.django_db(transaction=True)
def test_a_record_the_database_refuses_costs_only_itself(poisoned_titles):
    records = [_record(f"2411.0010{i}", "Poisoned" if i == 2 else f"Good paper {i}") for i in range(5)]
    summary = Importer("jsonl").store(records)
    assert summary.new == 4 and len(summary.skipped) == 1, summary
    (refused,) = summary.skipped
    assert refused.position == "line 2411.00102" and "the database refused it" in refused.reason
    assert "poisoned" in refused.reason
    assert Paper.objects.count() == 4


HOSTILE_LINKS = [
    "javascript:alert(document.domain)//github.com/x/y",
    "data:text/html,<script>alert(1)</script>",
    " JavaScript:alert(1)",
    "java\tscript:alert(1)",
    "vbscript:msgbox(1)",
    "https://",
]


@pytest.mark.django_db
@pytest.mark.parametrize("link", HOSTILE_LINKS)
def test_a_hostile_github_repo_is_dropped_and_reported(link):
    entries = json.loads((FIXTURES / "hf_daily_papers/daily_papers_2026-07-31_30entries.json").read_bytes())
    entries[0]["paper"]["githubRepo"] = link
    entries[1]["paper"]["projectPage"] = link
    summary = Importer("hf-daily").store(hf_daily.parse(json.dumps(entries).encode()).items)
    assert summary.new == 30 and not summary.skipped
    assert [d.position for d in summary.dropped] == [
        f"entry 1 ({entries[0]['paper']['id']})",
        f"entry 2 ({entries[1]['paper']['id']})",
    ]
    assert "dropped the code and GitHub repository link" in summary.dropped[0].reason
    assert "dropped the project page link" in summary.dropped[1].reason
    assert summary.line().endswith("30 new, 0 updated, 0 unchanged, 0 skipped, 2 links dropped")
    first = Paper.objects.get(key=entries[0]["paper"]["id"])
    # The code link falls back to one found in the abstract, as for any paper without a repo.
    assert first.github_repo == "" and first.code_link.startswith("https://github.com/")
    assert Paper.objects.get(key=entries[1]["paper"]["id"]).project_url == ""


def test_a_hostile_link_in_jsonl_is_dropped_by_the_command_with_exit_1(cli, tmp_path):
    path = tmp_path / "links.jsonl"
    lines = [
        {
            "id": "2411.00201",
            "title": "Hostile links",
            "links": {"code": "data:text/html,x", "project": "https://example.org/ok"},
            "hf": {"github_repo": "javascript:alert(document.domain)//github.com/x/y"},
        },
        {"id": "2411.00202", "title": "Honest links", "hf": {"github_repo": "https://github.com/x/y"}},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = cli("ingest", "jsonl", str(path))
    assert result.returncode == 1
    assert "2 new, 0 updated, 0 unchanged, 0 skipped, 2 links dropped" in result.stdout.decode()
    stderr = result.stderr.decode()
    assert "line 1: dropped the code link 'data:text/html,x': not an http(s) URL" in stderr
    assert "line 1: dropped the GitHub repository link 'javascript:alert" in stderr
    hostile = Paper.objects.get(key="2411.00201")
    assert (hostile.code_url, hostile.github_repo, hostile.project_url) == ("", "", "https://example.org/ok")
    assert Paper.objects.get(key="2411.00202").code_link == "https://github.com/x/y"


def test_a_file_of_nothing_but_nesting_is_unusable_input():
    with pytest.raises(UnusableInput, match="nested too deeply"):
        jsonl.parse(b"[" * 5000 + b"\n")


def test_hf_info_counts_out_of_range_are_skipped():
    record = _record("2411.00301", "Huge stars")
    record.hf = HFInfo(github_stars=10**12)
    from paperroute.catalog.validate import validate

    assert validate(record) == "implausible GitHub stars: 1000000000000"
