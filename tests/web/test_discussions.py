"""Discussions on the paper page: Markdown, replies, edit history, hiding, reactions, the feed."""

from __future__ import annotations

import re

import feedparser
import pytest
from lxml import etree

from paperroute.community import comments
from paperroute.community.models import Comment, Reaction
from tests.community.helpers import add_paper, user

KEY = "2411.00801"
ATOM = "{http://www.w3.org/2005/Atom}"


def _page(client, key: str = KEY) -> str:
    return client.get(f"/papers/{key}").content.decode()


def _article(page: str, pk: int) -> str:
    start = page.index(f'id="comment-{pk}"')
    return page[start : page.index("</article>", start)]


@pytest.mark.django_db
def test_a_markdown_comment_shows_formatted_with_its_math_set(reader_client):
    add_paper(KEY, "A discussed paper")
    body = (
        "**Nice** result; see [the code](https://example.org/code).\n\n"
        "```\nx = '<b>'\n```\n\nThe bound $a*b*c \\le n$ is tight."
    )
    response = reader_client.post(f"/papers/{KEY}/comments", {"body": body})
    comment = Comment.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"#comment-{comment.pk}")
    assert comment.body == body  # the Markdown is what is stored
    shown = _article(_page(reader_client), comment.pk)
    assert "<strong>Nice</strong>" in shown
    assert '<a href="https://example.org/code" rel="nofollow ugc noopener">the code</a>' in shown
    assert "<pre><code>x = '&lt;b&gt;'" in shown
    assert "<mo>≤</mo>" in shown and "<em>" not in shown
    assert '<annotation encoding="application/x-tex">a*b*c \\le n</annotation>' in shown


@pytest.mark.django_db
def test_replies_sit_under_their_comment_one_level_deep(client, reader_client):
    add_paper(KEY)
    top = comments.add(user("alice"), comments.Paper.objects.get(key=KEY), "Top comment")
    reader_client.post(f"/papers/{KEY}/comments", {"body": "First reply", "parent": top.pk})
    first = Comment.objects.get(body="First reply")
    reader_client.post(f"/papers/{KEY}/comments", {"body": "Reply to the reply", "parent": first.pk})
    second = Comment.objects.get(body="Reply to the reply")
    assert first.parent_id == top.pk and second.parent_id == top.pk
    page = _page(client)
    replies = page[page.index('class="replies"') :]
    assert replies.index(f'id="comment-{first.pk}"') < replies.index(f'id="comment-{second.pk}"')
    assert "3 comments" in page
    # Readers without JavaScript get a plain form per thread that names the comment answered.
    form_page = _page(reader_client)
    assert f'<input type="hidden" name="parent" value="{top.pk}">' in form_page
    assert f'name="parent" value="{first.pk}"' not in form_page


@pytest.mark.django_db
def test_a_reply_to_a_missing_comment_or_another_paper_is_refused(reader_client):
    add_paper(KEY)
    other = add_paper("2411.00802")
    elsewhere = comments.add(user("alice"), other, "On another paper")
    response = reader_client.post(f"/papers/{KEY}/comments", {"body": "x", "parent": "99999"})
    assert response.status_code == 400 and "does not exist" in response.content.decode()
    response = reader_client.post(
        f"/papers/{KEY}/comments", {"body": "x", "parent": elsewhere.pk}, follow=True
    )
    assert "that comment is on another paper" in response.content.decode()
    assert Comment.objects.count() == 1


@pytest.mark.django_db
def test_the_api_reply_endpoint_makes_a_real_reply(reader_client):
    paper = add_paper(KEY)
    top = comments.add(user("alice"), paper, "Top")
    response = reader_client.post(
        f"/api/papers/{KEY}/comment/{top.pk}/reply",
        {"comment": "**Agreed**"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["replyTo"] == str(top.pk) and response.json()["content"] == "**Agreed**"
    assert Comment.objects.get(pk=response.json()["id"]).parent_id == top.pk
    comments.set_hidden([top], True, "spam")
    response = reader_client.post(
        f"/api/papers/{KEY}/comment/{top.pk}/reply", {"comment": "more"}, content_type="application/json"
    )
    assert response.status_code == 404


@pytest.mark.django_db
def test_edits_keep_history_for_the_author_and_moderators_only(client, reader_client):
    paper = add_paper(KEY)
    comment = comments.add(reader_client.user, paper, "First version")
    reader_client.post(f"/comments/{comment.pk}/edit", {"body": "Second version"})
    reader_client.post(f"/comments/{comment.pk}/edit", {"body": "Third version"})
    shown = _article(_page(reader_client), comment.pk)
    assert "Third version" in shown and "(edited" in shown
    history = reader_client.get(f"/comments/{comment.pk}/history").content.decode()
    assert history.index("Third version") < history.index("Second version") < history.index("First version")
    client.force_login(user("bob"))
    assert client.get(f"/comments/{comment.pk}/history").status_code == 403
    assert "earlier versions" not in _article(_page(client), comment.pk)
    client.force_login(user("mod", staff=True))
    assert "First version" in client.get(f"/comments/{comment.pk}/history").content.decode()


@pytest.mark.django_db
def test_a_comment_edited_before_history_was_kept_says_so(reader_client):
    """Edited on a site older than the history: its page said "(edited: earlier versions)" and
    the history page "This comment has not been edited"."""
    from django.utils import timezone

    comment = comments.add(reader_client.user, add_paper(KEY), "Edited long ago")
    type(comment).objects.filter(pk=comment.pk).update(edited_at=timezone.now())
    history = reader_client.get(f"/comments/{comment.pk}/history").content.decode()
    assert "has not been edited" not in history and "were not kept" in history


@pytest.mark.django_db
def test_a_comment_its_author_deleted_stays_as_a_placeholder_over_the_replies(client):
    paper = add_paper(KEY)
    alice, bob, mod = user("alice"), user("bob"), user("mod", staff=True)
    top = comments.add(alice, paper, "Does it <scale>?")
    comments.edit(alice, top, "Does it <scale> past 7B?")
    answer = comments.add(bob, paper, "Yes, see section 4.", parent=top)
    client.force_login(alice)
    assert ">Delete</summary>" in _article(_page(client), top.pk)  # the replies are not hers to take
    client.force_login(mod)
    assert ">Delete with its replies</summary>" in _article(_page(client), top.pk)
    client.force_login(alice)
    response = client.post(f"/comments/{top.pk}/delete", follow=True)
    assert "The replies others wrote to it stay." in response.content.decode()
    client.force_login(bob)
    page = _page(client)
    shown = _article(page, top.pk)
    assert (
        "[deleted]" in shown and "deleted by its author" in shown and 'aria-label="Deleted comment"' in shown
    )
    assert "alice" not in shown and "past 7B" not in page
    assert "Yes, see section 4." in _article(page, answer.pk)
    assert f'name="parent" value="{top.pk}"' not in page and "1 comment" in page
    refused = client.post(f"/papers/{KEY}/comments", {"body": "And 70B?", "parent": answer.pk})
    assert refused.status_code == 403 and "deleted comment takes no replies" in refused.content.decode()
    client.force_login(mod)
    assert client.get(f"/comments/{top.pk}/history").status_code == 404  # gone with its words
    assert "Delete with its replies" in _article(_page(client), top.pk)
    client.post(f"/comments/{top.pk}/delete")
    assert not Comment.objects.filter(paper=paper).exists()


def _confirmation(page: str, pk: int) -> str:
    """What the comment's delete disclosure says will go, in words; its form sits inside it."""
    shown = _article(page, pk)
    disclosure = re.search(r'<details class="delete-form"><summary>.*?</details>', shown, re.S)
    assert disclosure, "no delete disclosure"
    # The only delete form is the one inside the disclosure: nothing deletes in one click.
    assert shown.count(f'action="/comments/{pk}/delete"') == disclosure.group().count("/delete")
    assert ">Yes, delete</button>" in disclosure.group()
    question = re.search(rf'<p id="delete-what-{pk}">(.*?)</p>', disclosure.group(), re.S)
    return " ".join(question.group(1).split())


@pytest.mark.django_db
def test_deleting_asks_first_and_says_what_will_go(client):
    paper = add_paper(KEY)
    alice, bob, carol, mod = user("alice"), user("bob"), user("carol"), user("mod", staff=True)
    answered = comments.add(alice, paper, "Answered by others")
    bobs = comments.add(bob, paper, "A reply", parent=answered)
    comments.add(carol, paper, "Another reply", parent=answered)
    alone = comments.add(alice, paper, "Only my own replies under it")
    comments.add(alice, paper, "My own reply", parent=alone)
    single = comments.add(alice, paper, "Nobody answered")
    client.force_login(alice)
    page = _page(client)
    assert _confirmation(page, answered.pk) == (
        "Delete your comment? Its words and your name go; the 2 replies under it stay, under a "
        "placeholder that says it was deleted. This cannot be undone."
    )
    assert _confirmation(page, alone.pk) == (
        "Delete your comment and your 1 reply under it? This cannot be undone."
    )
    assert _confirmation(page, single.pk) == "Delete your comment? This cannot be undone."
    client.force_login(mod)
    page = _page(client)
    assert _confirmation(page, answered.pk) == (
        "Delete the whole thread: this comment by alice and the 2 replies under it? This cannot be undone."
    )
    assert _confirmation(page, bobs.pk) == "Delete this reply by bob? This cannot be undone."
    comments.delete(alice, answered)
    assert _confirmation(_page(client), answered.pk) == (
        "Delete the whole thread: this placeholder and the 2 replies under it? This cannot be undone."
    )
    client.force_login(bob)
    assert _confirmation(_page(client), bobs.pk) == "Delete your reply? This cannot be undone."
    # The confirmed form posts what the one-click button did: the endpoint is unchanged.
    assert client.post(f"/comments/{bobs.pk}/delete").status_code == 302
    assert not Comment.objects.filter(pk=bobs.pk).exists()


@pytest.mark.django_db
def test_comment_times_say_they_are_utc(client):
    from datetime import UTC, datetime

    alice = user("alice")
    comment = comments.add(alice, add_paper(KEY), "When?")
    Comment.objects.filter(pk=comment.pk).update(created_at=datetime(2026, 12, 1, 6, 55, tzinfo=UTC))
    shown = _article(_page(client), comment.pk)
    assert '<time datetime="2026-12-01T06:55:00Z">Dec 1, 2026 06:55 UTC</time>' in shown
    comments.edit(alice, comment, "When? Now.")  # and on the page of its earlier versions
    client.force_login(alice)
    history = client.get(f"/comments/{comment.pk}/history").content.decode()
    assert len(re.findall(r'<time datetime="[^"]+Z">[^<]+ UTC</time>', history)) == 3


@pytest.mark.django_db
def test_moderators_hide_with_a_reason_that_readers_see(client):
    paper = add_paper(KEY)
    comment = comments.add(user("mallory"), paper, "Buy cheap pills")
    client.force_login(user("bob"))
    assert client.post(f"/comments/{comment.pk}/hide", {"reason": "spam"}).status_code == 403
    client.force_login(user("mod", staff=True))
    assert client.post(f"/comments/{comment.pk}/hide", {"reason": " "}).status_code == 400
    assert client.post(f"/comments/{comment.pk}/hide", {"reason": "spam <b>"}).status_code == 302
    client.logout()
    shown = _article(_page(client), comment.pk)
    assert "hidden: spam &lt;b&gt;" in shown and "cheap pills" not in shown
    assert "0 comments" in _page(client)
    client.force_login(user("mod", staff=True))
    client.post(f"/comments/{comment.pk}/hide", {"action": "show"})
    comment.refresh_from_db()
    assert not comment.hidden and comment.hidden_reason == ""


@pytest.mark.django_db
def test_reactions_count_once_per_reader_and_toggle_without_javascript(client, reader_client):
    paper = add_paper(KEY)
    comment = comments.add(user("alice"), paper, "React to me")
    url = f"/comments/{comment.pk}/react"
    assert reader_client.post(url, {"emoji": "🚀"}).status_code == 302
    client.force_login(user("bob"))
    client.post(url, {"emoji": "🚀"})
    shown = _article(_page(reader_client), comment.pk)
    assert re.search(r'value="🚀" class="reaction reaction-mine" aria-pressed="true"[^>]*>🚀 2<', shown)
    picker = shown[shown.index('<details class="reaction-picker"') :]
    offered = re.findall(r'name="emoji" value="([^"]+)"', picker)
    assert offered == [e for e in comments.REACTIONS if e != "🚀"]  # the given one is outside it
    assert 'aria-label="rocket, 2"' in shown
    reader_client.post(url, {"emoji": "🚀"})  # the second press takes it back
    assert Reaction.objects.filter(comment=comment).count() == 1
    assert reader_client.post(url, {"emoji": "💩"}).status_code == 400
    assert reader_client.get(url).status_code == 405


@pytest.mark.django_db
def test_reactions_need_a_csrf_token_and_are_rate_limited(reader_client, settings):
    from django.test import Client

    paper = add_paper(KEY)
    comment = comments.add(user("alice"), paper, "React to me")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(reader_client.user)
    assert strict.post(f"/comments/{comment.pk}/react", {"emoji": "👍"}).status_code == 403
    settings.CONFIG = settings.CONFIG.replace(rate_votes="2/hour")
    statuses = [
        reader_client.post(f"/comments/{comment.pk}/react", {"emoji": "👍"}).status_code for _ in range(3)
    ]
    assert statuses == [302, 302, 429]


@pytest.mark.django_db
def test_each_discussion_has_an_atom_feed(client):
    paper = add_paper("hep-th/9901001", "Strings")
    top = comments.add(user("alice"), paper, "A *good* one <script>x</script>")
    comments.add(user("bob"), paper, "Agreed", parent=top)
    hidden = comments.add(user("mallory"), paper, "spam")
    comments.set_hidden([hidden], True, "spam")
    response = client.get("/papers/hep-th/9901001/comments.atom")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/atom+xml")
    feed = etree.fromstring(response.content)
    entries = feed.findall(f"{ATOM}entry")
    assert sorted(e.findtext(f"{ATOM}title") for e in entries) == ["Comment by alice", "Reply by bob"]
    content = next(
        e.findtext(f"{ATOM}content") for e in entries if e.findtext(f"{ATOM}title") == "Comment by alice"
    )
    assert "<em>good</em>" in content and "<script>" not in content
    # Feed readers parse it as the site's other feeds: a valid Atom feed with links to the comments.
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo and parsed.version == "atom10", parsed.get("bozo_exception")
    assert all("/papers/hep-th/9901001#comment-" in entry.link for entry in parsed.entries)
    assert client.get("/papers/9999.99999/comments.atom").status_code == 404
    assert 'href="/papers/hep-th/9901001/comments.atom"' in _page(client, "hep-th/9901001")
