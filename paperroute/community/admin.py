"""The admin: moderators hide comments (with a reason), decide author claims and manage users;
counters stay right and every claim decision is logged."""

from django.contrib import admin, messages

from paperroute.community import authors, comments
from paperroute.community.models import (
    ApiToken,
    AuthorClaim,
    AuthorLog,
    Comment,
    CommentRevision,
    PaperLinks,
    Submission,
    Vote,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record moderators may read but not add, change or delete: votes, the authors' log."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RevisionInline(admin.TabularInline):
    """Earlier versions of the comment, oldest first; history is never rewritten here."""

    model = CommentRevision
    extra = 0
    fields = ["written_at", "replaced_at", "body"]
    readonly_fields = ["written_at", "replaced_at", "body"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = [
        "paper",
        "author",
        "short_body",
        "created_at",
        "edited_at",
        "parent",
        "hidden",
        "hidden_reason",
    ]
    list_filter = ["hidden", "created_at"]
    search_fields = ["body", "author__username", "author__email", "paper__key", "paper__title"]
    raw_id_fields = ["paper", "author", "parent"]
    fields = [
        "paper",
        "author",
        "parent",
        "created_at",
        "edited_at",
        "deleted_at",
        "body",
        "hidden",
        "hidden_reason",
    ]
    readonly_fields = ["paper", "author", "parent", "created_at", "edited_at", "deleted_at", "body"]
    inlines = [RevisionInline]
    actions = ["hide", "unhide"]

    @admin.display(description="comment")
    def short_body(self, obj):
        return obj.body[:80]

    @admin.action(description="Hide the selected comments from readers")
    def hide(self, request, queryset):
        changed = comments.set_hidden(queryset.select_related("paper"), True, "breaks the site's rules")
        self.message_user(
            request,
            f'{changed} comment(s) hidden, with the reason "breaks the '
            "site's rules\"; open one to give another reason.",
            messages.SUCCESS,
        )

    @admin.action(description="Show the selected comments again")
    def unhide(self, request, queryset):
        changed = comments.set_hidden(queryset.select_related("paper"), False)
        self.message_user(request, f"{changed} comment(s) shown again.", messages.SUCCESS)

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        # Through set_hidden, so that the paper's comment count follows the change.
        stored = Comment.objects.select_related("paper").get(pk=obj.pk)
        comments.set_hidden([stored], obj.hidden, obj.hidden_reason)

    def delete_model(self, request, obj):
        comments.delete(request.user, obj)

    def delete_queryset(self, request, queryset):
        for comment in queryset.select_related("paper"):
            comments.delete(request.user, comment)


@admin.register(Vote)
class VoteAdmin(ReadOnlyAdmin):
    # Read-only: deleting a vote here would leave the paper's counter wrong.
    list_display = ["paper", "user", "created_at"]
    search_fields = ["paper__key", "user__username"]
    raw_id_fields = ["paper", "user"]


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["paper", "user", "created_at"]
    search_fields = ["paper__key", "paper__title", "user__username"]
    raw_id_fields = ["paper", "user"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at"]
    search_fields = ["name", "user__username", "prefix"]
    readonly_fields = ["user", "prefix", "digest", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False


class LogInline(admin.TabularInline):
    """The claim's history: who changed what, and when."""

    model = AuthorLog
    extra = 0
    fields = ["at", "actor", "action", "detail"]
    readonly_fields = ["at", "actor", "action", "detail"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AuthorClaim)
class AuthorClaimAdmin(admin.ModelAdmin):
    """Claims change only through the actions, so that each change is logged."""

    list_display = ["paper", "author", "user", "status", "created_at", "changed_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["paper__key", "paper__title", "author__name", "user__username", "user__email"]
    fields = ["paper", "author", "position", "user", "status", "created_at", "changed_at"]
    readonly_fields = ["paper", "author", "position", "user", "status", "created_at", "changed_at"]
    inlines = [LogInline]
    actions = ["approve", "reject", "revoke"]

    def _apply(self, request, queryset, decide, done: str):
        changed = sum(
            decide(request.user, claim) for claim in queryset.select_related("paper", "author", "user")
        )
        skipped = queryset.count() - changed
        note = f" ({skipped} skipped: not in a state this applies to)" if skipped else ""
        self.message_user(request, f"{changed} claim(s) {done}{note}.", messages.SUCCESS)

    @admin.action(description="Approve the selected claims (the authors show as verified)")
    def approve(self, request, queryset):
        self._apply(request, queryset, authors.approve, "approved")

    @admin.action(description="Reject the selected claims")
    def reject(self, request, queryset):
        self._apply(request, queryset, authors.reject, "rejected")

    @admin.action(description="Revoke the selected approved claims")
    def revoke(self, request, queryset):
        self._apply(request, queryset, authors.revoke, "revoked")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting would lose the history; reject or revoke instead.
        return False


@admin.register(AuthorLog)
class AuthorLogAdmin(ReadOnlyAdmin):
    """Every change to claims and author-set links; read-only."""

    list_display = ["at", "actor", "action", "paper", "claim", "detail"]
    list_filter = ["action", "at"]
    search_fields = ["paper__key", "actor__username", "detail"]
    date_hierarchy = "at"


@admin.register(PaperLinks)
class PaperLinksAdmin(admin.ModelAdmin):
    """Links verified authors set; changed on the paper page or through the API, so logged."""

    list_display = ["paper", "github_repo", "project_page", "updated_by", "updated_at"]
    search_fields = ["paper__key", "github_repo", "project_page"]
    readonly_fields = ["paper", "github_repo", "project_page", "updated_by", "updated_at"]

    def has_add_permission(self, request):
        return False

    def delete_model(self, request, obj):
        authors.remove_links(request.user, obj)

    def delete_queryset(self, request, queryset):
        for links in queryset.select_related("paper"):
            authors.remove_links(request.user, links)
