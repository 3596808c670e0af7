from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "paperroute.search"
    label = "search"
    verbose_name = "Search"
