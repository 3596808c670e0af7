"""A reader's account deleted (from the admin): the counts of the papers they voted on or
commented on follow.

Their votes and comments go with the account (ON DELETE CASCADE), but the papers' stored counts
(PaperStats), which cards, the API and trending read, are kept by the code that adds and removes
votes and comments one by one, and no code ran: the counts kept the deleted reader's share.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, pre_delete

from paperroute.community import comments, stamp
from paperroute.community.models import Comment, PaperStats, Vote


def _remember(sender, instance, **kwargs) -> None:
    instance._papers_touched = set(
        Vote.objects.filter(user=instance).values_list("paper_id", flat=True)
    ) | set(Comment.objects.filter(author=instance).values_list("paper_id", flat=True))


def _recount(sender, instance, **kwargs) -> None:
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
