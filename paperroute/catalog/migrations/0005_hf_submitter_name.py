"""Paper.hf_submitter_name: the full name of the Hugging Face submitter, beside the username.

Before this, `hf_submitted_by` held the full name where the feed gave one. That is what the
pages show, so it is kept as the name; the username replaces it at the paper's next harvest.
"""

from django.db import migrations, models
from django.db.models import F


def keep_names(apps, schema_editor):
    apps.get_model("catalog", "Paper").objects.exclude(hf_submitted_by="").update(
        hf_submitter_name=F("hf_submitted_by")
    )


class Migration(migrations.Migration):

    dependencies = [("catalog", "0004_author_key")]

    operations = [
        migrations.AddField(
            model_name="paper",
            name="hf_submitter_name",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.RunPython(keep_names, migrations.RunPython.noop),
    ]
