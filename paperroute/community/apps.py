from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "paperroute.community"
    verbose_name = "Community"

    def ready(self) -> None:
        from paperroute.catalog.ingest import papers_changed
        from paperroute.community import deletion, stamp

        deletion.connect()
        # Pages cached for readers show papers: an ingest that changed some is a change of theirs.
        papers_changed.connect(
            lambda **kwargs: stamp.bump(), weak=False, dispatch_uid="paperroute-ingest-stamp"
        )
