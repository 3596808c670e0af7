"""Keeping the index in step with the catalogue: watermark, late commits, edits, deletions."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from paperroute import search, worker
from paperroute.catalog.models import Paper
from paperroute.search import service
from paperroute.search.index import current_generation, read_manifest, root_dir
from tests.search.conftest import titles

pytestmark = pytest.mark.django_db


@pytest.fixture
def index_dir(seeds, settings, tmp_path):
    """A fresh index directory over the seed catalogue (stored vectors are reused, not re-made)."""
    settings.DATA_DIR = tmp_path
    report = search.sync()
    assert report.rebuilt and report.papers == 45 and report.embedded == 0 and report.reused == 45
    return root_dir(tmp_path)


def keys(query: str, mode: str = "lexical") -> list[str]:
    return [h.key for h in search.search(query, mode=mode, limit=50).hits]


def test_an_index_made_before_names_were_indexed_without_accents_is_rebuilt_by_a_sync(index_dir):
    """Schema 3 indexes hold author names only as written: after an upgrade the worker's syncs
    kept one, and author:camara found nothing for Cámara, until someone ran a rebuild."""
    from paperroute.search.index import write_manifest

    generation = current_generation(index_dir)
    write_manifest(generation, {**read_manifest(generation), "schema": 3})
    # The worker syncs at once, not at its next round (up to ten minutes after the upgrade).
    assert worker.index_behind()
    report = search.sync()
    assert report.rebuilt and report.reused == 45 and report.embedded == 0
    assert read_manifest(current_generation(index_dir))["schema"] > 3
    assert not worker.index_behind()


def test_a_second_sync_finds_nothing_to_do(index_dir):
    report = search.sync()
    assert (report.indexed, report.embedded, report.removed, report.rebuilt) == (0, 0, 0, False)


def test_an_edited_abstract_is_reindexed_and_reembedded(index_dir):
    paper = Paper.objects.get(title__startswith="KLUE")
    assert paper.key not in keys("zanzibar")
    paper.abstract += " We also cover Zanzibar."
    paper.changed_at = timezone.now()
    paper.save()
    report = search.sync()
    assert report.indexed == 1 and report.embedded == 1
    assert keys("zanzibar") == [paper.key]
    assert paper.key in keys("zanzibar", mode="hybrid")[:1]
    # The old version is gone from the index, not listed beside the new one.
    assert keys("korean language understanding evaluation").count(paper.key) == 1
    assert service.open_index().lexical.num_docs == 45


def test_a_change_committed_late_with_an_older_timestamp_is_not_missed(index_dir):
    # Ingest stamps changed_at when its batch starts; a batch that commits after a sync has
    # read newer stamps shows up "in the past". The safety window must still catch it.
    manifest = read_manifest(current_generation(index_dir))
    paper = Paper.objects.get(title__startswith="Zero-Shot Tokenizer")
    paper.title = "Zero-Shot Tokenizer Transfer for Quokkas"
    paper.changed_at = timezone.datetime.fromisoformat(manifest["paper_mark"]) - timedelta(minutes=5)
    paper.save()
    assert search.sync().indexed == 1
    assert keys("quokkas") == [paper.key]


def test_metadata_changes_reach_the_filters_of_both_retrievers(index_dir):
    paper = Paper.objects.get(title__startswith="LongHeads")
    paper.primary_category = "cs.CL"
    paper.listed_on = timezone.now().date()
    paper.changed_at = timezone.now()
    paper.save()
    search.sync()
    for mode in search.MODES:
        found = search.search("long context attention heads", mode=mode, since=paper.listed_on, limit=10)
        assert [h.key for h in found.hits] == [paper.key], mode


def test_deleted_papers_leave_the_index(index_dir):
    paper = Paper.objects.get(title__startswith="Lexinvariant")
    assert paper.key in keys("lexinvariant")
    paper.delete()
    report = search.sync()
    assert report.removed == 1 and report.papers == 44
    assert keys("lexinvariant") == []
    assert service.open_index().lexical.num_docs == 44
    assert paper.key not in keys("language models without a fixed vocabulary", mode="semantic")


def test_a_missing_index_is_not_built_by_a_search_but_by_the_worker(index_dir):
    import shutil

    shutil.rmtree(index_dir)
    service._indexes.clear()
    missing = search.search("attention sinks", mode="hybrid", limit=1)
    assert missing.hits == [] and missing.behind and "not been built yet" in missing.message
    assert current_generation(index_dir) is None  # a search (a web request) wrote nothing
    assert search.suggest("attention si") == []
    assert worker.index_behind()
    worker.sync_index()
    found = search.search("attention sinks", mode="hybrid", limit=1)
    assert titles(found) == ["Efficient Streaming Language Models with Attention Sinks"]
    assert not found.behind and not worker.index_behind()
    assert current_generation(index_dir) is not None


def test_a_stale_index_says_so_until_the_worker_syncs_it(index_dir):
    assert not search.search("tokens", limit=1).behind
    generation = current_generation(index_dir)
    paper = Paper.objects.get(title__startswith="Unsupervised Matching")
    paper.abstract += " Wombats."
    paper.changed_at = timezone.now()
    paper.save()
    service._last_stale_check.clear()  # as if the few seconds between checks had passed
    stale = search.search("wombats", mode="lexical", limit=50)
    assert stale.hits == [] and stale.behind and "index is behind" in stale.message
    assert read_manifest(current_generation(index_dir)) == read_manifest(generation)  # not synced
    assert worker.index_behind()
    worker.sync_index()
    assert keys("wombats") == [paper.key]
    assert not search.search("wombats", mode="lexical", limit=1).behind


def test_rebuild_reuses_stored_vectors(index_dir):
    report = search.rebuild()
    assert report.rebuilt and report.papers == 45 and report.embedded == 0 and report.reused == 45
    assert titles(search.search("guess several tokens and verify them", mode="semantic", limit=1))


def test_the_index_keeps_no_second_copy_of_the_abstracts(index_dir):
    """Results take their titles and snippets from the catalogue: the index's copy of every
    abstract was 973 MiB of its 1,385 at 1M papers, paged into every web process's memory."""
    lexical = current_generation(index_dir) / "lexical"
    stored = sum(f.stat().st_size for f in lexical.glob("*.store"))
    abstracts = sum(len(a.encode()) for a in Paper.objects.values_list("abstract", flat=True))
    assert stored < abstracts / 20
    hit = search.search("korean language understanding", mode="lexical").hits[0]
    paper = Paper.objects.get(key=hit.key)
    assert hit.title == paper.title and hit.snippet.strip("… ") in " ".join(paper.abstract.split())
    assert any(hit.snippet[start:end].lower() == "korean" for start, end in hit.highlights)


def test_a_deleted_or_retitled_paper_shows_as_it_is_now_before_the_next_sync(index_dir):
    gone = Paper.objects.get(title__startswith="Lexinvariant")
    assert gone.key in keys("lexinvariant")
    gone.delete()
    assert keys("lexinvariant") == []  # still in the index until the sync, never shown
    paper = Paper.objects.get(title__startswith="KLUE")
    paper.title = "KLUE, corrected: Korean Language Understanding Evaluation"
    paper.save()
    hit = next(h for h in search.search("korean language understanding").hits if h.key == paper.key)
    assert hit.title == paper.title


def test_a_word_only_an_edited_away_version_held_is_known_to_no_paper(index_dir):
    paper = Paper.objects.get(title__startswith="KLUE")
    paper.abstract += " We also cover Zanzibar."
    paper.changed_at = timezone.now()
    paper.save()
    # Another paper indexed beside it, so that their segment outlives the edited-away document.
    other = Paper.objects.get(title__startswith="Lexinvariant")
    other.changed_at = timezone.now()
    other.save()
    assert search.sync().indexed == 2
    query = "korean language understanding zanzibar"
    assert "zanzibar" not in search.search(query).message
    paper.abstract = paper.abstract.replace(" We also cover Zanzibar.", "")
    paper.changed_at = timezone.now()
    paper.save()
    search.sync()
    # The replaced document still counts in the term's frequency until segments merge.
    lexical = service.open_index().lexical
    assert lexical.searcher.doc_freq("text", "zanzibar") == 1
    found = search.search(query)
    assert paper.key in [h.key for h in found.hits]
    assert "no paper contains “zanzibar”" in found.message
    # A common word's count is every paper holding it, each once.
    assert lexical.papers_with("language") == len(keys("language"))


@pytest.mark.parametrize("spread", [1, 10], ids=["nearly-consecutive", "scattered"])
def test_a_sync_reads_exactly_the_papers_it_was_given(index_dir, spread):
    """load_docs reads nearly consecutive ids as a range (as in a rebuild) and others as a list:
    either way each paper comes with its own authors and categories, and none it was not asked
    for comes along."""
    from paperroute.catalog.models import Category
    from paperroute.search.documents import load_docs

    papers = list(Paper.objects.order_by("pk")[: 4 * spread : spread])
    for number, paper in enumerate(papers):
        paper.categories.set([Category.objects.get_or_create(code=f"cs.T{number}")[0]])
    wanted = [p.pk for p in papers]
    if spread == 1:
        wanted.pop(1)  # a gap inside the range: that paper must not be read
    docs = list(load_docs(wanted))
    assert sorted(d.pid for d in docs) == wanted
    for doc in docs:
        paper = Paper.objects.get(pk=doc.pid)
        assert doc.title == paper.title
        assert doc.authors == [a.author.name for a in paper.authorships.order_by("position")]
        assert doc.categories == [c.code for c in paper.categories.all()]


def test_a_cached_search_page_is_not_served_after_the_index_changes(index_dir, client, settings):
    """Pages were cached by the database's stamp alone: after a sync or a rebuild (an upgrade's,
    say) readers got the search page from before it for five minutes."""
    settings.CONFIG = settings.CONFIG.replace(page_cache_seconds=300)
    # A change committed late, stamped before the index's mark (as in the test above): the
    # catalogue's latest change, so the site stamp, stays as it was.
    manifest = read_manifest(current_generation(index_dir))
    paper = Paper.objects.get(title__startswith="KLUE")
    paper.abstract += " We also cover Zanzibar."
    paper.changed_at = timezone.datetime.fromisoformat(manifest["paper_mark"]) - timedelta(minutes=5)
    paper.save()
    url = "/search?q=zanzibar&mode=lexical"
    before = client.get(url)
    assert "KLUE" not in before.content.decode()  # the index has not seen it yet
    assert client.get(url)["X-Page-Cache"] == "hit"
    # The worker's sync, as a web process sees it: its open index is not told, and it looks
    # at the disk again only a second after it last did.
    index = service._indexes[service._config()[0]]
    checked = index.checked
    assert search.sync().indexed == 1  # the stamp did not change, the index did
    index.checked = checked
    time.sleep(service.VERSION_CHECK)  # how long the cache's look at the disk may lag
    after = client.get(url)
    assert after["X-Page-Cache"] == "miss" and "KLUE" in after.content.decode()
    assert "KLUE" in client.get(url).content.decode()


def test_a_sync_with_nothing_to_do_keeps_the_cached_pages(index_dir):
    """Every sync rewrites the manifest; keyed by its time, the worker's sync every ten minutes
    emptied the page cache of every process."""
    before = search.version()
    report = search.sync()
    assert (report.indexed, report.removed, report.embedded) == (0, 0, 0)
    assert search.version() == before != ""


def test_an_unreadable_index_pointer_costs_search_only(index_dir, client, settings):
    """The page cache asks which index is on disk for every page: an error reading it (here a
    directory where the pointer file should be) gave a 500 on every anonymous page."""
    settings.CONFIG = settings.CONFIG.replace(page_cache_seconds=300)
    pointer = index_dir / "CURRENT"
    kept = pointer.read_text()
    pointer.unlink()
    pointer.mkdir()
    service._versions.clear()  # as VERSION_CHECK seconds later
    try:
        assert client.get("/").status_code == 200
    finally:
        pointer.rmdir()
        pointer.write_text(kept)
