from django.contrib import admin

from paperroute.catalog.models import HarvestCheckpoint, Paper


class AuthorshipInline(admin.TabularInline):
    model = Paper.authors.through
    raw_id_fields = ["author"]
    extra = 0


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    list_display = ["key", "title", "primary_category", "listed_on", "hf_upvotes"]
    list_filter = ["listed_on", "primary_category"]
    search_fields = ["key", "title", "doi"]
    readonly_fields = ["created_at", "changed_at"]
    inlines = [AuthorshipInline]
    exclude = ["categories"]


@admin.register(HarvestCheckpoint)
class HarvestCheckpointAdmin(admin.ModelAdmin):
    list_display = ["source", "query", "token", "pages", "finished", "updated_at"]
