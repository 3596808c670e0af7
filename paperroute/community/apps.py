from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "paperroute.community"
    verbose_name = "Community"
