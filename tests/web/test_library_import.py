"""/library/import: uploading an export or pasting ids, the report, fetching what was not
found; signed-in, CSRF-checked and rate-limited, and never a 500 whatever is sent."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from paperroute.library import importing, shelf
from tests.community.arxiv_replay import respond
from tests.community.helpers import HOSTILE, user
from tests.library.test_imports import catalogue, fixture
from tests.replay import ReplayServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def papers(db):
    return catalogue()


def upload(name: str, data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, fixture(name) if data is None else data)


def saved_keys(account) -> list[str]:
    return [item.paper.key for item in shelf.items(shelf.saved_collection(account))]


def test_signing_in_comes_first(client):
    response = client.get("/library/import")
    assert response.status_code == 302 and response["Location"].startswith("/account/signin")
    assert client.post("/library/import", {"text": "1706.03762"}).status_code == 302


def test_the_form_offers_the_readers_collections(reader_client):
    shelf.create_collection(reader_client.user, f"Group {HOSTILE}")
    page = reader_client.get("/library/import").content.decode()
    assert 'enctype="multipart/form-data"' in page and 'name="csrfmiddlewaretoken"' in page
    assert "Saved (0 papers)" in page and "Group &lt;script&gt;" in page and HOSTILE not in page
    assert 'href="/library/import" aria-current="page"' in page


def test_uploading_a_bibtex_file_shows_what_matched_and_what_did_not(reader_client, papers):
    response = reader_client.post("/library/import", {"file": upload("zotero.bib")})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Read 6 entries from the BibTeX (1 part could not be read)." in page
    assert "3 added to Saved" in page
    assert "arXiv:2006.11239 is not in this site&#x27;s catalogue yet" in page
    assert "this entry is malformed and was skipped" in page and "entry 6 (line 58)" in page
    assert '<input type="hidden" name="id" value="2006.11239">' in page
    assert "Fetch 1 paper from arXiv" in page
    assert saved_keys(reader_client.user) == ["1706.03762", "1810.04805", "2106.09685"]


@pytest.mark.parametrize(
    "name, summary",
    [
        ("zotero-csl.json", "Read 5 entries from the CSL-JSON (2 parts could not be read)"),
        ("mendeley.ris", "Read 5 entries from the RIS (1 part could not be read)"),
        ("reading-list.txt", "Read 6 entries from the list of arXiv ids (2 parts could not be read)"),
    ],
)
def test_every_format_can_be_uploaded(reader_client, papers, name, summary):
    page = reader_client.post("/library/import", {"file": upload(name)}).content.decode()
    assert summary in page and "added to Saved" in page


def test_pasted_ids_go_into_the_chosen_collection(reader_client, papers):
    group = shelf.create_collection(reader_client.user, "Reading group")
    response = reader_client.post(
        "/library/import", {"text": "https://arxiv.org/abs/1706.03762v3\n2106.09685", "collection": group.pk}
    )
    assert response.status_code == 200 and "2 added to Reading group" in response.content.decode()
    assert [item.paper.key for item in shelf.items(group)] == ["1706.03762", "2106.09685"]
    assert saved_keys(reader_client.user) == []


@pytest.mark.parametrize(
    "form, message",
    [
        ({}, "Choose a file to upload, or paste arXiv ids or links."),
        ({"text": "   "}, "Choose a file to upload"),
        ({"file": SimpleUploadedFile("empty.bib", b"")}, "The file is empty."),
        ({"file": SimpleUploadedFile("paper.pdf", b"%PDF-1.5\n\x00\x01")}, "This is a PDF document"),
        ({"file": SimpleUploadedFile("x.bin", bytes(range(256)) * 4)}, "This is not a text file"),
        ({"file": SimpleUploadedFile("big.ris", b"TY  - JOUR\n" * 500_000)}, "larger than 5 MB"),
        ({"file": SimpleUploadedFile(f"{HOSTILE}.bib", b"nothing")}, "No BibTeX entries were found in"),
        ({"text": f"{HOSTILE}\nno ids"}, "No arXiv id or link was found"),
        ({"text": "1706.03762", "collection": "99999"}, "Choose one of your collections."),
        ({"text": "1706.03762", "collection": "1e9"}, "Choose one of your collections."),
    ],
)
def test_bad_input_gets_the_form_again_with_words(reader_client, papers, form, message):
    response = reader_client.post("/library/import", form)
    page = response.content.decode()
    assert response.status_code == 400 and message in page
    assert HOSTILE not in page and 'role="alert"' in page
    assert saved_keys(reader_client.user) == []


def test_someone_elses_collection_is_not_a_target(reader_client, papers):
    theirs = shelf.create_collection(user("other"), "Theirs")
    response = reader_client.post("/library/import", {"text": "1706.03762", "collection": theirs.pk})
    assert response.status_code == 400 and shelf.items(theirs).count() == 0


def test_pasting_more_than_a_request_may_hold_is_a_400(reader_client, papers, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = reader_client.post("/library/import", {"text": "1706.03762 " * 2000})
    assert response.status_code == 400
    # Words the reader can act on, not Django's ("exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE").
    page = response.content.decode()
    assert "upload it as a file (up to 5 MB)" in page and "settings." not in page


def test_imports_need_the_csrf_token_and_are_rate_limited(reader_client, papers, settings):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(reader_client.user)
    assert strict.post("/library/import", {"text": "1706.03762"}).status_code == 403
    assert reader_client.put("/library/import").status_code == 405
    settings.CONFIG = settings.CONFIG.replace(rate_imports="1/day")
    assert reader_client.post("/library/import", {"text": "nothing here"}).status_code == 400  # not counted
    assert reader_client.post("/library/import", {"text": "1706.03762"}).status_code == 200
    limited = reader_client.post("/library/import", {"text": "2106.09685"})
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert "Too many imports" in limited.content.decode()


def test_unmatched_ids_are_fetched_from_arxiv(reader_client, papers, settings):
    group = shelf.create_collection(reader_client.user, "To read")
    with ReplayServer(respond) as server:
        settings.CONFIG = settings.CONFIG.replace(arxiv_api_url=server.url + "/api/query", arxiv_delay=0.0)
        report = reader_client.post("/library/import", {"text": "2606.13677", "collection": group.pk})
        assert '<input type="hidden" name="id" value="2606.13677">' in report.content.decode()
        response = reader_client.post(
            "/library/import",
            {"action": "fetch", "collection": group.pk, "id": ["2606.13677", "2606.99999", HOSTILE]},
        )
    page = response.content.decode()
    assert response.status_code == 200 and "Fetched from arXiv" in page
    assert "Mana: Dexterous Manipulation of Articulated Tools" in page
    assert "arXiv has no paper with the id 2606.99999" in page and HOSTILE not in page
    assert [item.paper.key for item in shelf.items(group)] == ["2606.13677"]


def test_the_fetch_limit_is_offered_again(reader_client, papers, settings, monkeypatch):
    monkeypatch.setattr(importing.collect, "MAX_FETCH", 0)
    response = reader_client.post("/library/import", {"action": "fetch", "id": ["2606.13677"]})
    page = response.content.decode()
    assert response.status_code == 200 and "Try the 1 not fetched again" in page


NASTY = [
    "",
    "\x00",
    "²",
    "99999999999999999999999",
    "-1",
    "x" * 3000,
    "a\r\nb",
    "\ud7ff",
    "'\"<>",
    "@misc{",
    "TY  - ",
    "[",
    "{",
    "[{}]",
    '{"items": 5}',
    "@misc{a,\n title={\\",
    "\u202e",
]


def test_no_field_value_gets_a_500(reader_client, papers, settings):
    # Dozens of imports in a row, some of them counted (a bibliography with nothing usable): the
    # allowance is tested elsewhere.
    settings.CONFIG = settings.CONFIG.replace(rate_imports="1000/day")
    for value in NASTY:
        for form in (
            {"text": value},
            {"collection": value, "text": "1706.03762"},
            {"action": value, "text": value},
            {"action": "fetch", "id": [value, value]},
            {"file": SimpleUploadedFile(value[:50] or "f", value.encode("utf-8", "surrogatepass"))},
            {"file": SimpleUploadedFile("f.json", value.encode("utf-16"))},
        ):
            response = reader_client.post("/library/import", form)
            assert response.status_code in (200, 400), (form, response.status_code)
