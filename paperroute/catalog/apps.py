from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "paperroute.catalog"
    verbose_name = "Catalogue"
