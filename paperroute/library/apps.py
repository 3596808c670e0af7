from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "paperroute.library"
    verbose_name = "Library"
