"""A reader's account deleted (by its owner, or from the admin): their comments are withdrawn as
they would withdraw them one by one, and the counts of the papers they voted on or commented on
follow.

Their votes go with the account (ON DELETE CASCADE). Their comments lose their author instead
(SET NULL), so that a top-level comment others replied to can stay as a placeholder with the
replies under it; the rest of their comments are then deleted here (comments.withdraw). The
papers' stored counts (PaperStats), which cards, the API and trending read, are kept by the code
that adds and removes votes and comments one by one, so they are counted again here.

Both run inside the deletion's transaction: Django sends these signals within it.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, pre_delete

from paperroute.community import comments, stamp
from paperroute.community.models import Comment, PaperStats, Vote


def _remember(sender, instance, **kwargs) -> None:
    written = list(Comment.objects.filter(author=instance).only("pk", "paper_id", "parent_id"))
    instance._comments_written = written
    instance._papers_touched = set(Vote.objects.filter(user=instance).values_list("paper_id", flat=True)) | {
        c.paper_id for c in written
    }


def _recount(sender, instance, **kwargs) -> None:
    written: list[Comment] = getattr(instance, "_comments_written", [])
    if written:
        comments.withdraw(written, {c.pk for c in written})
    papers: set[int] = getattr(instance, "_papers_touched", set())
    for paper_id in papers:
        PaperStats.objects.filter(paper_id=paper_id).update(
            votes=Vote.objects.filter(paper_id=paper_id).count(),
            comments=comments.visible_count(paper_id),
        )
    if papers:
        stamp.bump()


def connect() -> None:
    user = get_user_model()
    pre_delete.connect(_remember, sender=user, dispatch_uid="paperroute-user-counts-before")
    post_delete.connect(_recount, sender=user, dispatch_uid="paperroute-user-counts-after")
