"""Themes of a listing: real papers and their real embeddings, grouped and labelled."""

from __future__ import annotations

import random
import re
import time
from collections import Counter

import numpy as np
import pytest

from paperroute.catalog.sources import arxiv_rss, jsonl
from paperroute.demo import HERE as DEMO_DIR
from paperroute.search import embedder
from paperroute.search.themes import GENERIC, MIN_PAPERS, STOP, Theme, ThemeInput, find_themes
from paperroute.search.vectors import Precomputed
from tests.conftest import fixture_bytes

RSS_DAY = "arxiv_rss/rss2_allarchives_2024-11-28_1504items.xml.gz"
SEEDS = "seed-papers.jsonl"
# What no reader wants to see on a chip, whatever the field.
BOILERPLATE = {
    "we",
    "our",
    "paper",
    "propose",
    "proposed",
    "method",
    "methods",
    "results",
    "show",
    "approach",
    "model",
    "models",
    "novel",
    "framework",
    "data",
    "task",
    "performance",
    "study",
    "based",
    "using",
    "new",
    "state-of-the-art",
    "llms",
}


def inputs(records) -> list[ThemeInput]:
    """Papers with the vectors the site would hold for them.

    A paper's vector is the normalised mean of its passage vectors (each passage starts with the
    title, so the mean is the whole abstract with the title weighted in). The passages come from
    the demo's vectors.npz, made by paperroute's own embedder and keyed by the hash of title and
    abstract, so the 1,504 papers need no minutes of embedding; a paper missing there is embedded
    by the real model.
    """
    shipped = Precomputed([DEMO_DIR / "vectors.npz"], embedder.model_id())
    passages = [shipped.get(embedder.text_hash(r.title, r.abstract)) for r in records]
    missing = [i for i, found in enumerate(passages) if found is None]
    if missing:
        made = embedder.shared().embed_papers([(records[i].title, records[i].abstract) for i in missing])
        for i, vectors in zip(missing, made):
            passages[i] = vectors
    out = []
    for pid, (record, vectors) in enumerate(zip(records, passages), start=1):
        mean = vectors.mean(axis=0)
        out.append(
            ThemeInput(pid, record.title, record.abstract, (mean / np.linalg.norm(mean)).astype(np.float32))
        )
    return out


@pytest.fixture(scope="module")
def day():
    """The 1,504 papers of arXiv's announcement of 2024-11-28, and each one's primary category."""
    records = arxiv_rss.parse(fixture_bytes(RSS_DAY)).items
    papers = inputs(records)
    return papers, {p.pid: r.categories[0] for p, r in zip(papers, records)}


@pytest.fixture(scope="module")
def day_themes(day):
    papers, _ = day
    started = time.perf_counter()
    themes = find_themes(papers)
    took = time.perf_counter() - started
    show(f"the 2024-11-28 arXiv day: {len(papers)} papers in {took:.2f} s", themes)
    # About 1 s on two shared cores; this only catches a blunder such as a quadratic loop.
    assert took < 10
    return themes


@pytest.fixture(scope="module")
def seed_papers():
    return inputs(jsonl.parse(fixture_bytes(SEEDS)).items)


def show(title: str, themes: list[Theme]) -> None:
    print(f"\n{title}: {len(themes)} themes")
    for theme in themes:
        print(f"  {len(theme.members):4d}  {theme.label:40s}  ({', '.join(theme.terms)})")


def words(term: str) -> list[str]:
    return re.split(r"[ -]", term)


def assert_readable(themes: list[Theme]) -> None:
    labels = [t.label for t in themes]
    assert len(set(labels)) == len(labels), labels
    for theme in themes:
        parts = theme.label.split(" · ")
        assert len(parts) == 2 and parts == [t for t in theme.terms if t in parts], theme
        label_words = [w for part in parts for w in words(part)]
        assert len(set(label_words)) == len(label_words), f"{theme.label!r} repeats a word"
        assert 1 <= len(theme.terms) <= 5
        for term in theme.terms:
            assert re.fullmatch(r"[^\W_A-Z]+(?:[ -][^\W_A-Z]+)*", term), (
                f"{term!r} is not a plain lower-case term"
            )
            assert term not in STOP | GENERIC | BOILERPLATE, f"{term!r} says nothing of a subject"
            assert words(term)[0] not in STOP and words(term)[-1] not in STOP, (
                f"{term!r} is cut at a stop word"
            )


def assert_partition(themes: list[Theme], papers: list[ThemeInput]) -> None:
    ids = {p.pid for p in papers}
    members = [m for t in themes for m in t.members]
    assert len(members) == len(set(members)), "a paper is in two themes"
    assert set(members) <= ids
    assert [len(t.members) for t in themes] == sorted((len(t.members) for t in themes), reverse=True)
    assert all(len(t.members) >= 2 for t in themes)


def test_a_day_of_every_archive_gets_5_to_15_readable_themes(day, day_themes):
    papers, _ = day
    assert 5 <= len(day_themes) <= 15
    assert_partition(day_themes, papers)
    assert_readable(day_themes)
    # Outliers may be left out, but the themes hold nearly the whole day.
    assert sum(len(t.members) for t in day_themes) >= 0.95 * len(papers)


@pytest.mark.parametrize(
    "subject, archives",
    [
        ("black hole", ("gr-qc", "hep-th", "astro-ph")),
        ("galaxies", ("astro-ph",)),
        ("language models", ("cs.",)),
    ],
)
def test_a_label_names_what_its_papers_are_about(day, day_themes, subject, archives):
    _, category = day
    theme = next(t for t in day_themes if subject in t.label.split(" · "))
    inside = sum(category[m].startswith(archives) for m in theme.members) / len(theme.members)
    assert inside >= 0.8, (theme.label, inside)


def test_a_theme_lists_its_most_central_papers_first(day, day_themes):
    vectors = {p.pid: p.vector for p in day[0]}
    for theme in day_themes:
        rows = np.stack([vectors[m] for m in theme.members])
        closeness = rows @ rows.mean(axis=0)
        assert np.all(np.diff(closeness) <= 1e-6), theme.label


def test_the_same_papers_give_the_same_themes_in_any_order(day, day_themes):
    papers, _ = day
    shuffled = papers[:]
    random.Random(7).shuffle(shuffled)
    assert find_themes(shuffled) == day_themes
    assert find_themes(papers, seed=0) == day_themes


def test_the_computer_science_papers_alone(day):
    papers, category = day
    cs = [p for p in papers if category[p.pid].startswith("cs.")]
    themes = find_themes(cs)
    show(f"the day's {len(cs)} cs.* papers", themes)
    assert 5 <= len(themes) <= 15
    assert_partition(themes, cs)
    assert_readable(themes)


def test_papers_of_unrelated_fields_land_in_separate_themes(day):
    papers, category = day
    archive = {
        pid: next((a for a in ("hep-th", "cs.CL", "q-bio") if c.startswith(a)), None)
        for pid, c in category.items()
    }
    chosen = [p for p in papers if archive[p.pid]]
    assert Counter(archive[p.pid] for p in chosen) == {"cs.CL": 71, "hep-th": 38, "q-bio": 19}
    themes = find_themes(chosen)
    show("hep-th, cs.CL and q-bio papers", themes)
    grouped = sum(len(t.members) for t in themes)
    purity = sum(Counter(archive[m] for m in t.members).most_common(1)[0][1] for t in themes) / grouped
    print(f"  purity {purity:.3f} over {grouped} of {len(chosen)} papers")
    assert grouped >= 0.9 * len(chosen)
    assert purity >= 0.8


def test_the_45_seed_papers_still_get_5_themes(seed_papers):
    themes = find_themes(seed_papers)
    show("the 45 seed papers", themes)
    assert 5 <= len(themes) <= 15
    assert_partition(themes, seed_papers)
    assert_readable(themes)
    # They are all about language models, and the chips still tell their subjects apart.
    assert any("speculative decoding" in t.terms for t in themes)


def test_a_short_listing_gets_no_themes(day):
    papers, _ = day
    assert find_themes([]) == []
    assert find_themes(papers[: MIN_PAPERS - 1]) == []
    assert find_themes(papers[:MIN_PAPERS]) != []


def test_latex_never_reaches_a_term(day, day_themes):
    papers, _ = day
    assert sum("$" in p.abstract or "\\" in p.abstract for p in papers) > 100  # the day has plenty
    for theme in day_themes:
        for term in theme.terms:
            assert not re.search(r"math|frac|\\|\$|[{}^_]", term), term


def test_a_thousand_papers_take_well_under_a_few_seconds(day):
    papers = random.Random(1).sample(day[0], 1000)
    started = time.perf_counter()
    themes = find_themes(papers)
    took = time.perf_counter() - started
    print(f"\n1,000 papers: {len(themes)} themes in {took:.2f} s")
    assert 5 <= len(themes) <= 15
    assert took < 5  # about 0.5 s on two cores


def test_the_shipped_vectors_are_the_models_own(seed_papers):
    # The tests above take the demo's vectors.npz for the model's output; check that on a few
    # papers (float16 storage costs a little precision, nothing more).
    records = jsonl.parse(fixture_bytes(SEEDS)).items[:3]
    made = embedder.shared().embed_papers([(r.title, r.abstract) for r in records])
    for paper, passages in zip(seed_papers, made):
        mean = passages.mean(axis=0)
        assert float(paper.vector @ (mean / np.linalg.norm(mean))) > 0.999
