"""Filters on the demo sample (real arXiv categories, authors and listing days), and the demo."""

import json
from datetime import date

import numpy as np
import pytest

from paperroute import search
from paperroute.catalog.models import Paper

pytestmark = pytest.mark.django_db


def test_the_shipped_vectors_cover_the_whole_sample(sample):
    assert sample.papers == Paper.objects.count() > 1500
    assert sample.embedded == 0 and sample.pending == 0


def test_the_shipped_vectors_are_what_the_model_makes(sample):
    from paperroute.search.embedder import Embedder
    from paperroute.search.service import model_id
    from paperroute.search.vectors import stored

    papers = list(Paper.objects.order_by("?").values_list("pk", "title", "abstract")[:4])
    fresh = Embedder().embed_papers([(t, a) for _, t, a in papers])
    shipped = stored([pk for pk, _, _ in papers], model_id())
    for (pk, _, _), vectors in zip(papers, fresh):
        kept = shipped[pk][1]
        assert kept.shape == vectors.shape
        assert float(np.min(np.sum(kept * vectors, axis=1))) > 0.999


@pytest.mark.parametrize("mode", search.MODES)
def test_a_category_filter_still_fills_the_page(sample, mode):
    results = search.search("language models", mode=mode, categories=["cs.CV"], limit=10)
    assert len(results.hits) == 10
    for hit in results.hits:
        codes = set(Paper.objects.get(key=hit.key).categories.values_list("code", flat=True))
        assert "cs.CV" in codes


@pytest.mark.parametrize("mode", search.MODES)
def test_a_category_option_and_a_cat_term_narrow_each_other(sample, mode):
    """The search form's category and a cat: in the query were either one: cs.CL with
    cat:cs.LG listed papers in cs.CL alone, as if the second filter had widened the search."""
    both = search.search("language models cat:cs.LG", mode=mode, categories=["cs.CL"], limit=20).hits
    assert len(both) == 20
    assert all({"cs.CL", "cs.LG"} <= _codes(hit.key) for hit in both)
    # Each filter alone finds papers the other leaves out.
    alone = search.search("language models", mode=mode, categories=["cs.CL"], limit=20).hits
    typed = search.search("language models cat:cs.LG", mode=mode, limit=20).hits
    assert any("cs.LG" not in _codes(hit.key) for hit in alone)
    assert any("cs.CL" not in _codes(hit.key) for hit in typed)


def _codes(key: str) -> set[str]:
    return set(Paper.objects.get(key=key).categories.values_list("code", flat=True))


@pytest.mark.parametrize("mode", search.MODES)
def test_cat_syntax_and_archives(sample, mode):
    hits = search.search("graph neural networks cat:math", mode=mode, limit=5).hits
    assert hits
    for hit in hits:
        codes = Paper.objects.get(key=hit.key).categories.values_list("code", flat=True)
        assert any(code.startswith("math.") for code in codes)


@pytest.mark.parametrize("mode", search.MODES)
def test_dates_filter_on_the_listing_day(sample, mode):
    hf_day = date(2026, 7, 31)
    assert Paper.objects.filter(listed_on=hf_day).count() >= 10
    results = search.search("language models", mode=mode, since=hf_day, limit=10)
    assert len(results.hits) == 10
    listed = set(
        Paper.objects.filter(key__in=[h.key for h in results.hits]).values_list("listed_on", flat=True)
    )
    assert listed == {hf_day}
    assert search.search("language models year:2020..2023", mode=mode).hits == []
    assert search.search("language models", mode=mode, until=date(2024, 11, 27)).hits == []


@pytest.mark.parametrize("mode", search.MODES)
def test_author_filter(sample, mode):
    from django.db.models import Count

    from paperroute.catalog.models import Author

    author = Author.objects.annotate(n=Count("papers")).filter(n__gte=3).order_by("-n", "name").first()
    surname = author.name.split()[-1]
    word = max(author.papers.first().title.split(), key=len)
    results = search.search(f"author:{surname} {word}", mode=mode, limit=20)
    assert results.hits
    for hit in results.hits:
        names = " ".join(Paper.objects.get(key=hit.key).author_names).lower()
        assert surname.lower() in names
    mine = {p.key for p in author.papers.all()}
    assert mine <= {h.key for h in search.search(f'author:"{author.name}"', mode=mode, limit=50).hits}


def test_a_filter_only_query_lists_the_newest_matches(sample):
    results = search.search("cat:cs.CL", limit=5)
    assert len(results.hits) == 5 and results.total > 100


@pytest.mark.slow
def test_search_works_right_after_the_demo_loads(cli):
    loaded = cli("demo", "--no-serve")
    assert loaded.returncode == 0
    assert "0 embedded" in loaded.stderr.decode() and "waiting" not in loaded.stderr.decode()
    found = cli("search", "guess several tokens and verify them", "--mode", "semantic", "--json")
    payload = json.loads(found.stdout)
    assert payload["message"] == "" and len(payload["hits"]) == 10


def test_the_sample_is_grouped_into_themes_once(sample):
    from paperroute.catalog.models import Paper as Catalogue
    from paperroute.search import themesets
    from paperroute.search.models import ThemeSet

    first = themesets.refresh(everything=True)
    assert ("day", date(2024, 11, 28)) in {(kind, start) for kind, start, _ in first.computed}
    day = themesets.for_period("day", date(2024, 11, 28))
    assert 5 <= len(day) <= 15
    labels = [t["label"] for t in day]
    assert len(set(labels)) == len(labels) and all(" · " in label for label in labels)
    members = [pid for theme in day for pid in theme["members"]]
    assert len(members) == len(set(members))
    assert set(members) <= set(
        Catalogue.objects.filter(listed_on=date(2024, 11, 28)).values_list("pk", flat=True)
    )
    # Nothing changed: nothing is clustered again.
    again = themesets.refresh(everything=True)
    assert again.computed == [] and again.unchanged == len(first.computed)
    # A paper leaving the day changes its day, week and month, and only those.
    moved = Catalogue.objects.filter(listed_on=date(2024, 11, 28)).first()
    Catalogue.objects.filter(pk=moved.pk).update(listed_on=date(2026, 7, 31))
    try:
        changed = themesets.refresh(everything=True)
        assert {(kind, start) for kind, start, _ in changed.computed} == {
            ("day", date(2024, 11, 28)),
            ("week", date(2024, 11, 25)),
            ("month", date(2024, 11, 1)),
            ("day", date(2026, 7, 31)),
            ("week", date(2026, 7, 27)),
            ("month", date(2026, 7, 1)),
        }
    finally:
        Catalogue.objects.filter(pk=moved.pk).update(listed_on=date(2024, 11, 28))
        ThemeSet.objects.all().delete()
