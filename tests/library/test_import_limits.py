"""Importing a file built to cost the server: a flood of BibTeX blocks on one line is refused
before bibtexparser reads it, bibtexparser writes nothing to the log per block, and refusals for
size or number of entries use up the import allowance, so that they cannot be sent again and
again. A wrong file (empty, binary) is still the reader's slip and is not counted."""

from __future__ import annotations

import json
import logging
import time

import bibtexparser
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from paperroute import logs
from paperroute.community.errors import InvalidInput, RateLimited
from paperroute.library import importing
from paperroute.library.importing import formats
from tests.library.test_imports import saved_keys

# What the security reviewer uploaded: 300 KB, 100,000 blocks and not one newline.
FLOOD = b"@a{" * 100_000
TOO_MANY = "more than 5,000 entries"


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client


@pytest.fixture
def splitter_calls(monkeypatch) -> list[int]:
    """Each call of bibtexparser.parse_string, by the length of the text it was given."""
    calls: list[int] = []
    real = bibtexparser.parse_string

    def counted(text: str, *args, **kwargs):
        calls.append(len(text))
        return real(text, *args, **kwargs)

    monkeypatch.setattr(formats.bibtexparser, "parse_string", counted)
    return calls


def bibtexparser_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.split(".")[0] == "bibtexparser"]


@pytest.mark.parametrize(
    "flood",
    [
        FLOOD,
        b"@misc{" * 10_001,
        b"@misc{a, title={x}}\n" + b"see @Article ( " * 10_001,  # only one starts a line
        b"@comment{x}\n" + b"x @ {" * 10_001,  # the splitter opens a block at "@ {" too
    ],
)
def test_a_flood_of_blocks_is_refused_in_words_before_it_is_parsed(reader, splitter_calls, flood):
    started = time.process_time()
    with pytest.raises(InvalidInput, match=TOO_MANY):
        importing.run(reader, flood, filename="flood.bib")
    assert splitter_calls == []
    assert time.process_time() - started < 1  # 2.5 s of CPU when bibtexparser read it


def test_a_real_bibliography_still_reads(papers, reader, splitter_calls):
    bib = "@misc{a, eprint={1706.03762}, archivePrefix={arXiv}, note={mail me at x@example.org}}\n"
    report = importing.run(reader, bib, filename="refs.bib")
    assert len(splitter_calls) == 1 and saved_keys(reader) == ["1706.03762"]
    assert report.skipped == []


def test_the_flood_upload_is_a_400_that_says_why_and_logs_nothing_per_block(reader_client, caplog):
    # caplog's handler is on the root logger, under the site's own logging configuration.
    response = reader_client.post("/library/import", {"file": SimpleUploadedFile("flood.bib", FLOOD)})
    page = response.content.decode()
    assert response.status_code == 400 and "This BibTeX file has more than 5,000 entries" in page
    assert bibtexparser_records(caplog) == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == ["Bad Request: /library/import"]  # Django's one line for the 400


# Thirty blocks the splitter aborts ("@a{" before the next "@"), then one good entry.
MALFORMED = "@a{" * 30 + "\n@misc{ok, eprint={1706.03762}, archivePrefix={arXiv}}\n"


def test_malformed_blocks_are_reported_to_the_reader_not_logged(papers, reader, caplog):
    report = importing.run(reader, MALFORMED, filename="refs.bib")
    assert bibtexparser_records(caplog) == []
    assert saved_keys(reader) == ["1706.03762"]
    assert len(report.skipped) == 30
    assert all(s.message.startswith("this entry is malformed and was skipped") for s in report.skipped)
    assert "(30 parts could not be read)" in report.summary


def test_bibtexparser_does_warn_per_block_where_paperroute_does_not_quiet_it(papers, reader, caplog):
    # The test above means something: this file makes bibtexparser warn once per block.
    caplog.set_level(logging.WARNING, logger="bibtexparser")
    importing.run(reader, MALFORMED, filename="refs.bib")
    assert len([r for r in bibtexparser_records(caplog) if r.levelno == logging.WARNING]) == 30


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_the_logging_config_quiets_bibtexparser_below_errors(fmt):
    assert logs.config("DEBUG", fmt)["loggers"]["bibtexparser"]["level"] == "ERROR"
    assert logs.config("CRITICAL", fmt)["loggers"]["bibtexparser"]["level"] == "CRITICAL"
    assert logging.getLogger("bibtexparser.splitter").getEffectiveLevel() == logging.ERROR  # as run


# -- the allowance -------------------------------------------------------------------------------


def test_repeating_the_flood_upload_uses_up_the_allowance(reader_client, settings):
    settings.CONFIG = settings.CONFIG.replace(rate_imports="2/day")
    for _ in range(3):
        wrong = reader_client.post("/library/import", {"file": SimpleUploadedFile("x.pdf", b"%PDF-1.7")})
        assert wrong.status_code == 400  # a wrong file is not counted
    for _ in range(2):
        response = reader_client.post("/library/import", {"file": SimpleUploadedFile("flood.bib", FLOOD)})
        assert response.status_code == 400 and TOO_MANY in response.content.decode()
    limited = reader_client.post("/library/import", {"file": SimpleUploadedFile("flood.bib", FLOOD)})
    assert limited.status_code == 429 and "Too many imports" in limited.content.decode()
    assert int(limited["Retry-After"]) > 0


OVER_LIMITS = {
    "larger than 5 MB": (b"%" * (importing.MAX_BYTES + 1), "big.bib"),
    "that is more than 5 MB": ("%" * (importing.MAX_BYTES + 1), ""),
    TOO_MANY: (FLOOD, "flood.bib"),
    "far more fields": ("@misc{a,\n" + "x = {y},\n" * 300_000 + "}", "fields.bib"),
    "this list has " + TOO_MANY: ("\n".join(f"2401.{n:05d}" for n in range(1, 5002)), ""),
    "this RIS file has " + TOO_MANY: ("TY  - JOUR\nER  - \n" * 5001, "refs.ris"),
    "this CSL-JSON has " + TOO_MANY: (json.dumps([{"title": "x"}] * 5001), "refs.json"),
}


# Read through in vain: a whole bibliography parsed, nothing in it usable.
READ_IN_VAIN = {
    "no entry that could be read was found in this BibTeX": ("@misc{a,\n note = {x}\n}\n" * 2000, "x.bib"),
    "no entry that could be read was found in this RIS": ("TY  - JOUR\nN1  - x\nER  - \n" * 2000, "x.ris"),
}


@pytest.mark.parametrize("message", [*OVER_LIMITS, *READ_IN_VAIN])
def test_a_refusal_for_size_or_entries_is_counted(reader, settings, message):
    data, filename = OVER_LIMITS.get(message) or READ_IN_VAIN[message]
    settings.CONFIG = settings.CONFIG.replace(rate_imports="2/day")
    for _ in range(3):
        with pytest.raises(InvalidInput, match="the file is empty"):
            importing.run(reader, b"", filename="empty.bib")  # not counted
    for _ in range(2):
        with pytest.raises(InvalidInput, match=message):
            importing.run(reader, data, filename=filename)
    with pytest.raises(RateLimited, match="too many imports"):
        importing.run(reader, data, filename=filename)
    with pytest.raises(RateLimited, match="too many imports"):
        importing.run(reader, "1706.03762")
