"""The library's writes answer a script in JSON when the paper or collection is not there, as
they answer its other refusals: the site's script (site.js) posts each form with
`Accept: application/json` and reads the answer as JSON."""

from __future__ import annotations

import pytest

from paperroute.library import shelf
from tests.community.helpers import add_paper, user

pytestmark = pytest.mark.django_db
SCRIPT = {"HTTP_ACCEPT": "application/json"}  # what site.js's postForm sends


@pytest.fixture
def paper():
    return add_paper("2411.00611", "A paper to keep")


def _refused(response, message: str) -> None:
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": message}


def test_a_paper_that_is_not_here_is_a_json_404_to_the_script(reader_client, paper):
    missing = "no paper with the id '2411.99999' is known here"
    for action, data in (
        ("save", {"action": "save"}),
        ("save", {"action": "unsave"}),
        ("state", {"action": "dismiss"}),
        ("note", {"text": "read later"}),
    ):
        _refused(reader_client.post(f"/papers/2411.99999/{action}", data, **SCRIPT), missing)
    collection = shelf.create_collection(reader_client.user, "Reading group")
    _refused(
        reader_client.post(
            f"/collections/{collection.pk}/items", {"paper": "2411.99999", "action": "remove"}, **SCRIPT
        ),
        missing,
    )


def test_a_collection_that_is_gone_or_not_yours_is_a_json_404_to_the_script(reader_client, paper):
    theirs = shelf.create_collection(user("other"), "Theirs", public=True)
    gone = shelf.create_collection(reader_client.user, "Gone")
    gone_pk = gone.pk
    shelf.delete_collection(reader_client.user, gone)
    message = "no such collection, or it is private"
    for pk in (theirs.pk, gone_pk):
        _refused(
            reader_client.post(f"/collections/{pk}/items", {"paper": paper.key, "action": "top"}, **SCRIPT),
            message,
        )
        _refused(reader_client.post(f"/collections/{pk}/order", {"paper": [paper.key]}, **SCRIPT), message)
        _refused(reader_client.post(f"/collections/{pk}/edit", {"name": "Mine now"}, **SCRIPT), message)
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"


def test_a_form_without_the_script_still_gets_the_page(reader_client, paper):
    response = reader_client.post("/papers/2411.99999/save", {"action": "save"})
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
    assert "no paper with the id" in response.content.decode()


def test_a_vote_for_a_paper_that_is_not_here_is_a_json_404_to_the_script(reader_client, paper):
    """site.js posts the upvote with Accept: application/json too; a plain form gets the page."""
    _refused(
        reader_client.post("/papers/2411.99999/vote", {"action": "up"}, **SCRIPT),
        "no paper with the id '2411.99999' is known here",
    )
    page = reader_client.post("/papers/2411.99999/vote", {"action": "up"})
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")
    assert (
        reader_client.post(f"/papers/{paper.key}/vote", {"action": "up"}, **SCRIPT).json()["upvoted"] is True
    )
