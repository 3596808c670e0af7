"""Subscriber.suppressed_from: the status a suppression lifted gives back (paused stays paused)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('digest', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='subscriber',
            name='suppressed_from',
            field=models.CharField(blank=True, choices=[('pending', 'pending confirmation'), ('confirmed', 'confirmed'), ('paused', 'paused'), ('unsubscribed', 'unsubscribed'), ('suppressed', 'suppressed (bounced)')], max_length=16),
        ),
    ]
