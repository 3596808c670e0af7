from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "paperroute.community"
    verbose_name = "Community"

    def ready(self) -> None:
        from paperroute.community import deletion

        deletion.connect()
