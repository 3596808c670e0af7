"""Reply notifications through a real SMTP server: one mail per thread per day, never for one's
own reply or a hidden one, off by a setting or by the mail's own link (without signing in)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.test import Client
from django.utils import timezone

from paperroute.community import accounts, comments, notify
from paperroute.community.models import ReplyNotice
from tests.community.helpers import add_paper, user
from tests.support import readable

KEY = "2411.00901"
TITLE = "Sparse attention for <long> documents"


@pytest.fixture
def thread(db):
    paper = add_paper(KEY, TITLE)
    alice = user("alice")
    return paper, comments.add(alice, paper, "Does this scale to books?")


def _reply(who, top, body, capture):
    """Post a reply the way a reader does, and run what waits for the commit (the mail)."""
    client = Client()
    client.force_login(who)
    with capture(execute=True):
        response = client.post(f"/papers/{KEY}/comments", {"body": body, "parent": str(top.pk)})
    assert response.status_code == 302, response.content[:300]
    return response


def _to_alice(mailbox):
    return [m for m in mailbox.messages if "alice@example.org" in str(m["To"])]


def test_two_replies_in_a_day_send_one_mail_naming_the_paper_and_linking_the_thread(
    thread, mailbox, django_capture_on_commit_callbacks
):
    paper, top = thread
    _reply(user("bob"), top, "Yes, see section 4.", django_capture_on_commit_callbacks)
    message = mailbox.wait_for("alice@example.org")
    _reply(user("carol"), top, "And the appendix.", django_capture_on_commit_callbacks)
    assert len(_to_alice(mailbox)) == 1
    text = mailbox.text(message)
    assert TITLE in message["Subject"] and TITLE in text and "bob replied" in text
    assert f"/papers/{KEY}#comment-{top.pk}" in text
    html = message.get_body(preferencelist=("html",)).get_content()
    # The title is escaped in the HTML part, and the thread is a link there too.
    assert "Sparse attention for &lt;long&gt; documents" in html and f"#comment-{top.pk}" in html
    # Nobody else was mailed: not the repliers.
    assert all("alice@example.org" in str(m["To"]) for m in mailbox.messages)


def test_the_next_day_brings_another_mail(thread, mailbox, django_capture_on_commit_callbacks):
    paper, top = thread
    _reply(user("bob"), top, "First.", django_capture_on_commit_callbacks)
    mailbox.wait_for("alice@example.org")
    # A day passes: yesterday's mail is yesterday's.
    ReplyNotice.objects.update(day=timezone.localdate() - timedelta(days=1))
    _reply(user("bob"), top, "Second, a day later.", django_capture_on_commit_callbacks)
    second = mailbox.wait_for("alice@example.org", count=2)
    assert "Second, a day later." in mailbox.text(second)
    assert ReplyNotice.objects.count() == 2


def test_ones_own_reply_sends_nothing(thread, mailbox, django_capture_on_commit_callbacks):
    paper, top = thread
    _reply(user("alice"), top, "Answering myself.", django_capture_on_commit_callbacks)
    _reply(user("bob"), top, "Someone else.", django_capture_on_commit_callbacks)
    # Only bob's reply made a mail (and the ordering proves the first was not merely slow).
    message = mailbox.wait_for("alice@example.org")
    assert "bob replied" in mailbox.text(message) and len(_to_alice(mailbox)) == 1


def test_a_reply_hidden_before_the_mail_goes_sends_nothing(
    thread, mailbox, django_capture_on_commit_callbacks
):
    paper, top = thread
    with django_capture_on_commit_callbacks() as waiting:
        reply = comments.add(user("bob"), paper, "spam spam", parent=top)
    comments.set_hidden([reply], True, "spam")
    for callback in waiting:
        callback()
    assert notify._notify(reply.pk) is False
    assert _to_alice(mailbox) == [] and not ReplyNotice.objects.exists()


def test_a_reply_to_a_comment_deleted_before_the_mail_goes_sends_nothing(
    thread, mailbox, django_capture_on_commit_callbacks
):
    """Its author deleted the comment (it stays as a placeholder over the reply, without an
    author): there is nobody to tell."""
    paper, top = thread
    with django_capture_on_commit_callbacks() as waiting:
        reply = comments.add(user("bob"), paper, "See chapter 3", parent=top)
    assert comments.delete(user("alice"), top) is True
    for callback in waiting:
        callback()
    assert notify._notify(reply.pk) is False
    assert mailbox.messages == [] and not ReplyNotice.objects.exists()


def test_turning_reply_mails_off_on_the_settings_page(thread, mailbox, django_capture_on_commit_callbacks):
    paper, top = thread
    alice = Client()
    alice.force_login(user("alice"))
    page = alice.get("/account/settings").content.decode()
    assert re.search(r'name="reply_mail"[^>]*checked', page)  # on by default
    response = alice.post("/account/settings", {"form": "notifications"})  # the box unticked
    assert response.status_code == 302
    assert not re.search(r'name="reply_mail"[^>]*checked', alice.get("/account/settings").content.decode())
    _reply(user("bob"), top, "You will not hear of this.", django_capture_on_commit_callbacks)
    assert _to_alice(mailbox) == [] and not ReplyNotice.objects.exists()
    alice.post("/account/settings", {"form": "notifications", "reply_mail": "on"})
    _reply(user("bob"), top, "But of this.", django_capture_on_commit_callbacks)
    assert "But of this." in mailbox.text(mailbox.wait_for("alice@example.org"))


def test_the_stop_link_in_the_mail_works_without_signing_in(
    thread, mailbox, django_capture_on_commit_callbacks
):
    paper, top = thread
    _reply(user("bob"), top, "Hello.", django_capture_on_commit_callbacks)
    message = mailbox.wait_for("alice@example.org")
    text = mailbox.text(message)
    link = re.search(r"https?://\S+/account/replies/stop/\S+", text).group(0)
    assert message["List-Unsubscribe"].strip() == f"<{link}>"  # the mail client's button: the same page
    path = link[link.index("/account/") :]
    stranger = Client(enforce_csrf_checks=True)
    page = stranger.get(path)
    # Opening the link (as mail scanners do) changes nothing; the button does.
    assert page.status_code == 200 and "Stop these emails" in page.content.decode()
    assert notify.wants_reply_mail(user("alice"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    done = stranger.post(path, {"csrfmiddlewaretoken": token})
    assert done.status_code == 200 and "Reply emails stopped" in done.content.decode()
    assert not notify.wants_reply_mail(user("alice"))
    ReplyNotice.objects.all().delete()
    _reply(user("bob"), top, "Unheard.", django_capture_on_commit_callbacks)
    assert len(_to_alice(mailbox)) == 1


def test_a_forged_or_cut_stop_link_is_refused(thread, client):
    good = notify.stop_token(user("alice"))
    before_keys = signing.dumps({"u": user("alice").pk}, salt=notify.SALT)  # an earlier release's link
    forged = signing.dumps({"u": user("alice").pk}, salt="another site")
    changed = good[:-1] + ("B" if good[-1] == "A" else "A")
    for token in (good[:-3], "nonsense", changed, before_keys.replace(":", "."), forged):
        response = client.post(f"/account/replies/stop/{token}")
        assert response.status_code == 404 and "This link is not valid" in response.content.decode()
    assert notify.wants_reply_mail(user("alice"))


# An id that no test database reaches by counting: if it is in a link, it was put there.
DISTINCT_PK = 987_654


def test_the_stop_link_names_no_account_id_and_goes_with_the_account(
    mailbox, django_capture_on_commit_callbacks, db
):
    """A signed token is not encrypted: anyone can decode its payload, which named the account's
    id, a number that tells how many accounts the site has."""
    paper = add_paper(KEY, TITLE)
    fay = get_user_model().objects.create(pk=DISTINCT_PK, username="fay", email="fay@example.org")
    top = comments.add(fay, paper, "Does this scale to books?")
    _reply(user("bob"), top, "Hello.", django_capture_on_commit_callbacks)
    text = mailbox.text(mailbox.wait_for("fay@example.org"))
    link = re.search(r"https?://\S+/account/replies/stop/(\S+)", text)
    assert str(DISTINCT_PK) not in readable(link.group(1))
    path = link.group(0)[link.group(0).index("/account/") :]
    assert "Stop these emails" in Client().get(path).content.decode()
    accounts.delete(fay)
    gone = Client().get(path)
    assert gone.status_code == 404 and "This link is not valid" in gone.content.decode()


def test_a_stop_link_mailed_before_keys_still_works(thread, client):
    """Links mailed by earlier releases named the account's id and never expired: they are in
    inboxes for good, so they keep working, until the account is deleted."""
    alice = user("alice")
    old = f"/account/replies/stop/{signing.dumps({'u': alice.pk}, salt=notify.SALT)}"
    assert "Stop these emails" in client.get(old).content.decode()
    done = client.post(old)
    assert done.status_code == 200 and "Reply emails stopped" in done.content.decode()
    assert not notify.wants_reply_mail(alice)
    accounts.delete(alice)
    assert client.get(old).status_code == 404


def test_concurrent_senders_send_once(thread, mailbox):
    """Two processes handling replies race: the unique row lets exactly one of them send."""
    paper, top = thread
    first = comments.Comment.objects.create(paper=paper, author=user("bob"), body="one", parent=top)
    second = comments.Comment.objects.create(paper=paper, author=user("carol"), body="two", parent=top)
    assert [notify._notify(first.pk), notify._notify(second.pk)] == [True, False]
    mailbox.wait_for("alice@example.org")
    assert len(_to_alice(mailbox)) == 1


def test_a_reply_to_a_reply_mails_its_author_too(thread, mailbox, django_capture_on_commit_callbacks):
    paper, top = thread
    bob, carol = user("bob"), user("carol")
    with django_capture_on_commit_callbacks(execute=True):
        answer = comments.add(bob, paper, "Section 4 says so.", parent=top)
    mailbox.wait_for("alice@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        comments.add(carol, paper, "Where in section 4?", parent=answer)  # joins alice's thread
    to_bob = mailbox.wait_for("bob@example.org")
    assert "carol replied" in mailbox.text(to_bob) and "Where in section 4?" in mailbox.text(to_bob)
    # Alice had today's mail for her thread already; carol herself gets none.
    assert len(_to_alice(mailbox)) == 1
    assert not [m for m in mailbox.messages if "carol@example.org" in str(m["To"])]
