"""Search fixtures: small catalogues loaded once per module, each with its own index directory."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest
from django.test import override_settings

from paperroute.demo import HERE as DEMO_DIR
from tests.conftest import wipe_catalogue

SEEDS = DEMO_DIR / "seed-papers.jsonl"


def load_file(source: str, path: Path) -> None:
    from paperroute.catalog.harvest import Request, run
    from paperroute.catalog.ingest import Importer
    from paperroute.catalog.sources.fetch import PoliteClient

    run(
        Request(source=source, input=str(path)),
        client=PoliteClient(delay=0, timeout=1),
        importer=Importer(source),
        log=lambda message: None,
    )


def wipe_all() -> None:
    from paperroute.search.models import PaperVector

    PaperVector.objects.all().delete()
    wipe_catalogue()


@contextmanager
def catalogue(django_db_blocker, data_dir: Path, loader, *, shipped: bool = True):
    """A committed catalogue for a whole module, its index synced, wiped afterwards."""
    from paperroute.search import service

    saved = service.PRECOMPUTED
    if not shipped:
        service.PRECOMPUTED = ()  # embed with the model itself, not the shipped demo vectors
    try:
        with django_db_blocker.unblock(), override_settings(DATA_DIR=data_dir):
            wipe_all()
            loader()
            report = service.sync()
            yield report
            wipe_all()
    finally:
        service.PRECOMPUTED = saved


@pytest.fixture(scope="module")
def seeds(django_db_setup, django_db_blocker, tmp_path_factory):
    """The 45 seed papers, embedded by the real model (not taken from the shipped vectors)."""
    with catalogue(
        django_db_blocker, tmp_path_factory.mktemp("seeds"), lambda: load_file("jsonl", SEEDS), shipped=False
    ) as report:
        yield report


@pytest.fixture(scope="module")
def sample(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo sample, with the vectors it ships."""
    from paperroute import demo

    with catalogue(django_db_blocker, tmp_path_factory.mktemp("demo"), lambda: list(demo.load())) as report:
        yield report


def titles(results) -> list[str]:
    from paperroute.catalog.models import Paper

    hits = results.hits if hasattr(results, "hits") else results
    by_key = dict(Paper.objects.filter(key__in=[h.key for h in hits]).values_list("key", "title"))
    return [by_key[h.key] for h in hits]
