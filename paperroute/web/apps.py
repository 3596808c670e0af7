from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "paperroute.web"
    verbose_name = "Web"
