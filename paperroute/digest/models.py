"""Subscribers, digest runs, the outbox, what each subscriber was sent, and bounces."""

import secrets

from django.conf import settings
from django.db import models

from paperroute.catalog.models import Paper


def new_confirm_key() -> str:
    return secrets.token_urlsafe(18)


class Subscriber(models.Model):
    """One email address and what it wants to receive."""

    PENDING, CONFIRMED, PAUSED = "pending", "confirmed", "paused"
    UNSUBSCRIBED, SUPPRESSED = "unsubscribed", "suppressed"
    STATUSES = [
        (PENDING, "pending confirmation"),
        (CONFIRMED, "confirmed"),
        (PAUSED, "paused"),
        (UNSUBSCRIBED, "unsubscribed"),
        (SUPPRESSED, "suppressed (bounced)"),
    ]
    DAILY, WEEKLY = "daily", "weekly"
    FREQUENCIES = [(DAILY, "daily (the day before)"), (WEEKLY, "weekly (Mondays)")]

    email = models.EmailField(max_length=254)
    # The address lower-cased: one subscription per mailbox whatever the capitalisation.
    email_key = models.CharField(max_length=254, unique=True)
    status = models.CharField(max_length=16, choices=STATUSES, default=PENDING)
    # While suppressed, the status it had before (pending, confirmed or paused): what lifting the
    # suppression gives back.
    suppressed_from = models.CharField(max_length=16, choices=STATUSES, blank=True)
    frequency = models.CharField(max_length=8, choices=FREQUENCIES, default=DAILY)
    max_papers = models.PositiveSmallIntegerField(default=10)
    categories = models.JSONField(default=list, blank=True)
    topics = models.JSONField(default=list, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subscription",
    )
    # The secret in the preferences and unsubscribe URLs of every mail.
    token = models.CharField(max_length=64, unique=True)
    # Changes with every confirmation mail, so that a link from an older mail still works
    # only while it is the latest one sent.
    confirm_nonce = models.CharField(max_length=32, blank=True)
    # Names the subscriber in confirmation links. Their signed payload is readable by anyone
    # (base64 JSON), so it is not the row's id, which would tell how many subscribers there are.
    confirm_key = models.CharField(max_length=32, unique=True, default=new_confirm_key, editable=False)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    signup_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # Permanent failures (5xx replies, hard bounces) since the last delivery.
    permanent_failures = models.PositiveIntegerField(default=0)
    last_failure = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "frequency"])]
        ordering = ["email_key"]

    def __str__(self) -> str:
        return f"{self.email} ({self.status})"


class ConfirmationMail(models.Model):
    """A confirmation (or 'already subscribed') mail that the subscribe form sent."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="confirmations")
    kind = models.CharField(max_length=16)  # "confirm" | "manage"
    ip = models.GenericIPAddressField(null=True, blank=True)
    sent_at = models.DateTimeField(db_index=True)


class DigestRun(models.Model):
    """One period's digests for one frequency: composed once, then sent from the outbox."""

    COMPOSING, SENDING, COMPLETE = "composing", "sending", "complete"
    STATUSES = [(COMPOSING, "composing"), (SENDING, "sending"), (COMPLETE, "complete")]

    frequency = models.CharField(max_length=8, choices=Subscriber.FREQUENCIES)
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=16, choices=STATUSES, default=COMPOSING)
    # The process composing it and until when its claim holds (see outbox.worker_id).
    composer = models.CharField(max_length=200, blank=True)
    compose_lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    composed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["frequency", "period_start"], name="digestrun_one_per_period")
        ]
        ordering = ["-period_start", "frequency"]

    @property
    def key(self) -> str:
        return f"{self.frequency}-{self.period_start.isoformat()}"

    def __str__(self) -> str:
        return f"{self.frequency} digest {self.period_start}…{self.period_end} ({self.status})"


class Outbox(models.Model):
    """One subscriber's digest of one run: the exact message, and how sending it went."""

    PENDING, SENDING, SENT = "pending", "sending", "sent"
    FAILED, SKIPPED = "failed", "skipped"
    STATUSES = [
        (PENDING, "pending"),
        (SENDING, "sending"),
        (SENT, "sent"),
        (FAILED, "failed"),
        (SKIPPED, "skipped"),
    ]

    run = models.ForeignKey(DigestRun, on_delete=models.CASCADE, related_name="outbox")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="outbox")
    email = models.EmailField(max_length=254)
    message_id = models.CharField(max_length=255, unique=True)
    subject = models.CharField(max_length=300)
    papers = models.PositiveSmallIntegerField(default=0)
    # The whole RFC 5322 message, zlib-compressed: a retry sends exactly the same bytes.
    message = models.BinaryField()
    status = models.CharField(max_length=16, choices=STATUSES, default=PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_by = models.CharField(max_length=200, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "digest send"
        verbose_name_plural = "digest sends"
        constraints = [
            models.UniqueConstraint(fields=["run", "subscriber"], name="outbox_one_per_subscriber_and_period")
        ]
        indexes = [models.Index(fields=["run", "status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.email} · {self.run.key} ({self.status})"


class SentPaper(models.Model):
    """A paper that went into a subscriber's digest: no digest repeats it."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="sent_papers")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="+")
    outbox = models.ForeignKey(Outbox, on_delete=models.CASCADE, related_name="sent_papers")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "paper"], name="sentpaper_once_per_subscriber")
        ]


class Bounce(models.Model):
    """A permanent failure, complaint or mailed unsubscribe reported for an address."""

    SMTP, BOUNCE, COMPLAINT, UNSUBSCRIBE = "smtp-5xx", "bounce", "complaint", "unsubscribe"
    KINDS = [
        (SMTP, "5xx reply"),
        (BOUNCE, "hard bounce"),
        (COMPLAINT, "spam complaint"),
        (UNSUBSCRIBE, "unsubscribe by mail"),
    ]

    email_key = models.CharField(max_length=254, db_index=True)
    subscriber = models.ForeignKey(
        Subscriber, null=True, blank=True, on_delete=models.SET_NULL, related_name="bounces"
    )
    kind = models.CharField(max_length=16, choices=KINDS)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
