"""NotificationPrefs.stop_key: the secret of reply mails' "stop these emails" link, which named
the account's id before.

Added empty, filled with a random key per row, then made unique: a column default would give
every existing row the same key.
"""

import secrets

from django.db import migrations, models

import paperroute.community.models


def _fill_keys(apps, schema_editor):
    prefs = apps.get_model("community", "NotificationPrefs")
    for pk in prefs.objects.filter(stop_key=None).values_list("pk", flat=True):
        prefs.objects.filter(pk=pk).update(stop_key=secrets.token_urlsafe(24))


class Migration(migrations.Migration):
    dependencies = [
        ("community", "0008_deleted_comments_keep_replies"),
    ]

    operations = [
        migrations.AddField(
            model_name="notificationprefs",
            name="stop_key",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(_fill_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="notificationprefs",
            name="stop_key",
            field=models.CharField(
                default=paperroute.community.models.new_stop_key, editable=False, max_length=64, unique=True
            ),
        ),
    ]
