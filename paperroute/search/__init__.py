"""Search: keyword (tantivy BM25), semantic (sentence embeddings + HNSW) and hybrid.

Other areas use only the names below (see service.py). They are loaded on first use, because
this package is also a Django app whose models must not be imported while apps load.
"""

_SERVICE = {
    "SearchError",
    "Hit",
    "Results",
    "search",
    "suggest",
    "related",
    "sync",
    "rebuild",
    "is_behind",
    "outdated",
    "unembedded",
    "version",
    "IndexMissing",
    "paper_matrix",
    "papers_about",
    "embed_texts",
    "MODES",
    "MAX_TOTAL",
}
_SYNC = {"SyncReport"}


def configure_threads(role: str) -> None:
    """Set this process's BLAS and OpenMP threads for its role: "web", "worker" or "cli".

    The entry points call it (`paperroute` for its commands, each web process as it starts);
    importing the search modules changes no thread settings.
    """
    from paperroute.search.vectorstore import configure_threads as configure

    configure(role)


def __getattr__(name: str):
    if name in _SERVICE:
        from paperroute.search import service

        return getattr(service, name)
    if name in _SYNC:
        from paperroute.search import indexer

        return getattr(indexer, name)
    raise AttributeError(f"module 'paperroute.search' has no attribute {name!r}")


__all__ = sorted(_SERVICE | _SYNC | {"configure_threads"})
