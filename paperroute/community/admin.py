"""The admin: moderators hide comments (with a reason) and manage users; counters stay right."""

from django.contrib import admin, messages

from paperroute.community import comments
from paperroute.community.models import ApiToken, Comment, CommentRevision, Submission, Vote


class RevisionInline(admin.TabularInline):
    """Earlier versions of the comment, oldest first; history is never rewritten here."""

    model = CommentRevision
    extra = 0
    fields = ["written_at", "replaced_at", "body"]
    readonly_fields = fields
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
    fields = ["paper", "author", "parent", "created_at", "edited_at", "body", "hidden", "hidden_reason"]
    readonly_fields = ["paper", "author", "parent", "created_at", "edited_at", "body"]
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
class VoteAdmin(admin.ModelAdmin):
    # Read-only: deleting a vote here would leave the paper's counter wrong.
    list_display = ["paper", "user", "created_at"]
    search_fields = ["paper__key", "user__username"]
    raw_id_fields = ["paper", "user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
