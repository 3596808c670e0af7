"""Reply notifications: a comment's author hears of replies by email, once per thread per day.

A mail goes out when the first reply of a day arrives in a thread, to the reader who started it
and, for a reply to a reply, to that reply's author, unless they wrote it themselves or turned
these mails off. Which request sends it is decided by
inserting a ReplyNotice row under a unique constraint, so concurrent replies handled by several
processes still send one mail. A reply that is hidden or deleted before the mail goes (it goes
once the reply's transaction commits) sends nothing.
"""

from __future__ import annotations

import logging
from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from paperroute import mail
from paperroute.community.models import Comment, NotificationPrefs, ReplyNotice

log = logging.getLogger(__name__)
SALT = "paperroute.community.reply-mail"


def wants_reply_mail(user) -> bool:
    prefs = NotificationPrefs.objects.filter(user=user).first()
    return prefs.reply_mail if prefs else True


def set_reply_mail(user, wanted: bool) -> None:
    NotificationPrefs.objects.update_or_create(user=user, defaults={"reply_mail": wanted})


def stop_token(user) -> str:
    """A token that turns reply mails off for its user, without signing in; it does not expire.

    It is the random key kept with the reader's preferences, so it names no account id, and it
    stops working when the account is deleted."""
    prefs, _ = NotificationPrefs.objects.get_or_create(user=user)
    return prefs.stop_key


def user_for_token(token: str):
    """The user a stop token names, or None when it is forged or the account is gone."""
    if ":" in token:
        return _user_for_signed_token(token)
    prefs = NotificationPrefs.objects.select_related("user").filter(stop_key=token).first()
    return prefs.user if prefs else None


def _user_for_signed_token(token: str):
    """The user of a stop token from before stop keys: a signed account id, readable by anyone.

    Those links never expired, and the mails that carry them stay in inboxes, so they are
    accepted for good; none is issued any more. (A key never holds a ":"; a signed token does.)"""
    try:
        pk = signing.loads(token, salt=SALT)["u"]
    except (signing.BadSignature, KeyError, TypeError):
        return None
    if not isinstance(pk, int):
        return None
    return get_user_model().objects.filter(pk=pk).first()


def reply_added(reply: Comment, answered: Comment | None = None) -> None:
    """Called when a reply is stored: mail once its transaction commits. `answered` is the reply
    it answered, when it answered one rather than the thread's first comment."""
    if reply.parent_id is None:
        return
    answered_pk = answered.pk if answered is not None and answered.pk != reply.parent_id else None
    transaction.on_commit(lambda: _notify(reply.pk, answered_pk))


def _notify(reply_pk: int, answered_pk: int | None = None, today: date | None = None) -> bool:
    """Send the mails due for a stored reply: to the thread's author and to the author of the
    reply it answered, each at most once a day for the thread; whether any was sent."""
    reply = Comment.objects.select_related("paper", "author", "parent__author").filter(pk=reply_pk).first()
    # Deleted, or hidden by a moderator, before this ran: nothing to tell anyone about.
    if (
        reply is None
        or reply.hidden
        or reply.parent is None
        or reply.parent.hidden
        or reply.parent.deleted_at
    ):
        return False
    recipients = [reply.parent.author]
    answered = None
    if answered_pk is not None:
        answered = Comment.objects.select_related("author").filter(pk=answered_pk, hidden=False).first()
    if answered is not None and answered.author_id != reply.parent.author_id:
        recipients.append(answered.author)
    sent = [_mail(reply, recipient, today) for recipient in recipients]
    return any(sent)


def _mail(reply: Comment, recipient, today: date | None) -> bool:
    """One reader's mail about a reply in a thread, unless they wrote it, cannot or would rather
    not get it, or had today's for this thread already."""
    thread = reply.parent
    assert thread is not None and reply.author is not None
    if recipient.pk == reply.author_id or not recipient.email or not recipient.is_active:
        return False
    if not wants_reply_mail(recipient):
        return False
    day = today or timezone.localdate()
    try:
        with transaction.atomic():
            notice = ReplyNotice.objects.create(user=recipient, thread=thread, day=day)
    except IntegrityError:  # this thread's mail of the day has gone (or is going) already
        return False
    site = settings.CONFIG.site_url.rstrip("/")
    paper = reply.paper
    title = paper.title_text
    context = {
        "user": recipient,
        "replier": reply.author.username,
        "title": title,
        "paper_key": paper.key,
        "thread_url": site + reverse("paper", args=[paper.key]) + f"#comment-{thread.pk}",
        "reply_url": site + reverse("paper", args=[paper.key]) + f"#comment-{reply.pk}",
        "excerpt": " ".join(reply.body.split())[:300],
        "stop_url": site + reverse("reply_mail_stop", args=[stop_token(recipient)]),
        "settings_url": site + reverse("account_settings"),
    }
    try:
        mail.send(
            recipient.email,
            f"New reply to your comment on “{title[:120]}”",
            render_to_string("email/reply.txt", context),
            render_to_string("email/reply.html", context),
            # Mail clients show an unsubscribe button for it (RFC 2369); the page it opens asks
            # before it stops anything, as the link in the text does.
            headers={"List-Unsubscribe": f"<{context['stop_url']}>"},
        )
    except OSError:  # smtplib's errors included
        # The reply itself is stored; a later one today may try again.
        log.exception("could not send the reply notification for comment %s", reply.pk)
        notice.delete()
        return False
    return True
