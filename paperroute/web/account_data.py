"""A reader's own data, as one JSON document they can download from their settings.

Everything the site keeps about an account is here, except secrets that would let someone else
act as them: API tokens and the private feed appear by name and date, not by value. Papers are
named by their key (an arXiv id, or doi:… for a submitted paper) and title, so the file stays
readable without this site.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import Prefetch
from django.urls import reverse

from paperroute.community.models import (
    ApiToken,
    AuthorClaim,
    Comment,
    CommentRevision,
    ListingPrefs,
    NotificationPrefs,
    Reaction,
    ReplyNotice,
    Submission,
    Vote,
)
from paperroute.digest import subscriptions
from paperroute.library.models import Collection, CollectionItem, FeedKey, Follow, PaperNote, PaperState
from paperroute.web.context import absolute

FORMAT = 1  # bumped when a section's meaning changes


def _when(value: date | datetime | None) -> str | None:
    return value.isoformat() if value else None


def _paper(paper) -> dict[str, str]:
    return {"key": paper.key, "title": paper.title, "url": absolute(reverse("paper", args=[paper.key]))}


def export(user) -> dict[str, Any]:
    """Every row the site keeps for this account, by the model it is kept in."""
    comments = (
        Comment.objects.filter(author=user)
        .select_related("paper")
        .prefetch_related(
            Prefetch("revisions", queryset=CommentRevision.objects.order_by("written_at", "id"))
        )
        .order_by("created_at", "id")
    )
    collections = (
        Collection.objects.filter(owner=user)
        .prefetch_related(
            Prefetch(
                "items",
                queryset=CollectionItem.objects.select_related("paper").order_by("position", "id"),
            )
        )
        .order_by("created_at", "id")
    )
    listing = ListingPrefs.objects.filter(user=user).first()
    notifications = NotificationPrefs.objects.filter(user=user).first()
    feed = FeedKey.objects.filter(user=user).first()
    return {
        "format": FORMAT,
        "site": absolute("/"),
        "account": {
            "name": user.username,
            "email": user.email,
            "joined": _when(user.date_joined),
            "last_sign_in": _when(user.last_login),
            "moderator": user.is_staff,
        },
        "votes": [
            {"paper": _paper(vote.paper), "at": _when(vote.created_at)}
            for vote in Vote.objects.filter(user=user).select_related("paper").order_by("created_at", "id")
        ],
        "comments": [
            {
                "id": comment.pk,
                "paper": _paper(comment.paper),
                "reply_to": comment.parent_id,
                "body": comment.body,
                "written": _when(comment.created_at),
                "edited": _when(comment.edited_at),
                "hidden_by_a_moderator": comment.hidden,
                "hidden_reason": comment.hidden_reason,
                "earlier_versions": [
                    {"body": revision.body, "written": _when(revision.written_at)}
                    for revision in comment.revisions.all()
                ],
            }
            for comment in comments
        ],
        "reactions": [
            {"comment": reaction.comment_id, "emoji": reaction.emoji, "at": _when(reaction.created_at)}
            for reaction in Reaction.objects.filter(user=user).order_by("created_at", "id")
        ],
        "reply_emails": [
            {"thread": notice.thread_id, "day": _when(notice.day)}
            for notice in ReplyNotice.objects.filter(user=user).order_by("day", "id")
        ],
        "submissions": [
            {"paper": _paper(submission.paper), "at": _when(submission.created_at)}
            for submission in Submission.objects.filter(user=user)
            .select_related("paper")
            .order_by("created_at")
        ],
        "author_claims": [
            {
                "paper": _paper(claim.paper),
                "as": claim.author.name,
                "status": claim.status,
                "made": _when(claim.created_at),
                "changed": _when(claim.changed_at),
            }
            for claim in AuthorClaim.objects.filter(user=user).select_related("paper", "author")
        ],
        "api_tokens": [
            {
                "name": token.name,
                "starts_with": token.prefix,
                "made": _when(token.created_at),
                "last_used": _when(token.last_used_at),
            }
            for token in ApiToken.objects.filter(user=user).order_by("created_at", "id")
        ],
        "settings": {
            "listing_categories": listing.categories if listing else [],
            "reply_emails": notifications.reply_mail if notifications else True,
            "private_feed_made": _when(feed.created_at) if feed else None,
        },
        "collections": [
            {
                "name": collection.name,
                "description": collection.description,
                "public": collection.public,
                "saved_papers": collection.is_default,
                "made": _when(collection.created_at),
                "papers": [
                    {"paper": _paper(item.paper), "note": item.note, "added": _when(item.added_at)}
                    for item in collection.items.all()
                ],
            }
            for collection in collections
        ],
        "notes": [
            {"paper": _paper(note.paper), "text": note.text, "updated": _when(note.updated_at)}
            for note in PaperNote.objects.filter(user=user)
            .select_related("paper")
            .order_by("updated_at", "id")
        ],
        "reading": [
            {
                "paper": _paper(state.paper),
                "read": _when(state.read_at),
                "not_interested": _when(state.dismissed_at),
            }
            for state in PaperState.objects.filter(user=user).select_related("paper").order_by("id")
        ],
        "follows": [
            {
                "kind": follow.kind,
                "value": follow.value,
                "label": follow.label,
                "since": _when(follow.created_at),
            }
            for follow in Follow.objects.filter(user=user).order_by("created_at", "id")
        ],
        "digest_subscriptions": [
            {
                "email": subscriber.email,
                "status": subscriber.status,
                "frequency": subscriber.frequency,
                "max_papers": subscriber.max_papers,
                "categories": subscriber.categories,
                "topics": subscriber.topics,
                "made": _when(subscriber.created_at),
                "confirmed": _when(subscriber.confirmed_at),
            }
            for subscriber in subscriptions.of_account(user)
        ],
    }
