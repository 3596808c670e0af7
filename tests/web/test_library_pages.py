"""A reader's library on the site: saving, collections, notes, read state, not interested,
follows and the private feed; with and without the script, and never someone else's."""

from __future__ import annotations

import json
from datetime import date

import feedparser
import lxml.html
import pytest
from django.test import Client

from paperroute.library import shelf
from paperroute.library.models import Collection
from tests.community.helpers import HOSTILE, add_paper, user

pytestmark = pytest.mark.django_db
DAY = date(2024, 11, 28)


@pytest.fixture
def papers():
    return [
        add_paper(
            "2411.00601",
            "Speculative decoding with tiny drafts",
            listed=DAY,
            hf_upvotes=2,
            authors=("Grace Hopper", "Mu\\~noz, Ana"),
        ),
        add_paper("2411.00602", "Graph networks for molecules", listed=DAY, hf_upvotes=1),
        add_paper("2411.00603", "A survey of draft models", listed=DAY, hf_upvotes=1),
    ]


def test_saving_from_a_form_and_from_the_script(reader_client, papers):
    first, second, _ = papers
    back = reader_client.post(f"/papers/{first.key}/save", {"action": "save", "next": "/trending"})
    assert back.status_code == 302 and back["Location"] == "/trending"
    scripted = reader_client.post(
        f"/papers/{second.key}/save", {"action": "save"}, HTTP_ACCEPT="application/json"
    )
    assert scripted.json()["saved"] is True
    library = reader_client.get("/library").content.decode()
    assert "Speculative decoding with tiny drafts" in library and "Graph networks" in library
    assert 'Saved <span class="muted">· 2</span>' in library
    # Saving twice keeps one copy; unsaving takes it out.
    reader_client.post(f"/papers/{first.key}/save", {"action": "save"})
    assert shelf.items(shelf.saved_collection(reader_client.user)).count() == 2
    gone = reader_client.post(
        f"/papers/{first.key}/save", {"action": "unsave"}, HTTP_ACCEPT="application/json"
    )
    assert gone.json()["saved"] is False
    day = reader_client.get(f"/papers/date/{DAY}?view=all&cat=").content.decode()
    assert 'aria-pressed="true" data-on="Saved"' in day  # the second paper's button says Saved


def test_anonymous_readers_are_sent_to_sign_in(client, papers):
    response = client.post(f"/papers/{papers[0].key}/save", {"action": "save"})
    assert response.status_code == 302 and response["Location"].startswith("/account/signin")
    scripted = client.post(f"/papers/{papers[0].key}/save", HTTP_ACCEPT="application/json")
    assert scripted.status_code == 401
    assert client.get("/library").status_code == 302


def test_writes_need_the_csrf_token(papers):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user("reader"))
    assert strict.post(f"/papers/{papers[0].key}/save", {"action": "save"}).status_code == 403
    assert strict.post("/collections/new", {"name": "x"}).status_code == 403


def test_collections_are_private_until_made_public(reader_client, papers):
    client = Client()  # a visitor (reader_client is the test client, signed in)
    made = reader_client.post(
        "/collections/new", {"name": f"Reading group {HOSTILE}", "description": "Week 3"}
    )
    collection = Collection.objects.get(owner=reader_client.user, is_default=False)
    assert made["Location"] == f"/collections/{collection.pk}"
    for paper in papers[:2]:
        reader_client.post(f"/papers/{paper.key}/save", {"collection": collection.pk})
    page = reader_client.get(f"/collections/{collection.pk}").content.decode()
    assert HOSTILE not in page and "&lt;script&gt;" in page
    assert client.get(f"/collections/{collection.pk}").status_code == 404  # private
    assert client.get(f"/collections/{collection.pk}.bib").status_code == 404
    reader_client.post(f"/collections/{collection.pk}/edit", {"name": "Reading group", "public": "on"})
    public = client.get(f"/collections/{collection.pk}").content.decode()
    assert "Reading group" in public and "Speculative decoding with tiny drafts" in public
    assert "Edit collection" not in public  # a visitor reads, only the owner arranges
    feed = feedparser.parse(client.get(f"/collections/{collection.pk}.atom").content)
    assert [e.title for e in feed.entries] == [
        "Speculative decoding with tiny drafts",
        "Graph networks for molecules",
    ]
    assert "@misc{" in client.get(f"/collections/{collection.pk}.bib").content.decode()
    csl = json.loads(client.get(f"/collections/{collection.pk}.json").content)
    assert [item["title"] for item in csl][0] == "Speculative decoding with tiny drafts"


def test_the_owner_reorders_annotates_and_removes(reader_client, papers):
    collection = shelf.create_collection(reader_client.user, "Order")
    for paper in papers:
        shelf.add(reader_client.user, paper, collection)
    url = f"/collections/{collection.pk}/items"
    reader_client.post(url, {"paper": papers[2].key, "action": "up"})
    reader_client.post(url, {"paper": papers[0].key, "action": "note", "note": "Read §3 first"})
    order = [item.paper.key for item in shelf.items(collection)]
    assert order == [papers[0].key, papers[2].key, papers[1].key]
    reader_client.post(
        f"/collections/{collection.pk}/order",
        {"paper": [papers[1].key, papers[0].key]},
        HTTP_ACCEPT="application/json",
    )
    assert [item.paper.key for item in shelf.items(collection)] == [
        papers[1].key,
        papers[0].key,
        papers[2].key,
    ]
    reader_client.post(url, {"paper": papers[1].key, "action": "remove"})
    page = reader_client.get(f"/collections/{collection.pk}").content.decode()
    assert "Read §3 first" in page and "Graph networks" not in page.split("collection-items", 1)[1]


def test_nobody_touches_another_readers_collection(reader_client, papers):
    other = user("other")
    theirs = shelf.create_collection(other, "Theirs")
    shelf.add(other, papers[0], theirs)
    assert reader_client.get(f"/collections/{theirs.pk}").status_code == 404
    assert (
        reader_client.post(
            f"/collections/{theirs.pk}/items", {"paper": papers[0].key, "action": "remove"}
        ).status_code
        == 404
    )
    assert reader_client.post(f"/papers/{papers[1].key}/save", {"collection": theirs.pk}).status_code == 400
    assert [i.paper_id for i in shelf.items(theirs)] == [papers[0].pk]


def test_private_notes_are_shown_only_to_their_writer(reader_client, papers):
    client = Client()
    paper = papers[0]
    reader_client.post(f"/papers/{paper.key}/note", {"text": f"Compare with {HOSTILE}"})
    mine = reader_client.get(f"/papers/{paper.key}").content.decode()
    assert "Compare with &lt;script&gt;" in mine and HOSTILE not in mine
    assert "Compare with" not in client.get(f"/papers/{paper.key}").content.decode()
    other = Client()
    other.force_login(user("other"))
    assert "Compare with" not in other.get(f"/papers/{paper.key}").content.decode()
    assert "Compare with" in reader_client.get("/library").content.decode()


def test_opening_a_paper_marks_it_read_and_listings_dim_or_hide_it(reader_client, papers):
    listing = f"/papers/date/{DAY}?view=all&cat="
    assert "is-read" not in reader_client.get(listing).content.decode()
    reader_client.get(f"/papers/{papers[0].key}")
    dimmed = reader_client.get(listing).content.decode()
    assert dimmed.count("card is-read") == 1 and "Speculative decoding" in dimmed
    hidden = reader_client.get(listing + "&read=hide").content.decode()
    assert "Speculative decoding" not in hidden and "Graph networks" in hidden
    # The choice is remembered, and "mark unread" brings the paper back.
    assert "Speculative decoding" not in reader_client.get(listing).content.decode()
    reader_client.post(f"/papers/{papers[0].key}/state", {"action": "unread"})
    assert "Speculative decoding" in reader_client.get(listing).content.decode()


def test_not_interested_hides_a_paper_until_undone(reader_client, papers):
    listing = f"/papers/date/{DAY}?view=all&cat="
    answer = reader_client.post(
        f"/papers/{papers[1].key}/state", {"action": "dismiss"}, HTTP_ACCEPT="application/json"
    )
    assert answer.json() == {"read": False, "dismissed": True}
    assert "Graph networks" not in reader_client.get(listing).content.decode()
    assert "Graph networks" in reader_client.get("/library").content.decode()  # listed to undo
    reader_client.post(f"/papers/{papers[1].key}/state", {"action": "undismiss"})
    assert "Graph networks" in reader_client.get(listing).content.decode()


def test_following_authors_topics_and_the_private_feed(reader_client, papers):
    client = Client()
    page = reader_client.get("/authors/Grace Hopper").content.decode()
    assert ">Follow<" in page
    add_paper("2411.00604", "Language paper", listed=DAY, categories=("cs.AI", "cs.CL"))
    add_paper("2411.00605", "Vision paper", listed=DAY, categories=("cs.CV",))
    reader_client.post("/library/follow", {"kind": "author", "value": "Grace Hopper"})
    reader_client.post("/library/follow", {"kind": "category", "value": "cs.CL"})
    assert (
        reader_client.post("/library/follow", {"kind": "author", "value": "Nobody Atall"}).status_code == 400
    )
    following = reader_client.get("/library/following").content.decode()
    assert "Grace Hopper" in following
    # A followed category is named, as on a paper's page: a code alone means little to many.
    assert '<a href="/categories/cs.CL">cs.CL (Computation and Language)</a>' in following
    address = following.split('id="feed-url" tabindex="0">', 1)[1].split("<", 1)[0]
    path = (
        address.split("testserver", 1)[1] if "testserver" in address else address[address.index("/feeds") :]
    )
    feed = feedparser.parse(client.get(path).content)
    by_title = {e.title: e.summary for e in feed.entries}
    assert "Speculative decoding with tiny drafts" in by_title
    assert by_title["Speculative decoding with tiny drafts"].startswith("[Follows author Grace Hopper]")
    # A paper of the followed category, and one of another that is not.
    assert by_title["Language paper"].startswith("[Follows category cs.CL (Computation and Language)]")
    assert "Vision paper" not in by_title
    reader_client.post("/library/feed/rotate")
    assert client.get(path).status_code == 404  # the old address stops working


def _follow_form(response) -> tuple[dict[str, str], str, str]:
    """The Following form as sent back: the text field's attributes, the kind chosen, and the
    text its aria-describedby points to."""
    page = lxml.html.fromstring(response.content)
    field = page.get_element_by_id("f-value")
    kind = page.get_element_by_id("f-kind")
    chosen = [option.get("value") for option in kind.iter("option") if option.get("selected") is not None]
    invalid = field if field.get("aria-invalid") else kind
    return (
        dict(field.attrib),
        (chosen or [""])[0],
        page.get_element_by_id(invalid.get("aria-describedby")).text_content(),
    )


@pytest.mark.parametrize(
    "kind, typed, said",
    [
        (
            "category",
            "foo.bar",
            "No category “foo.bar” is known here: type an arXiv category such as cs.CL, "
            "or a whole archive such as cs.",
        ),
        ("author", "Nobody Herexyz", "No paper by “Nobody Herexyz” is in the catalogue yet"),
        ("topic", "   ", "Type the words of the topic to follow."),
        ("category", HOSTILE, "No category “<script>"),
    ],
)
def test_a_mistake_in_the_follow_form_is_shown_beside_the_field_with_what_was_typed(
    reader_client, papers, kind, typed, said
):
    response = reader_client.post("/library/follow", {"kind": kind, "value": typed})
    assert response.status_code == 400
    field, chosen, error = _follow_form(response)
    assert field["aria-invalid"] == "true" and field["value"] == typed and chosen == kind
    assert error.startswith(said)
    assert b"<h1>Following</h1>" in response.content and b"<script>" not in response.content
    assert not reader_client.user.follows.exists()


def test_an_author_not_in_the_catalogue_yet_says_what_to_do(reader_client, papers):
    response = reader_client.post("/library/follow", {"kind": "author", "value": "Nobody Herexyz"})
    _, _, error = _follow_form(response)
    assert "can be followed once one of their papers is" in error
    assert "spelling" in error and "submit one of their papers" in error
    # A script still gets the same words, as JSON.
    scripted = reader_client.post(
        "/library/follow", {"kind": "author", "value": "Nobody Herexyz"}, HTTP_ACCEPT="application/json"
    )
    assert scripted.status_code == 400 and "once one of their papers is" in scripted.json()["detail"]


def test_a_kind_that_is_none_of_the_three_is_shown_beside_the_kind(reader_client, papers):
    response = reader_client.post("/library/follow", {"kind": "planet", "value": "Mars"})
    assert response.status_code == 400
    page = lxml.html.fromstring(response.content)
    kind = page.get_element_by_id("f-kind")
    assert kind.get("aria-invalid") == "true"
    assert (
        "topic, a category or an author"
        in page.get_element_by_id(kind.get("aria-describedby")).text_content()
    )
    assert page.get_element_by_id("f-value").get("value") == "Mars"


def test_following_the_same_thing_twice_says_it_is_followed_already(reader_client, papers):
    first = reader_client.post(
        "/library/follow", {"kind": "topic", "value": "speculative decoding"}, follow=True
    )
    assert "You follow the topic “speculative decoding” now." in first.content.decode()
    again = reader_client.post(
        "/library/follow", {"kind": "topic", "value": "Speculative  Decoding"}, follow=True
    )
    assert "You already follow the topic “speculative decoding”." in again.content.decode()
    assert "now." not in again.content.decode()
    reader_client.post("/library/follow", {"kind": "author", "value": "Grace Hopper"})
    twice = reader_client.post("/library/follow", {"kind": "author", "value": "grace hopper"}, follow=True)
    assert "You already follow the author “Grace Hopper”." in twice.content.decode()
    assert reader_client.user.follows.count() == 2


def test_following_too_often_says_so_in_the_form_and_keeps_what_was_typed(reader_client, papers, settings):
    settings.CONFIG = settings.CONFIG.replace(rate_library="2/hour")
    for topic in ("speculative decoding", "draft models"):
        reader_client.post("/library/follow", {"kind": "topic", "value": topic})
    response = reader_client.post("/library/follow", {"kind": "topic", "value": "graph networks"})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    page = lxml.html.fromstring(response.content)
    field = page.get_element_by_id("f-value")
    # What they typed is kept, and is not marked as the mistake: the message is the form's.
    assert field.get("value") == "graph networks" and field.get("aria-invalid") is None
    (button,) = page.xpath("//form[@class='follow-form']//button")
    said = page.get_element_by_id(button.get("aria-describedby")).text_content()
    assert said.startswith("Too many") or "try again" in said.lower(), said
    # The page is still the reader's Following page, with what they follow.
    assert "<h1>Following</h1>" in response.content.decode() and "draft models" in page.text_content()
    assert reader_client.user.follows.count() == 2


def test_deleting_a_collection_asks_first_saying_what_goes(reader_client, papers):
    reader_client.post("/collections/new", {"name": "Reading group"})
    collection = Collection.objects.get(owner=reader_client.user, is_default=False)
    shelf.add(reader_client.user, papers[0])
    for paper in papers[:2]:
        reader_client.post(f"/papers/{paper.key}/save", {"collection": collection.pk})
    reader_client.post(f"/collections/{collection.pk}/edit", {"name": "Reading group", "public": "on"})
    page = lxml.html.fromstring(reader_client.get(f"/collections/{collection.pk}").content)
    (button,) = page.xpath("//form[input[@name='form'][@value='delete']]//button")
    # The button is behind a disclosure, so one stray click or Enter deletes nothing.
    assert button.xpath("ancestor::details[1]/summary")[0].text_content() == "Delete this collection"
    said = page.get_element_by_id(button.get("aria-describedby")).text_content()
    assert said.startswith("Delete “Reading group” and its list of 2 papers, and the public link to it?")
    assert "stay wherever else you saved them" in said
    gone = reader_client.post(f"/collections/{collection.pk}/edit", {"form": "delete"}, follow=True)
    assert "Collection “Reading group” deleted." in gone.content.decode()
    assert not Collection.objects.filter(pk=collection.pk).exists()
    # A paper also in Saved stays there; one that was only in the collection is no longer kept.
    assert shelf.saved_ids(reader_client.user, [papers[0].pk, papers[1].pk]) == {papers[0].pk}


def test_a_new_collection_refused_is_shown_beside_its_field_with_what_was_typed(reader_client, papers):
    response = reader_client.post(
        "/collections/new", {"name": "   ", "description": f"Week 3 {HOSTILE}", "public": "on"}
    )
    assert response.status_code == 400
    page = lxml.html.fromstring(response.content)
    assert page.findtext(".//title").startswith("Error: Your library")
    assert page.xpath("//details[@class='new-collection']/@open")
    name = page.get_element_by_id("c-name")
    assert name.get("aria-invalid") == "true" and name.get("autofocus") is not None
    assert page.get_element_by_id(name.get("aria-describedby")).text_content() == "A collection needs a name."
    # What was typed is kept (escaped), and nothing was made.
    assert page.get_element_by_id("c-description").text_content() == f"Week 3 {HOSTILE}"
    assert b"<script>" not in response.content
    assert page.xpath("//input[@name='public']/@checked")
    assert not Collection.objects.filter(owner=reader_client.user, is_default=False).exists()


def test_the_forms_on_a_refused_forms_page_lead_back_to_the_library(reader_client, papers):
    """The page is answered at /collections/new, which takes only POSTs: its other forms and its
    page links return to the library, not to an address that answers "method not allowed"."""
    for paper in papers:
        shelf.add(reader_client.user, paper)
    shelf.not_interested(reader_client.user, papers[2])
    response = reader_client.post("/collections/new", {"name": ""})
    page = lxml.html.fromstring(response.content)
    backs = page.xpath("//main//form[@method='post']/input[@name='next']/@value")
    assert len(backs) >= 4 and {back.split("#")[0] for back in backs} == {"/library"}
    # And the library itself still returns its forms to the page and query it was opened at.
    opened = lxml.html.fromstring(reader_client.get("/library?page=1").content)
    backs = opened.xpath("//main//form/input[@name='next']/@value")
    assert {back.split("#")[0] for back in backs} == {"/library?page=1"}


def test_signed_out_a_library_form_returns_to_its_whole_page_after_sign_in(client, papers):
    """A session that ran out while the page was open: the sign-in page gets the page's address
    whole, its own query included, not cut at its first "&"."""
    back = "/search?q=draft+models&mode=lexical"
    response = client.post(f"/papers/{papers[0].key}/save", {"action": "save", "next": back})
    assert response.status_code == 302
    signin = client.get(response["Location"]).content.decode()
    assert f'name="next" value="{back.replace("&", "&amp;")}"' in signin
