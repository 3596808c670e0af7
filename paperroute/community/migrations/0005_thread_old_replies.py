"""Replies written before threads existed were flat comments that began with a reference line,
"↪ reply to comment #N by @name:". They become real replies in the thread of the comment they
answered (one level deep, as every reply now is), without the reference line.

Migrating back leaves them threaded: the reference lines are not written again.
"""

import re

from django.db import migrations

REFERENCE = re.compile(r"^↪ reply to comment #(\d+) by @[^:\n]*:\n")


def thread_old_replies(apps, schema_editor):
    Comment = apps.get_model("community", "Comment")
    SiteStamp = apps.get_model("community", "SiteStamp")
    flat = Comment.objects.filter(parent__isnull=True, body__startswith="↪ reply to comment #")
    # Oldest first, so that a reply to an old reply finds that reply already in its thread; the
    # ids are read first, as the rows change under the loop.
    moved = 0
    for pk in list(flat.order_by("created_at", "id").values_list("pk", flat=True)):
        reply = Comment.objects.get(pk=pk)
        match = REFERENCE.match(reply.body)
        answered = match and Comment.objects.filter(pk=int(match.group(1)), paper_id=reply.paper_id).first()
        if not answered:
            continue  # a line that only looks like a reference, or a comment gone since: left as it is
        top = answered.parent_id or answered.pk
        if top == reply.pk:
            continue
        reply.parent_id = top
        reply.body = reply.body[match.end() :] or reply.body
        reply.save(update_fields=["parent", "body"])
        # Its own replies move up with it: threads stay one level deep.
        Comment.objects.filter(parent_id=reply.pk).update(parent_id=top)
        moved += 1
    if moved:  # cached pages show the threads now
        stamp, _ = SiteStamp.objects.get_or_create(name="pages")
        SiteStamp.objects.filter(pk=stamp.pk).update(value=stamp.value + 1)


class Migration(migrations.Migration):
    dependencies = [("community", "0004_authors_notifications")]

    operations = [migrations.RunPython(thread_old_replies, migrations.RunPython.noop)]
