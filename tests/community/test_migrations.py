"""Data migrations, run on rows as an older paperroute stored them."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from paperroute.catalog.models import Author, Paper
from paperroute.community import notify, stamp
from paperroute.community.models import AuthorClaim, AuthorLog, NotificationPrefs
from tests.community.helpers import add_paper, user

BEFORE, AFTER = ("community", "0004_authors_notifications"), ("community", "0005_thread_old_replies")


def _migrate(target):
    """The schema as `target` leaves it, and the models as they were then (today's may have
    columns that the schema does not have yet)."""
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    return MigrationExecutor(connection).loader.project_state(target).apps


@pytest.fixture(autouse=True)
def _latest_schema_after():
    """The schema put back as the migrations leave it, for the tests that run after these."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_flat_replies_of_the_first_release_become_threaded_replies():
    paper, other = add_paper("2411.00951"), add_paper("2411.00952")
    alice, bob, carol = user("alice"), user("bob"), user("carol")
    then = _migrate(BEFORE).get_model("community", "Comment").objects
    top = then.create(paper_id=paper.pk, author_id=alice.pk, body="Does it scale?")
    old = lambda who, to, text, on=paper: then.create(  # noqa: E731
        paper_id=on.pk,
        author_id=who.pk,
        body=f"↪ reply to comment #{to.pk} by @{to.author.username}:\n{text}",
    )
    answer = old(bob, top, "Yes, see section 4.")
    # A reply to that reply, and a new-style reply someone made to the old one after upgrading.
    again = old(carol, answer, "Where in section 4?")
    newer = then.create(paper_id=paper.pk, author_id=alice.pk, body="Thanks", parent_id=answer.pk)
    # Left as they are: a reference to a comment on another paper, or to none.
    elsewhere = old(bob, top, "Wrong paper.", on=other)
    missing = then.create(paper_id=paper.pk, author_id=bob.pk, body="↪ reply to comment #999999 by @x:\nHi")
    before = stamp.current()
    after = _migrate(AFTER).get_model("community", "Comment").objects
    assert stamp.current() != before  # cached pages are made again
    shown = {c.pk: (c.parent_id, c.body) for c in after.all()}
    assert shown[answer.pk] == (top.pk, "Yes, see section 4.")
    assert shown[again.pk] == (top.pk, "Where in section 4?")
    assert shown[newer.pk] == (top.pk, "Thanks")  # one level deep
    assert shown[elsewhere.pk] == (None, elsewhere.body) and shown[missing.pk] == (None, missing.body)
    assert Paper.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_name_verified_twice_on_one_paper_keeps_its_first_verified_user():
    """Verified claims were unique by place in the list and are unique by author now, so a paper
    listing one spelling twice could hold two; the later one is revoked, with a log line."""
    paper = add_paper("2411.00953", authors=("Wei Zhang", "Ada Lovelace", "Wei Zhang"))
    first, second = user("wei1"), user("wei2")
    _migrate(("community", "0006_rate_window_period"))
    wei = Author.objects.get(name="Wei Zhang")
    kept = AuthorClaim.objects.create(paper=paper, author=wei, position=0, user=first, status="approved")
    AuthorClaim.objects.filter(pk=kept.pk).update(changed_at=timezone.now() - timedelta(days=1))
    later = AuthorClaim.objects.create(paper=paper, author=wei, position=2, user=second, status="approved")
    _migrate(("community", "0007_verified_by_author"))
    statuses = dict(AuthorClaim.objects.values_list("user__username", "status"))
    assert statuses == {"wei1": "approved", "wei2": "revoked"}
    log = AuthorLog.objects.get(claim_id=later.pk)
    assert (log.action, log.actor) == ("revoked", None) and "verified for another user first" in log.detail


@pytest.mark.django_db(transaction=True)
def test_going_back_before_placeholders_keeps_the_replies_as_comments():
    """The release before 0008 requires an author on every comment: the rollback failed on a
    site with a placeholder (PostgreSQL), and dropping the placeholders would take the replies."""
    from paperroute.community import comments

    paper = add_paper("2411.00954")
    alice, bob = user("alice"), user("bob")
    top = comments.add(alice, paper, "Does it scale?")
    answer = comments.add(bob, paper, "Yes, see section 4.", parent=top)
    assert comments.delete(alice, top) is True
    then = _migrate(("community", "0007_verified_by_author")).get_model("community", "Comment").objects
    assert list(then.values_list("pk", "author_id", "parent_id", "body")) == [
        (answer.pk, bob.pk, None, "Yes, see section 4.")
    ]


@pytest.mark.django_db(transaction=True)
def test_preferences_stored_before_stop_keys_each_get_a_key_of_their_own():
    """Reply mails' stop links name a random key kept with the preferences; the rows already
    there are given one each by the migration (a column default would give them all one)."""
    alice, bob = user("alice"), user("bob")
    then = _migrate(("community", "0008_deleted_comments_keep_replies"))
    then.get_model("community", "NotificationPrefs").objects.create(user_id=alice.pk, reply_mail=False)
    then.get_model("community", "NotificationPrefs").objects.create(user_id=bob.pk, reply_mail=True)
    _migrate(("community", "0009_notificationprefs_stop_key"))
    keys = dict(NotificationPrefs.objects.values_list("user__username", "stop_key"))
    assert len(set(keys.values())) == 2 and all(len(key) >= 32 for key in keys.values())
    assert notify.user_for_token(notify.stop_token(alice)) == alice and not notify.wants_reply_mail(alice)
    assert notify.user_for_token(keys["bob"]) == bob and notify.wants_reply_mail(bob)
