"""A reader's own data: downloaded from their settings, and deleted with their account."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from paperroute.community import authors, comments, tokens, votes
from paperroute.community.models import Comment, PaperStats, SignInLink, Vote
from paperroute.digest.models import Subscriber
from paperroute.library import follows, shelf
from paperroute.library.models import Collection
from tests.community.helpers import HOSTILE, add_paper, user
from tests.digest.conftest import subscriber

DAY = date(2024, 11, 28)


@pytest.fixture
def world(db):
    """A reader with something of every kind the site keeps, and another reader beside them."""
    paper = add_paper("2411.00901", "A paper the reader used", listed=DAY, hf_upvotes=1)
    other_paper = add_paper("2411.00902", "A paper someone else used", listed=DAY)
    reader, other = user("quokka"), user("other")
    votes.set_vote(reader, paper, True)
    votes.set_vote(other, paper, True)
    votes.set_vote(other, other_paper, True)
    top = comments.add(reader, paper, "My first thought")
    comments.edit(reader, top, "My second thought")
    reply = comments.add(other, paper, "A reply to the reader", parent=top)
    comments.toggle_reaction(reader, reply, "👍")
    comments.toggle_reaction(other, top, "🚀")
    kept = comments.add(other, other_paper, "Someone else's own thread")
    comments.add(reader, other_paper, "The reader's reply in it", parent=kept)
    authors.claim(reader, paper, 0)
    tokens.create(reader, "laptop script")
    collection = shelf.create_collection(reader, "Reading group", "Week 3", public=True)
    shelf.add(reader, paper, collection, note="Read §2")
    shelf.set_note(reader, paper, "A private note")
    shelf.not_interested(reader, other_paper)
    follows.follow(reader, "topic", "speculative decoding")
    follows.feed_secret(reader)
    subscriber("quokka@example.org", topics=["diffusion"])
    shelf.add(other, other_paper)
    return reader, other, paper, other_paper


def _client(account) -> Client:
    client = Client()
    client.force_login(account)
    return client


def test_the_download_holds_everything_kept_for_the_reader_and_no_secret(world):
    reader, _, paper, _ = world
    response = _client(reader).get("/account/data")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="paperroute-quokka-')
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["account"]["name"] == "quokka" and data["account"]["email"] == "quokka@example.org"
    assert [v["paper"]["key"] for v in data["votes"]] == [paper.key]
    mine = {c["body"]: c for c in data["comments"]}
    assert set(mine) == {"My second thought", "The reader's reply in it"}
    assert [v["body"] for v in mine["My second thought"]["earlier_versions"]] == ["My first thought"]
    assert mine["The reader's reply in it"]["reply_to"] is not None
    assert [r["emoji"] for r in data["reactions"]] == ["👍"]
    assert [c["status"] for c in data["author_claims"]] == ["pending"]
    assert [t["name"] for t in data["api_tokens"]] == ["laptop script"]
    named = {c["name"]: c for c in data["collections"]}
    assert named["Reading group"]["papers"][0]["note"] == "Read §2"
    assert named["Reading group"]["public"] is True
    assert [n["text"] for n in data["notes"]] == ["A private note"]
    assert any(r["not_interested"] for r in data["reading"])
    assert [(f["kind"], f["value"]) for f in data["follows"]] == [("topic", "speculative decoding")]
    assert data["settings"]["private_feed_made"] is not None
    assert [s["topics"] for s in data["digest_subscriptions"]] == [["diffusion"]]
    # Nothing of the other reader's, and no secret that would let someone act as the reader.
    text = response.content.decode()
    assert "Someone else's own thread" not in text and "other@example.org" not in text
    assert follows.feed_secret(reader) not in text
    assert Subscriber.objects.get(email_key="quokka@example.org").token not in text


def test_every_kind_of_row_kept_for_an_account_is_in_the_download(world):
    """A new model that keeps rows for an account must show them in the download, or say here
    why not."""
    reader = world[0]
    data = json.loads(_client(reader).get("/account/data").content)
    sections = {
        "community.Vote": "votes",
        "community.Comment": "comments",
        "community.Reaction": "reactions",
        "community.ReplyNotice": "reply_emails",
        "community.Submission": "submissions",
        "community.ApiToken": "api_tokens",
        "community.ListingPrefs": "settings",
        "community.NotificationPrefs": "settings",
        "community.AuthorClaim": "author_claims",
        "library.Collection": "collections",
        "library.PaperNote": "notes",
        "library.PaperState": "reading",
        "library.Follow": "follows",
        "library.FeedKey": "settings",
        "digest.Subscriber": "digest_subscriptions",
        # Not the reader's: the admin's and the author moderation's logs, and the links a verified
        # author set on a paper, which are the catalogue's (each names who acted, or no one).
        "admin.LogEntry": None,
        "community.AuthorLog": None,
        "community.PaperLinks": None,
    }
    user_model = get_user_model()
    pointing = {
        model._meta.label
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if field.concrete and field.is_relation and field.related_model is user_model
    }
    assert pointing == set(sections)
    assert all(section is None or section in data for section in sections.values())


def test_deleting_asks_for_the_name_and_says_what_goes(world):
    reader = world[0]
    client = _client(reader)
    page = client.get("/account/delete").content.decode()
    assert "1 vote:" in page and "2 comments, with their reactions and earlier versions." in page
    assert "The 1 reply others wrote to your comments, under a placeholder" in page
    assert "1 public: its link stops working" in page
    assert "Your digest subscription ends" in page
    response = client.post("/account/delete", {"confirm": "Quokka"})
    assert response.status_code == 400
    assert "That is not your name: type quokka exactly." in response.content.decode()
    assert get_user_model().objects.filter(username="quokka").exists()


def test_deleting_the_account_takes_what_is_the_readers_and_leaves_the_rest(world):
    reader, other, paper, other_paper = world
    SignInLink.objects.create(nonce="n1", email="Quokka@example.org")
    client = _client(reader)
    response = client.post("/account/delete", {"confirm": " quokka "})
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/").content.decode()
    assert "Your account was deleted. Your digest subscription was ended." in home
    assert "Sign in" in home
    assert not get_user_model().objects.filter(username="quokka").exists()
    # The counts follow: the paper had two votes, the reader's went.
    assert PaperStats.objects.get(paper=paper).votes == 1
    assert Vote.objects.filter(user=other).count() == 2
    # The reader's top-level comment is a placeholder now, without their words, name, earlier
    # versions or reactions, and the reply another reader wrote to it stays under it; the other's
    # own thread stays, without the reader's reply in it.
    left = {c.body: c for c in Comment.objects.all()}
    assert set(left) == {"", "A reply to the reader", "Someone else's own thread"}
    placeholder = left[""]
    assert placeholder.author is None and placeholder.deleted_at and placeholder.edited_at is None
    assert not placeholder.revisions.exists() and not placeholder.reactions.exists()
    assert left["A reply to the reader"].parent_id == placeholder.pk
    assert PaperStats.objects.get(paper=paper).comments == 1
    assert PaperStats.objects.get(paper=other_paper).comments == 1
    assert not Collection.objects.filter(owner_id=reader.pk).exists()
    assert Collection.objects.filter(owner=other).exists()
    assert not SignInLink.objects.filter(email__iexact="quokka@example.org").exists()
    digest = Subscriber.objects.get(email_key="quokka@example.org")
    assert digest.status == Subscriber.UNSUBSCRIBED
    # The paper page no longer names them, nor shows their words; the reply is still there.
    shown = Client().get(f"/papers/{paper.key}").content.decode()
    assert "quokka" not in shown and "thought" not in shown
    assert "A reply to the reader" in shown and "deleted by its author" in shown


def test_an_administrator_is_not_deleted_from_here(db):
    admin = user("admin", staff=True)
    admin.is_superuser = True
    admin.save()
    client = _client(admin)
    assert "deleted by another administrator" in client.get("/account/delete").content.decode()
    assert client.post("/account/delete", {"confirm": "admin"}).status_code == 403
    assert get_user_model().objects.filter(pk=admin.pk).exists()


def test_the_account_pages_need_a_signed_in_reader_and_a_csrf_token(world):
    reader = world[0]
    for path in ("/account/data", "/account/delete"):
        response = Client().get(path)
        assert response.status_code == 302 and "/account/signin" in response["Location"]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(reader)
    assert strict.post("/account/delete", {"confirm": "quokka"}).status_code == 403
    assert get_user_model().objects.filter(pk=reader.pk).exists()


def test_downloads_and_deletion_tries_are_rate_limited(world):
    reader = world[0]
    client = _client(reader)
    statuses = [client.get("/account/data").status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429
    tries = [client.post("/account/delete", {"confirm": "wrong"}).status_code for _ in range(11)]
    assert tries[:10] == [400] * 10 and tries[10] == 429


def test_a_cached_page_forgets_a_deleted_reader(db):
    """A verified author who never voted or commented: the paper page, cached for visitors,
    named them after their account was gone."""
    paper = add_paper("2411.00903", "A paper with a verified author", listed=DAY)
    wombat = user("wombat")
    authors.approve(user("moderator", staff=True), authors.claim(wombat, paper, 0))
    visitor = Client()
    assert "wombat" in visitor.get(f"/papers/{paper.key}").content.decode()
    assert _client(wombat).post("/account/delete", {"confirm": "wombat"}).status_code == 302
    assert "wombat" not in visitor.get(f"/papers/{paper.key}").content.decode()


def test_what_the_reader_typed_and_their_name_are_escaped(db):
    """A name set in the admin may hold any text, and the form shows back what was typed."""
    account = get_user_model().objects.create(username=f"x{HOSTILE}"[:150], email="odd@example.org")
    client = _client(account)
    for page in (
        client.get("/account/delete").content.decode(),
        client.post("/account/delete", {"confirm": HOSTILE}).content.decode(),
        client.get("/account/settings").content.decode(),
    ):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;" in page
    # The download is JSON, sent as JSON: the name is data there, never markup.
    response = client.get("/account/data")
    assert response["Content-Type"].startswith("application/json")
    assert json.loads(response.content)["account"]["name"] == account.username
    assert response["Content-Disposition"] == (
        f'attachment; filename="paperroute-xscriptalertxscriptimgsrcxonerroralert1-{timezone.localdate()}.json"'
    )
