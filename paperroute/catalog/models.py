"""The paper catalogue: the system of record that every other area reads."""

from typing import Any

from django.db import models
from django.db.models import F
from django.db.models.functions import Coalesce, Lower
from django.utils.safestring import SafeString, mark_safe

from paperroute.catalog import latex
from paperroute.catalog.links import http_url
from paperroute.catalog.textclean import display_name


class Category(models.Model):
    code = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Author(models.Model):
    # As the source wrote it, TeX and all ("Mu\\~noz"): one row per spelling.
    name = models.CharField(max_length=300, unique=True)
    # The same person's spellings share a key (textclean.author_key): "Muñoz" and "Mu\\~noz".
    key = models.CharField(max_length=300, db_index=True, default="")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Paper(models.Model):
    # The public identifier: an arXiv id without version ("2406.01234", "hep-th/9901001"),
    # or "doi:…", "url:…" or "seed:…" for papers that are not on arXiv.
    key = models.CharField(max_length=300, unique=True)
    arxiv_id = models.CharField(max_length=64, blank=True)
    doi = models.CharField(max_length=255, blank=True, db_index=True)
    # A hash of the normalised title, so that a paper arriving without an id can be matched.
    title_key = models.CharField(max_length=40, db_index=True)
    title = models.TextField()
    abstract = models.TextField(blank=True)
    authors = models.ManyToManyField(Author, through="Authorship", related_name="papers")
    primary_category = models.CharField(max_length=64, blank=True)
    categories = models.ManyToManyField(Category, related_name="papers", blank=True)
    published = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(null=True, blank=True)
    latest_version = models.PositiveIntegerField(default=0)
    comments = models.TextField(blank=True)
    journal_ref = models.TextField(blank=True)
    license = models.CharField(max_length=300, blank=True)
    abs_url = models.URLField(max_length=500, blank=True)
    pdf_url = models.URLField(max_length=500, blank=True)
    code_url = models.URLField(max_length=500, blank=True)
    project_url = models.URLField(max_length=500, blank=True)
    # The first arXiv announcement day (from the RSS feed when seen there, otherwise estimated
    # from the submission time and arXiv's schedule), and the day a community feed listed it.
    announced_on = models.DateField(null=True, blank=True)
    submitted_on = models.DateField(null=True, blank=True)
    listed_on = models.DateField(null=True, blank=True, db_index=True)
    # Fields kept from the Hugging Face daily-papers feed.
    hf_upvotes = models.IntegerField(null=True, blank=True)
    hf_num_comments = models.IntegerField(null=True, blank=True)
    # The Hugging Face username of who listed the paper there, and their full name.
    hf_submitted_by = models.CharField(max_length=200, blank=True)
    hf_submitter_name = models.CharField(max_length=200, blank=True)
    github_repo = models.URLField(max_length=500, blank=True)
    github_stars = models.IntegerField(null=True, blank=True)
    ai_summary = models.TextField(blank=True)
    ai_keywords = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Moves only when something about the paper changed: the search index syncs by it.
    changed_at = models.DateTimeField(db_index=True)

    # Never stored: set on the instances a page or feed shows, by the layer that shows them (a
    # search hit, why a paper is recommended, the reader's own marks, a listing's sort time,
    # a vote count annotated by a query). Declared so that type checking knows them.
    hit: Any
    reason: str
    upvoted: bool
    saved: bool
    read: bool
    dismissed: bool
    sort_at: Any
    upvotes: int
    # What community.listings and community.cards load with a paper (see bylines below).
    loaded_authorships: list[Any]
    loaded_categories: list[Any]
    approved_claims: list[Any]

    class Meta:
        indexes = [
            models.Index(fields=["listed_on", "hf_upvotes"]),
            # DOIs ignore case: a pasted one is found whatever the case it was stored in.
            models.Index(Lower("doi"), name="catalog_paper_doi_lower"),
            # Every paper, newest first (the API's /papers and a blank search): read in this
            # order rather than sorting the whole catalogue for each page.
            models.Index(
                Coalesce("published", "created_at").desc(), F("id").desc(), name="catalog_paper_newest"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.title[:80]}"

    # Why a reader's own list shows the paper (For you), set by the view that makes the list.
    why = ""

    # The title as pages show it: every card and page links it, so one that reads as nothing
    # (a title of `{}`) falls back to the stored text or the id, as feeds do.
    @property
    def title_text(self) -> str:
        """The title as plain text, never blank."""
        return latex.title_plain(self.title, self.key)

    @property
    def title_html(self) -> SafeString:
        """The title as HTML with its LaTeX made readable, never blank."""
        return mark_safe(latex.title_html(self.title, self.key))

    @property
    def hf_submitter(self) -> str:
        """The Hugging Face submitter as its page names them: the full name, else the username."""
        return self.hf_submitter_name or self.hf_submitted_by

    @property
    def submitter(self) -> str:
        """Who put the paper on a listing, as a card names them: the account that submitted it
        here, else its Hugging Face submitter; "" when nobody did."""
        submission = self.related_or_none("submission")
        return submission.user.username if submission is not None else self.hf_submitter

    def related_or_none(self, name: str):
        """The paper's one related row by that reverse one-to-one (`submission`, `author_links`),
        or None when it has none.

        A card asked the template for `paper.submission`: a paper without one raised, and the
        template engine then listed every attribute of the paper to tell a missing one from a
        failing property, three times a card (about 4 ms of a 50-card page)."""
        try:
            return getattr(self, name)
        except models.ObjectDoesNotExist:
            return None

    # Links as they may be rendered: http(s) only, checked again here because a row may predate
    # the check made on ingest (paperroute.catalog.links).
    @property
    def code_link(self) -> str:
        """The code repository: Hugging Face's GitHub link, else one found in the abstract."""
        return http_url(self.github_repo) or http_url(self.code_url)

    @property
    def shown_code_link(self) -> str:
        """The code link a card shows: the one the paper's verified authors set, else code_link."""
        links = self.related_or_none("author_links")
        return (http_url(links.github_repo) if links is not None else "") or self.code_link

    @property
    def project_link(self) -> str:
        return http_url(self.project_url)

    @property
    def abs_link(self) -> str:
        return http_url(self.abs_url)

    @property
    def pdf_link(self) -> str:
        return http_url(self.pdf_url)

    # A listing's papers come with their authorships and categories in these attributes
    # (community.listings.annotated): plain lists, which cost 16 search results about 3 ms less
    # at 1M papers than the related managers' prefetch caches, each of which Django builds a
    # queryset for.

    @property
    def bylines(self) -> list["Authorship"]:
        """The authorships in order, each with its author."""
        loaded = getattr(self, "loaded_authorships", None)
        return loaded if loaded is not None else list(self.authorships.all())

    @property
    def author_names(self) -> list[str]:
        """The authors as readers see them: TeX accents made Unicode, affiliations left out."""
        return [display_name(a.author.name) for a in self.bylines]

    @property
    def ordered_categories(self) -> list[Category]:
        """Categories with the primary one first, then the others alphabetically."""
        loaded = getattr(self, "loaded_categories", None)
        categories = loaded if loaded is not None else self.categories.all()
        return sorted(categories, key=lambda c: (c.code != self.primary_category, c.code))


class Authorship(models.Model):
    # No index of its own: the unique constraint below starts with the paper and serves lookups.
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="authorships", db_index=False)
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="authorships")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["paper", "position"]
        constraints = [
            models.UniqueConstraint(fields=["paper", "position"], name="authorship_unique_position")
        ]


class Version(models.Model):
    # No index of its own: the unique constraint below starts with the paper and serves lookups.
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="versions", db_index=False)
    number = models.PositiveIntegerField()
    date = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["paper", "number"]
        constraints = [models.UniqueConstraint(fields=["paper", "number"], name="version_unique_number")]


class Announcement(models.Model):
    """One appearance of a paper in arXiv's daily announcement (new, cross, replace, …)."""

    # No index of its own: the unique constraint below starts with the paper and serves lookups.
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="announcements", db_index=False)
    date = models.DateField()
    kind = models.CharField(max_length=32)

    class Meta:
        ordering = ["paper", "date"]
        constraints = [models.UniqueConstraint(fields=["paper", "date"], name="announcement_unique_date")]


class Sighting(models.Model):
    """That a source has seen a paper, and when it first did."""

    # No index of its own: the unique constraint below starts with the paper and serves lookups.
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="sightings", db_index=False)
    source = models.CharField(max_length=32)
    first_seen = models.DateTimeField()

    class Meta:
        ordering = ["paper", "first_seen"]
        constraints = [models.UniqueConstraint(fields=["paper", "source"], name="sighting_unique_source")]


class HarvestCheckpoint(models.Model):
    """The last resumption token of an OAI-PMH harvest, so that an interrupted one resumes."""

    source = models.CharField(max_length=32)
    query = models.CharField(max_length=500)
    token = models.CharField(max_length=500, blank=True)
    cursor = models.IntegerField(null=True, blank=True)
    complete_list_size = models.IntegerField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    finished = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "query"], name="checkpoint_unique_query")]


def category_codes(codes: list[str], prefix: str = "") -> models.Q:
    """A filter on categories (`prefix` "categories__": on papers) that are any of the codes or
    within them; an archive (cs, math) stands for its own."""
    wanted = models.Q()
    for code in codes:  # the SQL form of taxonomy.within
        wanted |= models.Q(**{f"{prefix}code": code}) | models.Q(**{f"{prefix}code__startswith": code + "."})
    return wanted


def in_categories(codes: list[str]) -> models.Q:
    """A filter on papers in any of the categories; an archive (cs, math) stands for its own."""
    return category_codes(codes, prefix="categories__")
