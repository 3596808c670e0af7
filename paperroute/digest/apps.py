from django.apps import AppConfig


class DigestConfig(AppConfig):
    name = "paperroute.digest"
    verbose_name = "Email digests"
