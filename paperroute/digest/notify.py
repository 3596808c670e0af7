"""Confirmation mails, sent at once (not through the outbox) while the subscriber waits."""

from __future__ import annotations

from django.utils import timezone

from paperroute.digest import messages, render
from paperroute.digest.models import Subscriber
from paperroute.digest.smtp import messenger_factory


def send_confirmation(subscriber: Subscriber, kind: str, confirm_url: str) -> None:
    """Mail the confirmation link ("confirm") or the preferences link ("manage")."""
    rendered = render.render_confirmation(
        kind, email=subscriber.email, confirm_url=confirm_url, token=subscriber.token
    )
    now = timezone.now()
    data = messages.build(
        to=subscriber.email,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        msg_id=messages.message_id("confirm", str(subscriber.pk), now.isoformat()),
        date=now,
        headers={"Auto-Submitted": "auto-replied"},
    )
    messenger = messenger_factory()()
    try:
        messenger.send(messages.sender_address(), subscriber.email, data)
    finally:
        messenger.close()
