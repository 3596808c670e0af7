"""What belongs to one reader: collections of saved papers, notes, read state and follows."""

from django.conf import settings
from django.db import models

from paperroute.catalog.models import Author, Paper


class Collection(models.Model):
    """A named list of papers. Every reader has one called "Saved", where saving puts papers."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collections")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    public = models.BooleanField(default=False)
    # The reader's "Saved" collection: one each, never deleted.
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner"], condition=models.Q(is_default=True), name="one_saved_collection_per_reader"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CollectionItem(models.Model):
    """A paper in a collection, at a position, with the collector's note (public with it)."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="items")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="+")
    position = models.IntegerField(default=0)
    note = models.TextField(blank=True)
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "paper"], name="paper_once_per_collection")
        ]
        indexes = [models.Index(fields=["paper", "collection"])]


class PaperNote(models.Model):
    """A reader's private note on a paper, shown only to them."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="paper_notes")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="+")
    text = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "paper"], name="one_note_per_paper")]


class PaperState(models.Model):
    """Whether a reader has read a paper, or said they are not interested in it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="paper_states")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(null=True, blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)  # "not interested"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "paper"], name="one_state_per_paper")]


class Follow(models.Model):
    """A topic (free words, searched), a category or an author that a reader follows."""

    TOPIC, CATEGORY, AUTHOR = "topic", "category", "author"
    KINDS = [(TOPIC, "topic"), (CATEGORY, "category"), (AUTHOR, "author")]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows")
    kind = models.CharField(max_length=8, choices=KINDS)
    # The topic's words, the category code, or the author's key (textclean.author_key).
    value = models.CharField(max_length=300)
    # For an author: one spelling of their name, to show.
    label = models.CharField(max_length=300, blank=True)
    author = models.ForeignKey(Author, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [models.UniqueConstraint(fields=["user", "kind", "value"], name="follow_once")]


class FeedKey(models.Model):
    """The secret in the address of a reader's private feed; rotating it retires the old one."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_key")
    secret = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now=True)
