"""Upvotes: one per user per paper, counted exactly even when clicks race each other."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from paperroute.catalog.models import Paper
from paperroute.community import ratelimit, stamp
from paperroute.community.models import PaperStats, Vote


@dataclass
class VoteState:
    """What the upvote button shows after a click."""

    upvoted: bool
    upvotes: int  # community votes plus the Hugging Face upvotes the paper arrived with


def set_vote(user, paper: Paper, upvoted: bool) -> VoteState:
    """Make the user's vote on the paper be `upvoted`; repeating a request changes nothing."""
    ratelimit.check("vote", str(user.pk), ratelimit.setting("RATE_VOTES"))
    with transaction.atomic():
        _ensure_stats(paper)
        if upvoted:
            try:
                # The unique constraint decides which of two racing clicks adds the vote; the
                # loser's insert fails inside its savepoint and it changes nothing.
                with transaction.atomic():
                    Vote.objects.create(user=user, paper=paper, created_at=timezone.now())
                changed = 1
            except IntegrityError:
                changed = 0
        else:
            changed = -Vote.objects.filter(user=user, paper=paper).delete()[0]
        if changed:
            PaperStats.objects.filter(paper=paper).update(votes=F("votes") + changed)
            stamp.bump()
    return state(user, paper)


def toggle(user, paper: Paper) -> VoteState:
    """Flip the user's vote on the paper."""
    return set_vote(user, paper, not has_voted(user, paper))


def has_voted(user, paper: Paper) -> bool:
    return bool(user.is_authenticated) and Vote.objects.filter(user=user, paper=paper).exists()


def voted_ids(user, paper_ids) -> set[int]:
    """Which of these papers the user has upvoted."""
    if not user.is_authenticated:
        return set()
    return set(
        Vote.objects.filter(user=user, paper_id__in=list(paper_ids)).values_list("paper_id", flat=True)
    )


def count(paper: Paper) -> int:
    """Community votes plus Hugging Face upvotes."""
    community = PaperStats.objects.filter(paper=paper).values_list("votes", flat=True).first() or 0
    return community + (paper.hf_upvotes or 0)


def state(user, paper: Paper) -> VoteState:
    return VoteState(upvoted=has_voted(user, paper), upvotes=count(paper))


def _ensure_stats(paper: Paper) -> None:
    PaperStats.objects.bulk_create([PaperStats(paper=paper)], ignore_conflicts=True)
