"""The daily digest's label: it covers the day before (it was sent on weekdays, for that day)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("digest", "0002_subscriber_suppressed_from"),
    ]

    operations = [
        migrations.AlterField(
            model_name="digestrun",
            name="frequency",
            field=models.CharField(
                choices=[("daily", "daily (the day before)"), ("weekly", "weekly (Mondays)")], max_length=8
            ),
        ),
        migrations.AlterField(
            model_name="subscriber",
            name="frequency",
            field=models.CharField(
                choices=[("daily", "daily (the day before)"), ("weekly", "weekly (Mondays)")],
                default="daily",
                max_length=8,
            ),
        ),
    ]
