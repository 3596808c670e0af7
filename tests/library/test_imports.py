"""Importing a library: the four formats read from hand-written exports (tests/fixtures/library),
matched to a small catalogue by arXiv id, DOI and title, put in a collection, and what is not
found fetched from (a replay of) arXiv. Bad input is refused with words, never half-imported."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from paperroute.catalog.ingest import Importer
from paperroute.catalog.models import Paper
from paperroute.catalog.records import PaperRecord
from paperroute.community.errors import InvalidInput, NotAllowed, RateLimited
from paperroute.library import importing, shelf
from paperroute.library.importing.report import ADDED, ALREADY, FAILED, NOT_TRIED, REPEATED
from tests.community.arxiv_replay import respond
from tests.community.helpers import user
from tests.conftest import FIXTURES
from tests.replay import ReplayServer

LIBRARY = FIXTURES / "library"
TODAY = date(2026, 11, 28)

# The test catalogue: real papers, one of them known only by its DOI and one only by its title.
PAPERS = [
    ("1706.03762", "Attention Is All You Need", "", ("Ashish Vaswani", "Noam Shazeer")),
    (
        "1810.04805",
        "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
        "10.18653/v1/N19-1423",
        ("Jacob Devlin", "Ming-Wei Chang"),
    ),
    ("2106.09685", "LoRA: Low-Rank Adaptation of Large Language Models", "", ("Edward J. Hu",)),
    ("2005.14165", "Language Models are Few-Shot Learners", "", ("Tom B. Brown", "Benjamin Mann")),
    ("", "Deep learning", "10.1038/nature14539", ("Yann LeCun", "Yoshua Bengio", "Geoffrey Hinton")),
    (
        "",
        "FlowAR: Scale-wise Autoregressive Image Generation Meets Flow Matching",
        "",
        ("Sucheng Ren", "Qihang Yu"),
    ),
]


def catalogue() -> dict[str, Paper]:
    """Store the test catalogue; its papers by title."""
    published = datetime(2024, 11, 26, 18, tzinfo=UTC)
    records = [
        PaperRecord(
            source="jsonl",
            position=str(n),
            title=title,
            arxiv_id=arxiv_id,
            doi=doi,
            key="" if arxiv_id or doi else "seed:flowar",
            authors=list(authors),
            abstract=f"The abstract of {title}.",
            categories=["cs.LG"],
            published=published,
            version=1,
            versions={1: published},
            journal_ref="Nature 521, 436-444 (2015)" if doi.startswith("10.1038") else "",
            abs_url=f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else "",
        )
        for n, (arxiv_id, title, doi, authors) in enumerate(PAPERS)
    ]
    summary = Importer("jsonl").store(records)
    assert not summary.skipped, summary.skipped
    return {p.title: p for p in Paper.objects.all()}


def fixture(name: str) -> bytes:
    return (LIBRARY / name).read_bytes()


def outcome(report) -> dict:
    """Each entry by position: the paper's key and how it matched, or why it did not."""
    found = {m.entry.position: (m.paper.key, m.by) for m in report.matched}
    found.update({u.entry.position: u.reason for u in report.unmatched})
    found.update({s.position: "skipped" for s in report.skipped})
    return found


def saved_keys(user) -> list[str]:
    return [item.paper.key for item in shelf.items(shelf.saved_collection(user))]


# -- the four formats --------------------------------------------------------------------------


def test_a_zotero_bibtex_file(papers, reader):
    report = importing.run(reader, fixture("zotero.bib"), filename="zotero.bib")
    found = outcome(report)
    assert found["entry 1 (line 2)"] == ("1706.03762", "arXiv id")
    assert found["entry 2 (line 16)"] == ("1810.04805", "DOI")  # DOI written in another case
    assert found["entry 3 (line 30)"] == ("2106.09685", "title")  # braces and case undone
    assert "arXiv:2006.11239 is not in this site's catalogue" in found["entry 4 (line 38)"]
    assert found["entry 5 (line 49)"].startswith("the title is too short")
    assert found["entry 6 (line 58)"] == "skipped"  # its closing brace is missing
    assert found["entry 7 (line 63)"] == "no paper here has this title"
    assert report.skipped[0].message.startswith("this entry is malformed and was skipped")
    assert saved_keys(reader) == ["1706.03762", "1810.04805", "2106.09685"]
    assert report.fetchable_ids == ["2006.11239"]
    assert report.summary == (
        "Read 6 entries from the BibTeX (1 part could not be read). 3 entries "
        "matched papers here: 3 added to Saved. 3 entries matched nothing here "
        "(1 arXiv id can be fetched from arXiv)."
    )


def test_a_csl_json_file(papers, reader):
    report = importing.run(reader, fixture("zotero-csl.json"), filename="zotero-csl.json")
    assert outcome(report) == {
        "item 1": ("2005.14165", "arXiv id"),
        "item 2": ("doi:10.1038/nature14539", "DOI"),
        "item 3": ("1706.03762", "title"),
        "item 4": "arXiv:1412.6980 is not in this site's catalogue yet; it can be fetched from arXiv",
        "item 5": "no paper here has this DOI or this title",
        "item 6": "skipped",
        "item 7": "skipped",
    }
    assert [s.message for s in report.skipped] == [
        "this item is not a reference (not a JSON object)",
        "this item has no title, DOI or arXiv id to match and was skipped",
    ]
    assert saved_keys(reader) == ["2005.14165", "doi:10.1038/nature14539", "1706.03762"]


def test_a_mendeley_ris_file(papers, reader):
    report = importing.run(reader, fixture("mendeley.ris"), filename="mendeley.ris")
    found = outcome(report)
    assert found["record 1 (line 1)"] == ("1810.04805", "DOI")
    assert found["record 2 (line 15)"] == ("2106.09685", "arXiv id")  # from the link, v2 dropped
    assert found["record 3 (line 25)"] == ("2005.14165", "title")
    assert "arXiv:1512.03385" in found["record 4 (line 32)"]
    assert found["record 5 (line 42)"] == "skipped"
    assert found["record 6 (line 47)"] == "no paper here has this title"
    assert report.matched[0].entry.authors[0] == "Jacob Devlin"
    assert saved_keys(reader) == ["1810.04805", "2106.09685", "2005.14165"]


def test_a_list_of_ids_and_links(papers, reader):
    report = importing.run(reader, fixture("reading-list.txt").decode())
    assert report.format_name == "list of arXiv ids"
    assert [m.paper.key for m in report.matched] == ["1706.03762", "2106.09685", "2005.14165", "1810.04805"]
    assert report.fetchable_ids == ["2006.11239", "1412.6980"]
    # Prose, and an id with an impossible month, are reported; the repeated id is read once.
    assert [(s.position, s.text) for s in report.skipped] == [
        ("line 7", "see also the survey on the whiteboard"),
        ("line 9", "2313.00001"),
    ]


def test_a_list_of_hugging_face_links_is_a_list_of_ids(papers, reader):
    # What a reader copies from Hugging Face's papers pages, as a Markdown list.
    report = importing.run(
        reader,
        "- [Attention](https://huggingface.co/papers/1706.03762)\n"
        "- https://hf.co/papers/2106.09685v2\n"
        "- https://arxiv.org/html/2005.14165v4\n",
    )
    assert report.format_name == "list of arXiv ids"
    assert [m.paper.key for m in report.matched] == ["1706.03762", "2106.09685", "2005.14165"]
    assert not report.skipped


# -- into the library ----------------------------------------------------------------------------


def test_importing_again_changes_nothing_and_keeps_the_order(papers, reader):
    shelf.add(reader, Paper.objects.get(key="2005.14165"))
    first = importing.run(reader, fixture("reading-list.txt"), filename="list.txt")
    assert [m.status for m in first.matched] == [ADDED, ADDED, ALREADY, ADDED]
    again = importing.run(reader, fixture("reading-list.txt"), filename="list.txt")
    assert {m.status for m in again.matched} == {ALREADY} and again.added == 0
    assert "nothing new: all were already in Saved" in again.summary
    assert saved_keys(reader) == ["2005.14165", "1706.03762", "2106.09685", "1810.04805"]


def test_an_entry_repeated_in_the_file_is_added_once(papers, reader):
    report = importing.run(
        reader,
        "1706.03762\n\n% twice under another spelling\narXiv:1706.03762v7\nhttps://arxiv.org/abs/2106.09685",
    )
    assert len(report.matched) == 2  # the list reader keeps one entry per id
    bib = (
        "@misc{a, eprint={1706.03762}, archivePrefix={arXiv}}\n@misc{b, title={Attention is all you need}}\n"
    )
    report = importing.run(reader, bib, collection=shelf.create_collection(reader, "Twice"))
    assert [m.status for m in report.matched] == [ADDED, REPEATED]


def test_into_a_collection_of_ones_own_only(papers, reader):
    mine = shelf.create_collection(reader, "Reading group")
    report = importing.run(reader, "1706.03762", collection=mine)
    assert report.collection == mine and [i.paper.key for i in shelf.items(mine)] == ["1706.03762"]
    assert saved_keys(reader) == []
    with pytest.raises(NotAllowed):
        importing.run(user("mallory"), "2106.09685", collection=mine)


def test_a_full_collection_takes_what_fits(papers, reader, monkeypatch):
    monkeypatch.setattr(shelf, "MAX_ITEMS", 2)
    report = importing.run(reader, fixture("reading-list.txt"))
    assert [m.status for m in report.matched] == [ADDED, ADDED, "full", "full"]
    assert "2 not added because a collection holds at most 2 papers" in report.summary


def test_imports_are_rate_limited_but_a_wrong_file_is_not_counted(papers, reader, settings):
    settings.CONFIG = settings.CONFIG.replace(rate_imports="2/day")
    for _ in range(3):
        with pytest.raises(InvalidInput):
            importing.run(reader, b"", filename="empty.bib")
    importing.run(reader, "1706.03762")
    importing.run(reader, "1706.03762")
    with pytest.raises(RateLimited, match="too many imports"):
        importing.run(reader, "1706.03762")


def test_matching_does_not_trust_a_bare_number_or_a_short_title(papers, reader):
    csl = json.dumps(
        [
            {"title": "Attention", "number": "1706.03762"},  # no sign it is arXiv's
            {"title": "Attention Is All You Need", "DOI": "10.9999/not-here"},
        ]
    )
    report = importing.run(reader, csl)
    assert outcome(report) == {
        "item 1": "the title is too short to match on its own, and there is no arXiv id or DOI",
        "item 2": ("1706.03762", "title"),
    }


# -- input that cannot be imported ---------------------------------------------------------------


@pytest.mark.parametrize(
    "data, filename, message",
    [
        (b"", "empty.bib", "the file is empty"),
        ("   \n", "", "there is nothing to import"),
        (b"%PDF-1.7\n%binary", "paper.pdf", "this is a PDF document, not a bibliography"),
        (b"PK\x03\x04\x14\x00", "library.docx", "ZIP archive"),
        (b"TI  - x\x00\x00\x00\x01\x02", "x.ris", "not a text file"),
        (b"just some words", "refs.bib", "no BibTeX entries were found in refs.bib"),
        (b'[{"title": "x",]', "refs.json", "not valid JSON"),
        (b'{"name": "x", "id": true}', "refs.json", "no entry that could be read"),
        (b"42", "refs.json", "no CSL-JSON entries were found"),
        (b"[" * 100_000, "deep.json", "not valid JSON"),
        (b"hello\nworld", "list.txt", "no arXiv id or link was found in this list of arXiv ids"),
        (b"@misc{x, title={never closed}", "x.bib", "no entry that could be read"),
        (b"x" * (importing.MAX_BYTES + 1), "big.bib", "larger than 5 MB"),
        ("\n".join(f"2401.{n:05d}" for n in range(1, importing.MAX_ENTRIES + 2)), "", "more than 5,000"),
        ("@misc{a,\n" + "x = {y},\n" * 300_000 + "}", "", "far more fields"),
    ],
)
def test_unusable_input_is_refused_in_words(papers, reader, data, filename, message):
    with pytest.raises(InvalidInput, match=message):
        importing.run(reader, data, filename=filename)
    assert saved_keys(reader) == []


def test_encodings_of_older_exports(papers, reader):
    bib = "@misc{m, title={Attention Is All You Need}, author={M\u00fcller, J\u00fcrgen}}\n"
    for data in (bib.encode("utf-16"), bib.encode("cp1252"), b"\xef\xbb\xbf" + bib.encode()):
        report = importing.run(reader, data, filename="old.bib")
        assert report.matched[0].paper.key == "1706.03762"
        assert report.matched[0].entry.authors == ["J\u00fcrgen M\u00fcller"]
    # Bytes that are no encoding at all are read as the Windows code page, not refused.
    assert importing.run(reader, b"arXiv:2106.09685 \x81\x8d").matched[0].paper.key == "2106.09685"


def test_markdown_links_are_a_list_not_json(papers, reader):
    report = importing.run(reader, "[2106.09685](https://arxiv.org/abs/2106.09685)\n")
    assert report.format_name == "list of arXiv ids" and report.matched[0].by == "arXiv id"


def test_hostile_fields_are_kept_as_text(papers, reader):
    hostile = '<script>alert("x")</script>'
    bib = f"@misc{{key, title={{{hostile} and more words}}, doi={{10.1/{hostile}}}}}\n"
    report = importing.run(reader, bib)
    assert report.unmatched[0].entry.title == f"{hostile} and more words"


# -- fetching what was not found -------------------------------------------------------------


@pytest.fixture
def arxiv(settings):
    with ReplayServer(respond) as server:
        settings.CONFIG = settings.CONFIG.replace(arxiv_api_url=server.url + "/api/query", arxiv_delay=0.0)
        yield server


def test_unmatched_ids_are_fetched_like_submissions(papers, reader, arxiv):
    mine = shelf.create_collection(reader, "To read")
    report = importing.run(reader, "2606.13677\n2606.99999\n1706.03762", collection=mine)
    assert report.fetchable_ids == ["2606.13677", "2606.99999"]
    fetched = importing.fetch_unmatched(reader, report.fetchable_ids + ["nonsense"], mine, today=TODAY)
    assert [(f.arxiv_id, f.status) for f in fetched] == [
        ("nonsense", FAILED),
        ("2606.13677", ADDED),
        ("2606.99999", FAILED),
    ]
    assert "arXiv has no paper with the id 2606.99999" in fetched[2].message
    assert [i.paper.key for i in shelf.items(mine)] == ["1706.03762", "2606.13677"]
    assert Paper.objects.get(key="2606.13677").listed_on == TODAY
    again = importing.fetch_unmatched(reader, ["2606.13677"], mine, today=TODAY)
    assert again[0].status == ALREADY and len(arxiv.requests) == 2


def test_fetching_stops_at_the_submission_limit(papers, reader, arxiv, settings, monkeypatch):
    settings.CONFIG = settings.CONFIG.replace(rate_submissions="1/day")
    monkeypatch.setattr(importing.collect, "MAX_FETCH", 3)
    ids = ["2606.13677", "2606.99998", "2606.99997", "2606.99996"]
    fetched = importing.fetch_unmatched(reader, ids, today=TODAY)
    assert [f.status for f in fetched] == [ADDED, NOT_TRIED, NOT_TRIED, NOT_TRIED]
    assert "too many submissions" in fetched[1].message
    assert "at most 3 papers are fetched at a time" in fetched[3].message
    assert len(arxiv.requests) == 1
    with pytest.raises(NotAllowed):
        importing.fetch_unmatched(reader, ids, shelf.create_collection(user("other"), "Theirs"))
