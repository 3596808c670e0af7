from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "paperroute.web"
    verbose_name = "Web"

    def ready(self) -> None:
        from django.contrib import admin

        from paperroute.web import checks  # noqa: F401 (registers paperroute's checks)
        from paperroute.web.views.account import admin_login

        # Moderators sign in by email link like everyone else; the admin has no password form.
        admin.site.login = admin_login  # type: ignore[method-assign]  # the default site, not a subclass
        admin.site.site_header = "paperroute moderation"
        admin.site.site_title = "paperroute admin"
