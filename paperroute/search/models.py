"""Paper embeddings, kept in the database so that the index can be rebuilt without the model."""

from django.db import models

from paperroute.catalog.models import Paper


class PaperVector(models.Model):
    """The passage vectors of one paper: float16, `count` rows of `dim` values, row-major."""

    paper = models.OneToOneField(Paper, on_delete=models.CASCADE, primary_key=True,
                                 related_name="vector")
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
