"""Paper embeddings, kept in the database so that the index can be rebuilt without the model."""

from django.db import models

from paperroute.catalog.models import Paper


class PaperVector(models.Model):
    """The passage vectors of one paper: float16, `count` rows of `dim` values, row-major."""

    paper = models.OneToOneField(Paper, on_delete=models.CASCADE, primary_key=True, related_name="vector")
    # Which model and passage recipe made the vectors; others are re-embedded.
    model = models.CharField(max_length=100)
    # Fingerprint of the title and abstract embedded, so that a text change re-embeds.
    text_hash = models.CharField(max_length=40)
    count = models.PositiveSmallIntegerField()
    dim = models.PositiveSmallIntegerField()
    data = models.BinaryField()
    embedded_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.paper_id}: {self.count}×{self.dim} ({self.model})"


class ThemeSet(models.Model):
    """The themes of one day, ISO week or month, computed by the worker when its papers change."""

    DAY, WEEK, MONTH = "day", "week", "month"
    kind = models.CharField(max_length=5)
    start = models.DateField()
    # What the themes were computed from (the papers with vectors, and the model), so that a
    # listing that did not change is not clustered again.
    fingerprint = models.CharField(max_length=40)
    # [{"slug", "label", "terms": [...], "members": [paper ids, most central first]}, ...]
    themes = models.JSONField(default=list)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "start"], name="themeset_one_per_period")]

    def __str__(self) -> str:
        return f"{self.kind} {self.start}: {len(self.themes)} themes"
