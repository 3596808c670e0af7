"""What the community adds to the catalogue: votes, comments, submissions, sign-in links, tokens,
reply notifications, author claims and the links verified authors set."""

import secrets

from django.conf import settings
from django.db import models

from paperroute.catalog.models import Author, Paper


class PaperStats(models.Model):
    """Counters kept beside a paper so that listings sort and show them without counting rows."""

    paper = models.OneToOneField(Paper, on_delete=models.CASCADE, primary_key=True, related_name="stats")
    votes = models.IntegerField(default=0)
    comments = models.IntegerField(default=0)

    class Meta:
        verbose_name_plural = "paper stats"


class Vote(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="votes")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="votes")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "paper"], name="vote_one_per_user")]

    def __str__(self) -> str:
        return f"{self.user} ▲ {self.paper.key}"


class Comment(models.Model):
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="community_comments")
    # None once its author deleted it (or their account) while others' replies were under it: it
    # stays as a "deleted" placeholder so that their replies stay too (comments.withdraw).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="comments"
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    # Moderators hide rather than delete, so that a mistaken hide can be undone.
    hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(
        max_length=200, blank=True, help_text="Shown to readers in place of the comment."
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Replies are one level deep, as on Hugging Face: a reply to a reply attaches to its top.
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )

    # Never stored: set by comments.thread() on the comments a page shows. Declared so that type
    # checking knows them.
    reaction_list: list[dict]
    reply_list: list["Comment"]
    others_replied: bool

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        if self.deleted_at:
            return f"a deleted comment on {self.paper.key}"
        return f"{self.author} on {self.paper.key}: {self.body[:60]}"

    @property
    def html(self) -> str:
        """The Markdown body as sanitised HTML."""
        from paperroute.community.comments import render

        return render(self.body)


class CommentRevision(models.Model):
    """A comment's body as it was before one edit; the current body stays on the comment."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    # When this text was written: the comment's creation or the edit before this one.
    written_at = models.DateTimeField()
    replaced_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["replaced_at", "id"]


class Reaction(models.Model):
    """One reader's emoji on one comment."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reactions")
    emoji = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comment", "user", "emoji"], name="reaction_one_per_user")
        ]


class Submission(models.Model):
    """A paper a user put on the daily listing."""

    paper = models.OneToOneField(Paper, on_delete=models.CASCADE, related_name="submission")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.paper.key} by {self.user}"


class SignInLink(models.Model):
    """One emailed sign-in link; `used_at` makes it single-use."""

    nonce = models.CharField(max_length=64, unique=True)
    email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)


class ApiToken(models.Model):
    """A personal token for the JSON API; only its SHA-256 digest is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class RateWindow(models.Model):
    """How many actions of one kind one user or address made in one fixed window."""

    scope = models.CharField(max_length=32)
    ident = models.CharField(max_length=200)
    period = models.IntegerField(default=0)  # seconds; 0 for windows counted before it was kept
    window_start = models.BigIntegerField()
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "ident", "period", "window_start"], name="ratewindow_unique_period"
            )
        ]


class SiteStamp(models.Model):
    """A counter bumped by every community write; page caches are keyed by it."""

    name = models.CharField(max_length=32, unique=True)
    value = models.BigIntegerField(default=0)


class ListingPrefs(models.Model):
    """What a signed-in reader chose to see in listings, remembered between visits."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="listing_prefs"
    )
    # Category codes (cs.CL) or archives (cs); empty means every category.
    categories = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "listing preferences"


def new_stop_key() -> str:
    return secrets.token_urlsafe(24)


class NotificationPrefs(models.Model):
    """Which emails a reader wants besides sign-in links; no row means the defaults (all on)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs"
    )
    reply_mail = models.BooleanField(
        default=True, help_text="Email me when someone replies in a thread I started."
    )
    # The secret of the "stop these emails" link in reply mails: it works without signing in and
    # names no account id; it goes with the account.
    stop_key = models.CharField(max_length=64, unique=True, default=new_stop_key, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "notification preferences"


class ReplyNotice(models.Model):
    """That a reader was emailed about replies in one thread on one day.

    The unique constraint is what keeps it to one mail per thread per day: whichever request
    inserts the row sends the mail, however many processes handle replies at once.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    thread = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="notices")
    day = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "thread", "day"], name="replynotice_once_a_day")
        ]


class AuthorClaim(models.Model):
    """A reader saying "this author of this paper is me"; moderators approve or reject it."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    REVOKED = "revoked"
    STATUSES = [
        (PENDING, "waiting for a moderator"),
        (APPROVED, "verified"),
        (REJECTED, "rejected"),
        (WITHDRAWN, "withdrawn by its user"),
        (REVOKED, "revoked by a moderator"),
    ]
    # Claims that stand or wait; the others are history, kept for the log.
    OPEN = (PENDING, APPROVED)

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="author_claims")
    # The spelling on this paper (catalog keeps one Author row per spelling, shared by papers).
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="claims")
    # Where the author stood when claimed, for the log; a later version may reorder the authors, so
    # nothing is matched by it.
    position = models.PositiveIntegerField(
        help_text="The author's place in the paper's list when claimed, from 0."
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="author_claims")
    status = models.CharField(max_length=16, choices=STATUSES, default=PENDING, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A user is at most one of a paper's authors, and one name has one verified person.
            models.UniqueConstraint(
                fields=["paper", "user"],
                condition=models.Q(status__in=("pending", "approved")),
                name="authorclaim_one_open_per_user",
            ),
            models.UniqueConstraint(
                fields=["paper", "author"],
                condition=models.Q(status="approved"),
                name="authorclaim_one_verified_per_author",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.author.name} on {self.paper.key} ({self.status})"

    @property
    def verified(self) -> bool:
        return self.status == self.APPROVED


class PaperLinks(models.Model):
    """A paper's code repository and project page as its verified author or a moderator set them.

    Kept beside the catalogue's harvested links rather than in them, so that the next harvest
    cannot overwrite what an author said; these win where they are set.
    """

    paper = models.OneToOneField(
        Paper, on_delete=models.CASCADE, primary_key=True, related_name="author_links"
    )
    github_repo = models.URLField(max_length=500, blank=True)
    project_page = models.URLField(max_length=500, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "paper links"


class AuthorLog(models.Model):
    """Every change to claims and author-set links: who did what, when."""

    CLAIMED = "claimed"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    REVOKED = "revoked"
    LINKS = "links"
    ACTIONS = [
        (CLAIMED, "claimed"),
        (APPROVED, "approved"),
        (REJECTED, "rejected"),
        (WITHDRAWN, "withdrawn"),
        (REVOKED, "revoked"),
        (LINKS, "links changed"),
    ]

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=16, choices=ACTIONS)
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="author_log")
    claim = models.ForeignKey(
        AuthorClaim, on_delete=models.SET_NULL, null=True, blank=True, related_name="log"
    )
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "author change"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.paper.key}"
