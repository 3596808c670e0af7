"""Comments: plain text, edited and deleted by their author, hidden by moderators."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from paperroute.catalog.models import Paper
from paperroute.community import ratelimit, stamp
from paperroute.community.errors import InvalidInput, NotAllowed
from paperroute.community.models import Comment, PaperStats

MAX_LENGTH = 5000


def clean_body(text: str) -> str:
    """The comment text as stored, or InvalidInput saying what is wrong with it."""
    body = (text or "").replace("\r\n", "\n").strip()
    # Control characters other than newlines and tabs cannot be shown and break XML feeds.
    body = "".join(ch for ch in body if ch in "\n\t" or ord(ch) >= 32 and ch != "\x7f")
    if not body:
        raise InvalidInput("the comment is empty", "body")
    if len(body) > MAX_LENGTH:
        raise InvalidInput(f"the comment is {len(body)} characters long; the limit is {MAX_LENGTH}",
                           "body")
    return body


def visible(paper: Paper):
    """The comments readers see, oldest first."""
    return paper.community_comments.filter(hidden=False).select_related("author")


def add(user, paper: Paper, text: str) -> Comment:
    body = clean_body(text)
    ratelimit.check("comment", str(user.pk), ratelimit.setting("RATE_COMMENTS"))
    with transaction.atomic():
        comment = Comment.objects.create(paper=paper, author=user, body=body)
        _recount(paper)
    return comment


def edit(user, comment: Comment, text: str) -> Comment:
    if comment.author_id != user.pk:
        raise NotAllowed("only its author can edit a comment")
    body = clean_body(text)
    ratelimit.check("comment", str(user.pk), ratelimit.setting("RATE_COMMENTS"))
    comment.body = body
    comment.edited_at = timezone.now()
    with transaction.atomic():
        comment.save(update_fields=["body", "edited_at"])
        stamp.bump()
    return comment


def delete(user, comment: Comment) -> None:
    if comment.author_id != user.pk and not user.is_staff:
        raise NotAllowed("only its author or a moderator can delete a comment")
    with transaction.atomic():
        paper = comment.paper
        comment.delete()
        _recount(paper)


def set_hidden(comments, hidden: bool) -> int:
    """Hide or show comments (a moderator's action); returns how many changed."""
    papers = set()
    changed = 0
    with transaction.atomic():
        for comment in comments:
            if comment.hidden != hidden:
                comment.hidden = hidden
                comment.save(update_fields=["hidden"])
                papers.add(comment.paper)
                changed += 1
        for paper in papers:
            _recount(paper)
    return changed


def _recount(paper: Paper) -> None:
    """Store the visible-comment count; counted, not incremented, since hides come in batches."""
    PaperStats.objects.bulk_create([PaperStats(paper=paper)], ignore_conflicts=True)
    # Locking the row first makes a concurrent writer wait, then count with our comment in it.
    stats = PaperStats.objects.select_for_update().get(paper=paper)
    stats.comments = Comment.objects.filter(paper=paper, hidden=False).count()
    stats.save(update_fields=["comments"])
    stamp.bump()
