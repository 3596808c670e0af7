"""Author.key: one key for the TeX and Unicode spellings of a name, for author pages."""

from django.db import migrations, models


def fill_keys(apps, schema_editor):
    from paperroute.catalog.textclean import author_key

    author_model = apps.get_model("catalog", "Author")
    batch = []
    for author in author_model.objects.only("pk", "name").iterator(chunk_size=5000):
        author.key = author_key(author.name)
        batch.append(author)
        if len(batch) == 5000:
            author_model.objects.bulk_update(batch, ["key"])
            batch = []
    author_model.objects.bulk_update(batch, ["key"])


class Migration(migrations.Migration):

    dependencies = [("catalog", "0003_drop_unsafe_links")]

    operations = [
        migrations.AddField(
            model_name="author",
            name="key",
            field=models.CharField(db_index=True, default="", max_length=300),
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
    ]
