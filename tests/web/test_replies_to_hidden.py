"""A reply answers a comment readers see: never a hidden reply, nor one hidden meanwhile, from the
paper page's reply form or from the API."""

from __future__ import annotations

import pytest

from paperroute.community import comments
from paperroute.community.errors import NotAllowed
from paperroute.community.models import Comment
from tests.community.helpers import add_paper, user

KEY = "2411.00831"


@pytest.fixture
def thread(db):
    """A visible top comment with a reply a moderator hid."""
    paper = add_paper(KEY)
    top = comments.add(user("alice"), paper, "Top comment")
    hidden = comments.add(user("mallory"), paper, "Buy cheap pills", parent=top)
    comments.set_hidden([hidden], True, "spam")
    return paper, top, hidden


def _replies_stored(top) -> list[str]:
    return list(Comment.objects.filter(parent=top).order_by("pk").values_list("body", flat=True))


def test_the_reply_form_refuses_a_reply_to_a_hidden_reply(reader_client, thread):
    paper, top, hidden = thread
    response = reader_client.post(
        f"/papers/{KEY}/comments", {"body": "Where can I buy?", "parent": hidden.pk}
    )
    page = response.content.decode()
    assert response.status_code == 403
    assert "Your reply was not posted: a hidden comment takes no replies." in page
    assert _replies_stored(top) == ["Buy cheap pills"]
    # Its thread's visible comment still takes replies.
    response = reader_client.post(f"/papers/{KEY}/comments", {"body": "Nice", "parent": top.pk})
    assert response.status_code == 302 and _replies_stored(top) == ["Buy cheap pills", "Nice"]


def test_the_api_refuses_a_reply_to_a_hidden_reply_in_json(reader_client, thread):
    paper, top, hidden = thread
    response = reader_client.post(
        f"/api/papers/{KEY}/comment/{hidden.pk}/reply", {"comment": "Where?"}, content_type="application/json"
    )
    assert response.status_code == 404
    assert response.json()["error"] == f"paper {KEY} has no comment {hidden.pk}"
    assert _replies_stored(top) == ["Buy cheap pills"]


def test_a_reply_hidden_while_the_answer_was_typed_takes_none(thread):
    """The API and the form read the reply before a moderator hid it: stored, the answer would sit
    in the thread under words no reader sees, and its author would be mailed about it."""
    paper, top, _ = thread
    reply = comments.add(user("bob"), paper, "A fair point", parent=top)
    as_read = Comment.objects.get(pk=reply.pk)
    comments.set_hidden([Comment.objects.get(pk=reply.pk)], True, "off topic")
    with pytest.raises(NotAllowed, match="a hidden comment takes no replies"):
        comments.add(user("carol"), paper, "Agreed", parent=as_read)
    reply.delete()
    with pytest.raises(NotAllowed, match="was deleted"):
        comments.add(user("carol"), paper, "Agreed", parent=as_read)
    assert _replies_stored(top) == ["Buy cheap pills"]


def test_a_reply_under_a_hidden_comment_still_names_it_in_the_api(client, thread):
    """As on the paper page, where it sits under "hidden: …": the API leaves the hidden comment
    out, and says so in the schema, but not the visible reply under it."""
    paper, top, _ = thread
    reply = comments.add(user("bob"), paper, "A fair point", parent=top)
    comments.set_hidden([top], True, "off topic")
    shown = client.get(f"/api/papers/{KEY}?field=comments").json()["comments"]
    assert [(c["id"], c["replyTo"]) for c in shown] == [(str(reply.pk), str(top.pk))]
    described = client.get("/api/openapi.json").json()["components"]["schemas"]["CommentOut"]
    assert "hidden by a moderator" in described["properties"]["replyTo"]["description"]
