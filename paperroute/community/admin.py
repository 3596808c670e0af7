"""The admin: moderators hide comments and manage users; counters stay right through it."""

from django.contrib import admin, messages

from paperroute.community import comments
from paperroute.community.models import ApiToken, Comment, Submission, Vote


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["paper", "author", "short_body", "created_at", "edited_at", "hidden"]
    list_filter = ["hidden", "created_at"]
    search_fields = ["body", "author__username", "author__email", "paper__key", "paper__title"]
    raw_id_fields = ["paper", "author"]
    readonly_fields = ["paper", "author", "created_at", "edited_at", "hidden"]
    actions = ["hide", "unhide"]

    @admin.display(description="comment")
    def short_body(self, obj):
        return obj.body[:80]

    @admin.action(description="Hide the selected comments from readers")
    def hide(self, request, queryset):
        changed = comments.set_hidden(queryset.select_related("paper"), True)
        self.message_user(request, f"{changed} comment(s) hidden.", messages.SUCCESS)

    @admin.action(description="Show the selected comments again")
    def unhide(self, request, queryset):
        changed = comments.set_hidden(queryset.select_related("paper"), False)
        self.message_user(request, f"{changed} comment(s) shown again.", messages.SUCCESS)

    def has_add_permission(self, request):
        return False

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
