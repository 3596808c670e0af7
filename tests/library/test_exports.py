"""Exporting a collection as BibTeX and CSL-JSON, and importing both back to the same papers."""

from __future__ import annotations

import json

import bibtexparser
import pytest

from paperroute.catalog.models import Paper
from paperroute.library import exports, importing, shelf
from tests.community.helpers import HOSTILE, add_paper, user
from tests.library.test_imports import catalogue

pytestmark = pytest.mark.django_db


@pytest.fixture
def collection():
    """Every paper of the test catalogue, and one whose cite key clashes, in a reader's collection."""
    papers = list(catalogue().values())
    papers.append(
        add_paper(
            "2411.00001",
            "Attention heads in small models: a survey & a $\\alpha$ test",
            authors=("Ashish Vaswani", "Ana Mu\\~noz", "Ludwig van Beethoven"),
        )
    )
    owner = user("owner")
    found = shelf.create_collection(owner, f"Everything {HOSTILE}")
    for paper in sorted(papers, key=lambda p: p.title):
        shelf.add(owner, paper, found)
    return found


def keys_of(collection) -> list[str]:
    return [item.paper.key for item in shelf.items(collection)]


def test_bibtex_has_one_entry_per_paper_with_unique_keys(collection):
    text = exports.bibtex(collection)
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks and HOSTILE not in text
    assert len(library.entries) == Paper.objects.count()
    cite_keys = [entry.key for entry in library.entries]
    assert len(set(cite_keys)) == len(cite_keys)
    assert {"vaswani2024attention", "vaswani2024attentiona"} <= set(cite_keys)
    by_key = {entry.key: entry for entry in library.entries}
    assert by_key["vaswani2024attention"]["eprint"] == "1706.03762"
    nature = next(e for e in library.entries if e.fields_dict.get("doi"))
    assert nature.entry_type in ("article", "misc")


def test_csl_json_is_an_array_of_csl_items(collection):
    items = json.loads(exports.csl_json(collection))
    assert isinstance(items, list) and len(items) == Paper.objects.count()
    assert len({item["id"] for item in items}) == len(items)
    survey = next(item for item in items if item["title"].startswith("Attention heads"))
    assert survey["type"] == "article" and survey["number"] == "arXiv:2411.00001"
    assert survey["author"] == [
        {"given": "Ashish", "family": "Vaswani"},
        {"given": "Ana", "family": "Muñoz"},
        {"given": "Ludwig", "family": "van Beethoven"},
    ]
    assert survey["issued"] == {"date-parts": [[2024, 11, 26]]}
    assert survey["URL"].startswith("https://arxiv.org/abs/")
    nature = next(item for item in items if item.get("DOI") == "10.1038/nature14539")
    assert nature["type"] == "article-journal" and nature["container-title"].startswith("Nature")


def test_csl_json_reads_names_written_surname_first():
    """Sources that keep "Last, First" (JSON Lines) gave Zotero given 'Muñoz,' and family 'Ana'."""
    reader = user("reader")
    paper = add_paper("2411.00602", "Drafts", authors=("Mu\\~noz, Ana", "van der Berg, Jan", "King, Jr."))
    shelf.add(reader, paper)
    item = json.loads(exports.csl_json(shelf.saved_collection(reader)))[0]
    assert item["author"][:2] == [
        {"given": "Ana", "family": "Muñoz"},
        {"given": "Jan", "family": "van der Berg"},
    ]
    assert item["author"][2] != {"given": "Jr.", "family": "King"}


def test_an_empty_collection_exports_empty_files():
    empty = shelf.create_collection(user("owner"), "Nothing yet")
    assert exports.bibtex(empty) == ""
    assert json.loads(exports.csl_json(empty)) == []


@pytest.mark.parametrize(
    "export, filename", [(exports.bibtex, "collection.bib"), (exports.csl_json, "collection.json")]
)
def test_an_export_imported_again_gives_the_same_papers(collection, export, filename):
    reader = user("fresh-reader")
    target = shelf.create_collection(reader, "Imported")
    report = importing.run(reader, export(collection).encode(), filename=filename, collection=target)
    assert not report.unmatched and not report.skipped
    assert keys_of(target) == keys_of(collection)
    # The arXiv papers by id, the DOI one by DOI, the one with neither by its title.
    assert {m.paper.key: m.by for m in report.matched}["seed:flowar"] == "title"
    assert {m.paper.key: m.by for m in report.matched}["doi:10.1038/nature14539"] == "DOI"


def test_a_group_author_stays_whole_and_no_author_is_invented():
    """ "NOvA Collaboration" became given name "NOvA", surname "Collaboration" in CSL-JSON and two
    names to BibTeX; a paper without authors was "Anonymous"'s."""
    reader = user("reader")
    group = add_paper(
        "2403.07266", "Search for slow monopoles", authors=("The NOvA Collaboration", "Ada Lovelace")
    )
    nobody = add_paper("seed:0123456789abcdef", "A seed with no byline", authors=())
    shelf.add(reader, group)
    shelf.add(reader, nobody)
    entries = {
        e.fields_dict["title"].value: e
        for e in bibtexparser.parse_string(exports.bibtex(shelf.saved_collection(reader))).entries
    }
    monopoles = entries["{Search for slow monopoles}"]
    assert monopoles["author"] == "{The NOvA Collaboration} and Ada Lovelace"
    assert monopoles.key == "nova2024search"
    assert "author" not in entries["{A seed with no byline}"].fields_dict
    items = {item["title"]: item for item in json.loads(exports.csl_json(shelf.saved_collection(reader)))}
    assert items["Search for slow monopoles"]["author"][0] == {"literal": "The NOvA Collaboration"}
    assert "author" not in items["A seed with no byline"]
