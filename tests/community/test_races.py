"""Community writes that meet: a moderator hiding comments while readers vote, two tabs editing
one comment, two readers taking one name, the first two changes of a new site, a reply and its
thread's deletion."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from paperroute.community import accounts, comments, ratelimit, stamp, votes
from paperroute.community.errors import InvalidInput, NotAllowed
from paperroute.community.models import Comment, CommentRevision, PaperStats, SiteStamp
from tests.community.helpers import add_paper, together, user


@pytest.mark.django_db(transaction=True)
def test_hiding_comments_on_several_papers_while_a_reader_votes_deadlocks_no_one():
    """Hiding a spammer's comments locked one paper's counts, then the site stamp, then the next
    paper's: a vote holding that paper's counts and wanting the stamp deadlocked with it, and
    PostgreSQL failed one of them (a 500 for the reader, or for the moderator)."""
    first, second = add_paper("2411.00001"), add_paper("2411.00002")
    spam = user("spammer")
    for paper in (first, second):
        comments.add(spam, paper, "buy now")
    voter = user("voter")
    votes.set_vote(voter, second, True)
    votes.set_vote(voter, second, False)  # the paper's count row exists, as it would
    holding = threading.Event()

    def vote():
        # What votes.set_vote does, held open: the paper's counts first, the stamp last.
        with transaction.atomic():
            PaperStats.objects.select_for_update().get(paper=second)
            holding.set()
            time.sleep(0.6)  # meanwhile the moderator's hide reaches this paper
            stamp.bump()

    def hide():
        holding.wait(timeout=10)
        comments.set_hidden(spam.comments.order_by("paper_id"), True, "spam")

    assert together([vote, hide], pause=0.01) == []
    assert PaperStats.objects.get(paper=first).comments == PaperStats.objects.get(paper=second).comments == 0


@pytest.mark.django_db(transaction=True)
def test_two_edits_of_one_comment_at_once_both_stay_in_its_history():
    """Each request edits the comment as it loaded it: the second kept the original as the
    earlier version, and the first edit was in neither the comment nor its history."""
    author = user("author")
    posted = comments.add(author, add_paper("2411.00003"), "original text")
    tab_a = type(posted).objects.get(pk=posted.pk)
    tab_b = type(posted).objects.get(pk=posted.pk)
    comments.edit(author, tab_a, "edit from tab A")
    comments.edit(author, tab_b, "edit from tab B")
    history = list(
        CommentRevision.objects.filter(comment=posted).order_by("pk").values_list("body", flat=True)
    )
    assert history == ["original text", "edit from tab A"]
    posted.refresh_from_db()
    assert posted.body == "edit from tab B"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("names", [("grace", "grace"), ("ada", "Ada")])
def test_two_readers_taking_one_name_at_once_one_gets_it(monkeypatch, names):
    """The name was checked, then saved: two readers at once both passed the check, and
    then both got names that differ only in case, or one got a 500 (the unique index)."""
    readers = [user("first"), user("second")]
    check = ratelimit.check

    def slow_check(*args, **kwargs):  # the moment between the check and the save, widened
        check(*args, **kwargs)
        time.sleep(0.4)

    monkeypatch.setattr(accounts.ratelimit, "check", slow_check)
    errors = together([lambda r=r, n=n: accounts.rename(r, n) for r, n in zip(readers, names, strict=True)])
    assert len(errors) == 1 and isinstance(errors[0], InvalidInput), errors
    assert "is taken" in str(errors[0])
    from django.contrib.auth import get_user_model

    assert get_user_model().objects.filter(username__iexact=names[0]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_first_two_changes_of_a_new_site_are_two():
    """No row held the stamp until the first change: two at once both made it 1, and a page
    cached between them was served after the second."""
    SiteStamp.objects.all().delete()
    started = threading.Event()

    def first():
        with transaction.atomic():
            stamp.bump()
            started.set()
            time.sleep(0.6)

    def second():
        started.wait(timeout=10)
        stamp.bump()

    assert together([first, second], pause=0.01) == []
    assert SiteStamp.objects.get(name=stamp.NAME).value == 2


def _slow_after_asking_who_replied(execute, sql, params, many, context):
    """Holds a deletion between "who else replied to this comment?" (withdraw) and acting on the
    answer, while another reader writes in the thread."""
    result = execute(sql, params, many, context)
    if sql.lstrip().startswith("SELECT") and '"parent_id"' in sql and "NOT" in sql:
        time.sleep(0.8)
    return result


@pytest.mark.django_db(transaction=True)
def test_a_reply_posted_while_its_thread_is_deleted_is_refused_not_lost():
    """The deletion found no replies by others and deleted the comment, and with it the reply
    stored meanwhile: silently on PostgreSQL, with a 500 for the replier on SQLite."""
    paper = add_paper("2411.00911")
    alice, bob = user("alice"), user("bob")
    top = comments.add(alice, paper, "Does it scale?")

    def delete():
        with connection.execute_wrapper(_slow_after_asking_who_replied):
            comments.delete(alice, Comment.objects.get(pk=top.pk))

    def reply():
        comments.add(bob, paper, "Yes, see section 4.", parent=Comment.objects.get(pk=top.pk))

    errors = together([delete, reply], pause=0.3)
    assert [str(e) for e in errors] == ["the comment you replied to was deleted"]
    assert isinstance(errors[0], NotAllowed)
    assert not Comment.objects.filter(paper=paper).exists()


@pytest.mark.django_db(transaction=True)
def test_the_last_reply_deleted_while_its_thread_is_deleted_leaves_no_placeholder():
    """The deletion saw the reply and kept a placeholder for it while the reply was being
    deleted, which looked for a placeholder to drop before there was one: an empty
    "[deleted]" stayed for good (PostgreSQL)."""
    paper = add_paper("2411.00912")
    alice, bob = user("alice"), user("bob")
    top = comments.add(alice, paper, "Does it scale?")
    reply = comments.add(bob, paper, "Yes.", parent=top)

    def delete_top():
        with connection.execute_wrapper(_slow_after_asking_who_replied):
            comments.delete(alice, Comment.objects.get(pk=top.pk))

    def delete_reply():
        comments.delete(bob, Comment.objects.get(pk=reply.pk))

    assert together([delete_top, delete_reply], pause=0.3) == []
    assert not Comment.objects.filter(paper=paper).exists()
    assert PaperStats.objects.get(paper=paper).comments == 0
