"""The admin: subscribers and their status, digest runs, every send with its status, bounces."""

from django.contrib import admin, messages
from django.db.models import Count, Q

from paperroute.digest import subscriptions
from paperroute.digest.models import Bounce, DigestRun, Outbox, Subscriber


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = (
        "email",
        "status",
        "frequency",
        "max_papers",
        "topic_count",
        "confirmed_at",
        "permanent_failures",
        "user",
    )
    list_filter = ("status", "frequency")
    search_fields = ("email_key",)
    readonly_fields = (
        "email_key",
        "token",
        "confirm_nonce",
        "confirmation_sent_at",
        "signup_ip",
        "created_at",
        "confirmed_at",
        "status_changed_at",
        "permanent_failures",
        "last_failure",
    )
    raw_id_fields = ("user",)
    actions = ("lift_suppression", "unsubscribe")

    @admin.display(description="topics")
    def topic_count(self, obj):
        return len(obj.topics or [])

    @admin.action(description="Lift the suppression of the selected subscribers")
    def lift_suppression(self, request, queryset):
        for subscriber in queryset.filter(status=Subscriber.SUPPRESSED):
            subscriptions.lift_suppression(subscriber)
        self.message_user(request, "Suppression lifted.", messages.SUCCESS)

    @admin.action(description="Unsubscribe the selected subscribers")
    def unsubscribe(self, request, queryset):
        for subscriber in queryset:
            subscriptions.unsubscribe(subscriber)
        self.message_user(request, "Unsubscribed.", messages.SUCCESS)


@admin.register(DigestRun)
class DigestRunAdmin(admin.ModelAdmin):
    list_display = (
        "frequency",
        "period_start",
        "period_end",
        "status",
        "sent",
        "open",
        "failed",
        "created_at",
        "completed_at",
    )
    list_filter = ("status", "frequency")
    readonly_fields = [f.name for f in DigestRun._meta.fields]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_sent=Count("outbox", filter=Q(outbox__status=Outbox.SENT)),
                n_open=Count("outbox", filter=Q(outbox__status__in=(Outbox.PENDING, Outbox.SENDING))),
                n_failed=Count("outbox", filter=Q(outbox__status=Outbox.FAILED)),
            )
        )

    @admin.display(description="sent", ordering="n_sent")
    def sent(self, obj):
        return obj.n_sent

    @admin.display(description="pending", ordering="n_open")
    def open(self, obj):
        return obj.n_open

    @admin.display(description="failed", ordering="n_failed")
    def failed(self, obj):
        return obj.n_failed


@admin.register(Outbox)
class OutboxAdmin(admin.ModelAdmin):
    list_display = (
        "email",
        "run",
        "status",
        "papers",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    )
    list_filter = ("status", "run__frequency", "run")
    search_fields = ("email", "message_id")
    exclude = ("message",)
    readonly_fields = (
        "run",
        "subscriber",
        "email",
        "message_id",
        "subject",
        "papers",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_by",
        "lease_until",
        "last_error",
        "created_at",
        "sent_at",
    )
    list_select_related = ("run",)

    def has_add_permission(self, request):
        return False


@admin.register(Bounce)
class BounceAdmin(admin.ModelAdmin):
    list_display = ("email_key", "kind", "created_at", "detail")
    list_filter = ("kind",)
    search_fields = ("email_key",)
    readonly_fields = ("email_key", "subscriber", "kind", "detail", "created_at")
