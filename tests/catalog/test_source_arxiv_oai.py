from datetime import date

import pytest

from paperroute.catalog.records import PaperRecord, RecordError, UnusableInput
from paperroute.catalog.sources import arxiv_oai
from tests.conftest import fixture_bytes

CONDMAT = "arxiv_oai_pmh/listrecords_arXiv_condmat_2015-03-26_resumed_with_resumptionToken.xml"
HEPTH = "arxiv_oai_pmh/listrecords_arXiv_hep-th_no_token.xml"
OAI_DC = "arxiv_oai_pmh/listrecords_oai_dc_cs_2024-01-27_with_resumptionToken.xml"


def test_arxiv_format_fields():
    page = arxiv_oai.parse(fixture_bytes(CONDMAT))
    first = page.items[0]
    assert first.arxiv_id == "0712.4079"
    assert first.title == (
        "Effect of the boundary condition on the vortex patterns in mesoscopic "
        "three-dimensional superconductors - disk and sphere"
    )
    assert first.authors == ["Mauro M. Doria", "Antonio R. de C. Romaguera", "F. M. Peeters"]
    assert first.categories == ["cond-mat.supr-con", "cond-mat.mes-hall", "cond-mat.mtrl-sci"]
    assert first.doi == "10.1103/PhysRevB.75.064505"
    assert first.journal_ref == "Phys. Rev. B 75, 064505 (2007) (7 pages)"
    assert first.published.date() == date(2007, 12, 25)
    # Line wrapping undone, LaTeX kept as written.
    assert "\n" not in first.abstract
    assert "the magnetization and $H_{c3}$, are obtained" in first.abstract
    assert page.next_token == "788421|43001"
    assert page.cursor == 42000 and page.complete_list_size == 1024354


def test_updated_date_and_license():
    page = arxiv_oai.parse(fixture_bytes(HEPTH))
    assert [r.arxiv_id for r in page.items] == ["1412.8323", "1507.07790", "1607.01710"]
    first = page.items[0]
    assert first.updated.date() == date(2017, 12, 13)
    assert first.license == "http://creativecommons.org/licenses/by/4.0/"
    assert first.comments.startswith("78 pages, many figures")
    assert page.next_token == ""


def test_oai_dc_format_maps_subjects_to_categories():
    page = arxiv_oai.parse(fixture_bytes(OAI_DC))
    assert len(page.items) == 5
    first = page.items[0]
    assert first.arxiv_id == "1303.2033"
    assert first.authors == ["Vilnis Liepins"]
    assert first.categories == ["cs.DS", "cs.IT", "math.NA"]
    last = page.items[-1]
    assert last.arxiv_id == "2401.14040"
    assert last.comments == "Accepted to the Findings of EACL 2024"
    assert not last.abstract.startswith("Comment:")
    assert page.next_token == "6960524|1001" and page.complete_list_size == 1162


def test_arxiv_raw_versions():
    data = b"""<?xml version="1.0"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords><record>
<header><identifier>oai:arXiv.org:0704.0001</identifier><datestamp>2008-11-13</datestamp></header>
<metadata><arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/"><id>0704.0001</id>
<version version="v1"><date>Mon, 2 Apr 2007 19:18:42 GMT</date></version>
<version version="v2"><date>Tue, 24 Jul 2007 20:10:27 GMT</date></version>
<title>Calculation of prompt diphoton production cross sections</title>
<authors>C. Bal\\'azs, E. L. Berger, P. M. Nadolsky and C.-P. Yuan</authors>
<categories>hep-ph</categories><abstract>A fully differential calculation.</abstract>
</arXivRaw></metadata></record></ListRecords></OAI-PMH>"""
    (record,) = arxiv_oai.parse(data).items
    assert record.version == 2
    assert sorted(record.versions) == [1, 2]
    assert record.published.isoformat() == "2007-04-02T19:18:42+00:00"
    assert record.authors == ["C. Bal\\'azs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]


def test_broken_xml_inside_one_record_costs_only_that_record():
    data = fixture_bytes(HEPTH).replace(b"<title>Relativistic quantum", b"<title>Relativistic <b>quantum", 1)
    page = arxiv_oai.parse(data)
    errors = [i for i in page.items if isinstance(i, RecordError)]
    records = [i for i in page.items if isinstance(i, PaperRecord)]
    assert [r.arxiv_id for r in records] == ["1412.8323", "1607.01710"]
    assert len(errors) == 1
    assert errors[0].position == "record 2 (oai:arXiv.org:1507.07790)"
    assert "broken XML" in errors[0].reason


def test_missing_id_and_bad_date_are_reported_with_position():
    data = fixture_bytes(HEPTH)
    data = data.replace(b"<id>1412.8323</id>", b"<id></id>", 1)
    data = data.replace(b"<created>2015-07-28</created>", b"<created>2015-13-45</created>", 1)
    page = arxiv_oai.parse(data)
    errors = {e.position: e.reason for e in page.items if isinstance(e, RecordError)}
    assert errors == {
        "record 1 (oai:arXiv.org:1412.8323)": "missing arXiv id",
        "record 2 (oai:arXiv.org:1507.07790)": "bad date '2015-13-45'",
    }


@pytest.mark.parametrize(
    "data, message",
    [
        (b"<html><body>Service unavailable</body></html>", "not an OAI-PMH response"),
        (b'{"not": "xml"}', "not XML"),
        (b"", "empty"),
        (
            b"""<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><request verb="ListRecords">x</request>
<error code="badResumptionToken">The value of the resumptionToken argument is invalid or expired.</error></OAI-PMH>""",
            "OAI-PMH error badResumptionToken: The value of the resumptionToken argument is invalid",
        ),
    ],
)
def test_unusable_input(data, message):
    with pytest.raises(UnusableInput, match=message):
        arxiv_oai.parse(data)


def test_no_records_match_is_an_empty_page():
    data = b"""<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
<error code="noRecordsMatch">No records</error></OAI-PMH>"""
    assert arxiv_oai.parse(data).items == []
