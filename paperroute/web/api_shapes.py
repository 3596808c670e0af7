"""What the JSON API returns, in the shapes of Hugging Face's papers API.

Field names, types and formats follow Hugging Face's published OpenAPI description and what the
`huggingface_hub` client parses (its PaperInfo, PaperAuthor and User classes): datetimes are ISO 8601
in UTC with a `Z`, ids are strings. Fields only this site has come after the shared ones; the README's
"Hugging Face API compatibility" table lists every difference.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from django.templatetags.static import static
from django.urls import reverse
from pydantic import BaseModel, Field

from paperroute.catalog.models import Paper
from paperroute.catalog.records import arxiv_month
from paperroute.catalog.textclean import display_name
from paperroute.community import authors, votes
from paperroute.community.models import AuthorClaim, Comment
from paperroute.web.context import absolute


class Out(BaseModel):
    """A response shape. Filled from dicts, so plain pydantic: ninja's Schema reads each value
    through a getter made for ORM objects, about 1 ms of a 20-paper response."""


class UserOut(Out):
    """A person who submitted a paper or wrote a comment, as Hugging Face's "user overview"."""

    id_: str = Field(
        alias="_id",
        description="'u<number>' for an account here, 'hf:<name>' for a Hugging Face user known only by name",
    )
    user: str = Field(description="the username (huggingface_hub reads it from here)")
    name: str = Field(description="the username")
    fullname: str
    avatarUrl: str = Field(description="no avatars here: the site's icon")
    isPro: bool = False
    type: str = "user"


class AuthorOut(Out):
    id_: str = Field(alias="_id", description="the author's id here, 'a<number>'")
    name: str
    hidden: bool = False
    # As on Hugging Face, only for an author a user has claimed (and a moderator verified).
    user: UserOut | None = Field(None, description="the user verified as this author, if any")
    status: str | None = Field(None, description="'claimed_verified' for a verified author, else absent")
    statusLastChangedAt: datetime | None = Field(None, description="when the claim was approved")


class PaperOut(Out):
    id: str
    authors: list[AuthorOut]
    publishedAt: datetime | None = Field(
        description="arXiv submission time of the first version; for a paper known only from "
        "arXiv's daily listing, which gives no time, the day it was announced as new, at 00:00 UTC; "
        "null for one the listing showed only as a replacement or cross-list, and for a paper not "
        "on arXiv that came without a date"
    )
    submittedOnDailyAt: datetime | None = Field(
        description="the day the paper was listed on the daily page, at 00:00 UTC"
    )
    submittedOnDailyBy: UserOut | None = Field(description="who submitted it, if anyone did")
    title: str
    summary: str
    upvotes: int = Field(description="community upvotes plus Hugging Face upvotes")
    discussionId: str = Field(description="the paper's comment thread (one per paper here)")
    githubRepo: str | None
    githubStars: int | None
    projectPage: str | None
    ai_summary: str | None
    ai_keywords: list[str]
    numComments: int
    categories: list[str] = Field(description="primary category first")
    arxivUrl: str | None
    pdfUrl: str | None
    url: str = Field(description="the paper's page on this site")


class CommentOut(Out):
    id: str
    author: UserOut
    createdAt: datetime
    editedAt: datetime | None
    content: str = Field(description="the comment's Markdown, as written")
    replyTo: str | None = Field(
        description="the thread's top comment, when this one is a reply; one hidden by a moderator or "
        "deleted by its author is not listed (a reply stays under it, as on the paper page)"
    )


class PaperDetailOut(PaperOut):
    comments: list[CommentOut] | None = Field(
        None, description="only with ?field=comments: the visible comments, oldest first"
    )


class DailyItemOut(Out):
    paper: PaperOut
    publishedAt: datetime | None = Field(description="as paper.publishedAt (Hugging Face's meaning)")
    title: str
    summary: str
    thumbnail: str = Field(description="no thumbnails here: the site's icon")
    numComments: int
    submittedBy: UserOut | None = Field(
        description="null when nobody submitted the paper (it came from an arXiv listing)"
    )
    isAuthorParticipating: bool = Field(
        description="true when a user verified as one of the paper's authors (a claim a moderator approved)"
    )


def day_start(day: date | None) -> datetime | None:
    """A day as the datetime Hugging Face sends for it: 00:00 UTC."""
    return datetime.combine(day, time(0), tzinfo=UTC) if day else None


def day_only(when: datetime) -> bool:
    """Whether a datetime is a day without a time, as day_start and Hugging Face write one."""
    return when.astimezone(UTC).time() == time(0)


def published_at(paper: Paper) -> datetime | None:
    """paper.publishedAt: arXiv's submission time, else the day arXiv announced the paper as new
    (its daily listing, the RSS feed, gives no time), which Hugging Face's clients read as the
    paper's date. None (null, which they accept) for a paper the listing showed only as a
    replacement or cross-list, and for one not on arXiv without a date. `PUBLISHED_AT` in SQL."""
    return paper.published or day_start(paper.announced_on)


def known_date(paper: Paper, first_version: datetime | None = None) -> tuple[datetime | None, bool]:
    """When the paper came out, as far as the site knows, and whether only its month is known:
    arXiv's submission time, else its first version's date, else the day arXiv announced it, else
    the day it was listed here, else the first of the month its arXiv id names (the month its
    BibTeX and its page give). (None, False) when nothing says, rather than an invented time."""
    when = paper.published or first_version or day_start(paper.announced_on) or day_start(paper.listed_on)
    if when:
        return when, False
    month = arxiv_month(paper.arxiv_id or "")
    return (day_start(month), True) if month else (None, False)


def icon() -> str:
    return absolute(static("favicon.svg"))


def account_out(account) -> dict:
    name = account.username
    return {
        "_id": f"u{account.pk}",
        "user": name,
        "name": name,
        "fullname": account.get_full_name() or name,
        "avatarUrl": icon(),
        "isPro": False,
        "type": "user",
    }


def submitter_out(paper: Paper) -> dict | None:
    """The user who put the paper on the listing: an account here, or the Hugging Face submitter."""
    submission = paper.related_or_none("submission")
    if submission is not None:
        return account_out(submission.user)
    name = paper.hf_submitted_by
    if not name:
        return None
    return {
        "_id": f"hf:{name}",
        "user": name,
        "name": name,
        "fullname": paper.hf_submitter,
        "avatarUrl": icon(),
        "isPro": False,
        "type": "user",
    }


def author_out(authorship, claim: AuthorClaim | None) -> dict:
    shown: dict = {
        "_id": f"a{authorship.author_id}",
        "name": display_name(authorship.author.name),
        "hidden": False,
    }
    if claim is not None:
        shown.update(
            user=account_out(claim.user), status="claimed_verified", statusLastChangedAt=claim.changed_at
        )
    return shown


def paper_out(paper: Paper) -> dict:
    upvotes = getattr(paper, "upvotes", None)
    verified = {c.author_id: c for c in authors.approved(paper)}  # by author, as on the page
    code, page = authors.links_of(paper)
    return {
        "id": paper.key,
        "authors": [author_out(a, verified.get(a.author_id)) for a in paper.bylines],
        "publishedAt": published_at(paper),
        "submittedOnDailyAt": day_start(paper.listed_on),
        "submittedOnDailyBy": submitter_out(paper),
        "title": paper.title,
        "summary": paper.abstract,
        "upvotes": upvotes if upvotes is not None else votes.count(paper),
        "discussionId": str(paper.pk),
        "githubRepo": code or None,
        # The stars are the harvested repository's: not shown for another one an author set.
        "githubStars": paper.github_stars if code == paper.code_link else None,
        "projectPage": page or None,
        "ai_summary": paper.ai_summary or None,
        "ai_keywords": list(paper.ai_keywords or []),
        "numComments": getattr(paper, "num_comments", 0) or 0,
        "categories": [c.code for c in paper.ordered_categories],
        "arxivUrl": paper.abs_link or None,
        "pdfUrl": paper.pdf_link or None,
        "url": absolute(reverse("paper", args=[paper.key])),
    }


def item_out(paper: Paper) -> dict:
    shown = paper_out(paper)
    return {
        "paper": shown,
        "publishedAt": shown["publishedAt"],
        "title": paper.title,
        "summary": paper.abstract,
        "thumbnail": icon(),
        "numComments": shown["numComments"],
        "submittedBy": shown["submittedOnDailyBy"],
        "isAuthorParticipating": bool(authors.approved(paper)),
    }


def comment_out(comment: Comment) -> dict:
    return {
        "id": str(comment.pk),
        "author": account_out(comment.author),
        "createdAt": comment.created_at,
        "editedAt": comment.edited_at,
        "content": comment.body,
        "replyTo": str(comment.parent_id) if comment.parent_id else None,
    }
