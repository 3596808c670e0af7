"""Blank stored links that are not http(s): older versions stored a javascript: githubRepo as is."""

from django.db import migrations
from django.db.models import Q

LINK_COLUMNS = ("abs_url", "pdf_url", "code_url", "project_url", "github_repo")


def drop_unsafe_links(apps, schema_editor):
    from paperroute.catalog.links import http_url

    paper_model = apps.get_model("catalog", "Paper")
    suspect = Q()
    for column in LINK_COLUMNS:
        suspect |= ~Q(**{column: ""}) & ~Q(**{f"{column}__istartswith": "http"})
    for paper in paper_model.objects.filter(suspect).only("pk", *LINK_COLUMNS).iterator():
        for column in LINK_COLUMNS:
            setattr(paper, column, http_url(getattr(paper, column)))
        paper.save(update_fields=list(LINK_COLUMNS))


class Migration(migrations.Migration):

    dependencies = [("catalog", "0002_drop_redundant_indexes")]

    operations = [migrations.RunPython(drop_unsafe_links, migrations.RunPython.noop)]
