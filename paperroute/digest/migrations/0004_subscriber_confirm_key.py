"""Subscriber.confirm_key: what confirmation links name a subscriber by, instead of the row's id.

Added empty, filled with a random key per row, then made unique: a column default would give
every existing row the same key.
"""

import secrets

from django.db import migrations, models

import paperroute.digest.models


def _fill_keys(apps, schema_editor):
    subscriber = apps.get_model("digest", "Subscriber")
    for pk in subscriber.objects.filter(confirm_key=None).values_list("pk", flat=True):
        subscriber.objects.filter(pk=pk).update(confirm_key=secrets.token_urlsafe(18))


class Migration(migrations.Migration):
    dependencies = [
        ("digest", "0003_frequency_label"),
    ]

    operations = [
        migrations.AddField(
            model_name="subscriber",
            name="confirm_key",
            field=models.CharField(editable=False, max_length=32, null=True),
        ),
        migrations.RunPython(_fill_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="subscriber",
            name="confirm_key",
            field=models.CharField(
                default=paperroute.digest.models.new_confirm_key, editable=False, max_length=32, unique=True
            ),
        ),
    ]
