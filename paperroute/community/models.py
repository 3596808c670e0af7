"""What the community adds to the catalogue: votes, comments, submissions, sign-in links, tokens."""

from django.conf import settings
from django.db import models

from paperroute.catalog.models import Paper


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
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    # Moderators hide rather than delete, so that a mistaken hide can be undone.
    hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(
        max_length=200, blank=True, help_text="Shown to readers in place of the comment."
    )
    # Replies are one level deep, as on Hugging Face: a reply to a reply attaches to its top.
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
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
    window_start = models.BigIntegerField()
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "ident", "window_start"], name="ratewindow_unique")
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
