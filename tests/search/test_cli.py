"""`paperroute search`, `related` and `index` as a user runs them, against the test database."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT
from tests.search.conftest import SEEDS
from tests.search.test_seeds import SPECULATIVE

API_PAGE = FIXTURES / "arxiv_atom_api" / "query_newapi_cs.AI-LG-CL_2026-08-02_25entries.xml"

pytestmark = pytest.mark.slow
EMBED = {"PAPERROUTE_EMBED_ON_INGEST": "true"}


def search_json(cli, *args) -> dict:
    result = cli("search", *args, "--json")
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


def test_ingest_indexes_and_embeds_so_search_works_at_once(cli):
    ingest = cli("ingest", "jsonl", str(SEEDS), env=EMBED)
    assert ingest.returncode == 0
    assert ingest.stdout.decode().strip() == "jsonl: 45 records: 45 new, 0 updated, 0 unchanged, 0 skipped"
    assert "search index rebuilt: 45 papers; 45 indexed" in ingest.stderr.decode()

    found = search_json(cli, "guess several tokens and verify them to speed up decoding", "--limit", "3")
    assert found["mode"] == "hybrid" and len(found["hits"]) == 3
    assert {h["title"] for h in found["hits"]} & SPECULATIVE
    hit = found["hits"][0]
    assert set(hit) >= {"id", "date", "title", "snippet", "highlights", "title_highlights", "score"}

    text = cli("search", "attention", "sinks", "--mode", "lexical", "--limit", "2").stdout.decode()
    assert "Efficient Streaming Language Models with Attention Sinks" in text.splitlines()[1]

    related = json.loads(cli("related", hit["id"], "--limit", "2", "--json").stdout)
    assert len(related) == 2 and hit["id"] not in [r["id"] for r in related]


def test_ingest_without_embedding_leaves_semantic_for_the_next_sync(cli):
    # Papers the demo's shipped vectors do not cover, so that they really wait for the model.
    ingest = cli("ingest", "arxiv-api", str(API_PAGE), "--no-embed")
    assert ingest.returncode == 0
    # A couple of them are also in the demo's Hugging Face sample, whose shipped vectors count.
    shipped, waiting = map(
        int, re.search(r"(\d+) vectors loaded, (\d+) waiting to be embedded", ingest.stderr.decode()).groups()
    )
    assert shipped + waiting == 25 and waiting >= 20
    semantic = search_json(cli, "language models", "--mode", "semantic")
    assert f"{waiting} papers are not embedded yet" in semantic["message"]
    assert search_json(cli, "language models", "--mode", "lexical")["hits"]

    sync = cli("index", "sync", "--quiet")
    assert sync.returncode == 0 and f"{waiting} embedded" in sync.stderr.decode()
    assert search_json(cli, "language models", "--mode", "semantic")["message"] == ""


def test_bad_input_gets_a_clear_message(cli):
    cli("ingest", "jsonl", str(SEEDS), "--no-embed")
    bad_date = cli("search", "tokens", "--since", "last week")
    assert bad_date.returncode == 2 and b"expected a date as YYYY-MM-DD" in bad_date.stderr
    unknown = cli("related", "2401.99999")
    assert unknown.returncode == 2 and b"no paper with the id '2401.99999'" in unknown.stderr
    odd = cli("search", '"unclosed (AND * : -', "--mode", "lexical")
    assert odd.returncode == 0 and b"Traceback" not in odd.stderr
    assert b"ignored the unmatched quote" in odd.stdout


def test_concurrent_rebuilds_and_searches_leave_a_working_index(cli, cli_env):
    cli("ingest", "jsonl", str(SEEDS), "--no-embed")
    command = [sys.executable, "-m", "paperroute"]
    # Two writers and a reader at once: the lock makes the writers take turns, and the reader
    # sees either generation, never a half-written one.
    procs = [
        subprocess.Popen(
            [*command, *args], cwd=ROOT, env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for args in (
            ["index", "rebuild", "--quiet"],
            ["index", "rebuild", "--quiet"],
            ["search", "attention sinks", "--json"],
        )
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [o[1] for o in outputs]
    assert json.loads(outputs[2][0])["hits"]
    assert search_json(cli, "attention sinks", "--mode", "lexical")["hits"][0]["title"].startswith(
        "Efficient Streaming"
    )
    generations = list((Path(cli_env["PAPERROUTE_DATA_DIR"]) / "search").glob("gen-*"))
    assert len(generations) <= 2


def test_output_cut_short_by_the_reader_ends_quietly(cli, cli_env):
    """`paperroute search … | head -1`: the reader of the output goes away after one line; the
    command stops as `yes | head` does, without a traceback on the terminal."""
    assert cli("ingest", "jsonl", str(SEEDS), "--no-embed").returncode == 0
    for args in (["export"], ["search", "model", "--mode", "lexical", "--limit", "40", "--json"]):
        command = subprocess.Popen(
            [sys.executable, "-m", "paperroute", *args],
            cwd=ROOT,
            env=cli_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        command.stdout.readline()
        command.stdout.close()  # as head does after its line
        _, errors = command.communicate(timeout=120)
        # export writes more than a pipe holds, so it meets the closed pipe; a short answer may not.
        assert command.returncode == 141 if args == ["export"] else command.returncode in (0, 141), errors

        assert b"Traceback" not in errors and b"BrokenPipeError" not in errors, errors.decode()


def test_themes_of_a_period_without_any_say_so(cli):
    shown = cli("themes", "--show", "2026-11-30")
    assert shown.returncode == 0 and shown.stdout == b""
    assert "none for 2026-11-30" in shown.stderr.decode()
