"""How records fold into a paper (paperroute.catalog.merge), without a database."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

import pytest

from paperroute.catalog.merge import PaperState, better_time, merge, paper_key, prepare
from paperroute.catalog.records import HFInfo, PaperRecord

NOW = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 8, 2, 12, 0, tzinfo=UTC)


def arxiv(source: str = "arxiv-api", **fields: Any) -> PaperRecord:
    values: dict[str, Any] = {
        "arxiv_id": "2607.28582",
        "title": "Beta-OPSD: a paper",
        "abstract": "arXiv's abstract.",
        "authors": ["Ada One", "Bo Two"],
        "categories": ["cs.LG", "cs.AI"],
        "published": datetime(2026, 7, 30, 17, 59, 56, tzinfo=UTC),
        "version": 1,
        "versions": {1: datetime(2026, 7, 30, 17, 59, 56, tzinfo=UTC)},
    }
    values.update(fields)
    return prepare(PaperRecord(source=source, position="entry 1", **values))


def hf(**fields: Any) -> PaperRecord:
    values: dict[str, Any] = {
        "arxiv_id": "2607.28582",
        "title": "beta-OPSD, as Hugging Face spells it",
        "abstract": "Hugging Face's abstract.",
        "authors": ["A. One"],
        "submitted_on": date(2026, 7, 31),
        "hf": HFInfo(upvotes=19, github_repo="https://github.com/x/beta", ai_keywords=["rl"]),
    }
    values.update(fields)
    return prepare(PaperRecord(source="hf-daily", position="paper 1", **values))


def fold_all(*records: PaperRecord, now: datetime = NOW) -> PaperState:
    state = None
    for record in records:
        state, _ = merge(state, record, now)
    assert state is not None
    return state


def test_a_first_record_makes_a_new_paper_with_arxiv_links():
    state, outcome = merge(None, arxiv(), NOW)
    assert outcome == "new"
    c = state.columns
    assert (c.key, c.arxiv_id, c.title, c.latest_version) == (
        "2607.28582",
        "2607.28582",
        "Beta-OPSD: a paper",
        1,
    )
    assert (c.abs_url, c.pdf_url) == ("https://arxiv.org/abs/2607.28582", "https://arxiv.org/pdf/2607.28582")
    assert state.authors == ("Ada One", "Bo Two")
    assert state.sightings == {"arxiv-api": NOW}


@pytest.mark.parametrize(
    "record", [arxiv(), hf(), arxiv("arxiv-rss", announcements=[(date(2026, 7, 31), "new")])]
)
def test_merging_the_same_record_again_changes_nothing(record):
    first, _ = merge(None, record, NOW)
    again, outcome = merge(first, record, LATER)
    assert outcome == "unchanged" and again == first


def test_merge_leaves_the_state_it_was_given_alone():
    before = fold_all(arxiv())
    copy = dataclasses.replace(before, versions=dict(before.versions), sightings=dict(before.sightings))
    merge(before, arxiv(title="A new title", version=2, versions={2: LATER}), LATER)
    assert before == copy
    with pytest.raises(dataclasses.FrozenInstanceError):
        before.authors = ()  # type: ignore[misc]


def test_hugging_face_does_not_overwrite_arxivs_texts_authors_or_categories():
    state, outcome = merge(fold_all(arxiv()), hf(categories=["cs.CV"]), LATER)
    assert outcome == "updated"
    assert state.columns.title == "Beta-OPSD: a paper"
    assert state.columns.abstract == "arXiv's abstract."
    assert state.authors == ("Ada One", "Bo Two")
    assert state.categories == ("cs.LG", "cs.AI") and state.columns.primary_category == "cs.LG"
    # ...but adds its own fields.
    assert state.columns.hf_upvotes == 19 and state.columns.submitted_on == date(2026, 7, 31)
    assert state.sightings == {"arxiv-api": NOW, "hf-daily": LATER}


def test_arxiv_overwrites_what_hugging_face_gave_first():
    state = fold_all(hf(), arxiv())
    assert state.columns.title == "Beta-OPSD: a paper" and state.columns.abstract == "arXiv's abstract."
    assert state.authors == ("Ada One", "Bo Two")


def test_hugging_face_fills_what_arxiv_left_empty():
    state = fold_all(arxiv(abstract="", comments=""), hf(comments="ICML 2026"))
    assert state.columns.abstract == "Hugging Face's abstract." and state.columns.comments == "ICML 2026"


def test_a_newer_version_overwrites_and_an_older_one_does_not():
    v2 = arxiv(title="Revised", authors=["Ada One"], version=2, versions={2: LATER})
    state = fold_all(arxiv(), v2)
    assert (state.columns.title, state.columns.latest_version, state.authors) == ("Revised", 2, ("Ada One",))
    assert set(state.versions) == {1, 2}
    late, outcome = merge(state, arxiv(), LATER)
    assert outcome == "unchanged" and late.columns.title == "Revised"


def test_a_record_without_a_version_overwrites_like_a_current_one():
    state = fold_all(arxiv(version=3, versions={}), arxiv(title="Fixed", version=0, versions={}))
    assert state.columns.title == "Fixed" and state.columns.latest_version == 3


def test_the_latest_version_is_listed_even_without_a_date():
    state = fold_all(arxiv(version=3, versions={}))
    assert state.versions == {3: None}


def test_categories_primary_first_then_alphabetical_once_each():
    state = fold_all(arxiv(categories=["cs.LG", "stat.ML", "cs.AI", "cs.LG", "cs.AI"]))
    assert state.categories == ("cs.LG", "cs.AI", "stat.ML") and state.columns.primary_category == "cs.LG"


def test_authors_keep_their_order_without_repeats():
    assert fold_all(arxiv(authors=["B", "A", "B"])).authors == ("B", "A")


def test_abstract_and_pdf_links_follow_arxiv_code_links_only_fill_gaps():
    seed = prepare(
        PaperRecord(
            source="seed",
            position="line 1",
            title="Beta-OPSD: a paper",
            abstract="Code: https://github.com/first/repo",
            abs_url="https://example.org/paper",
        )
    )
    state = fold_all(seed, arxiv(abstract="See https://github.com/second/repo"))
    assert state.columns.abs_url == "https://arxiv.org/abs/2607.28582"
    assert state.columns.code_url == "https://github.com/first/repo"


def test_an_arxiv_record_gives_a_seed_its_id_as_key():
    seed = prepare(PaperRecord(source="seed", position="line 1", title="Beta-OPSD: a paper"))
    state = fold_all(seed)
    assert state.columns.key.startswith("seed:")
    merged, _ = merge(state, arxiv(), NOW)
    assert (merged.columns.key, merged.columns.arxiv_id) == ("2607.28582", "2607.28582")
    assert set(merged.sightings) == {"seed", "arxiv-api"}


def test_paper_key_prefers_arxiv_id_then_doi_then_url_then_title():
    def key(**fields: Any) -> str:
        return paper_key(PaperRecord(source="jsonl", position="1", title="A Title", **fields))

    assert key(arxiv_id="2401.00001", doi="10.1/X") == "2401.00001"
    assert key(doi="10.1/X") == "doi:10.1/x"
    assert key(url="https://example.org").startswith("url:")
    assert key().startswith("seed:") and key() == paper_key(
        PaperRecord(source="seed", position="9", title="a  TITLE!")
    )


def test_times_prefer_the_more_precise_on_the_same_day_and_arxiv_on_another():
    midnight = datetime(2026, 7, 30, tzinfo=UTC)
    precise = datetime(2026, 7, 30, 17, 59, tzinfo=UTC)
    other_day = datetime(2026, 7, 29, 10, 0, tzinfo=UTC)
    assert better_time(midnight, precise, authoritative=False) == precise
    assert better_time(precise, midnight, authoritative=True) == precise
    assert better_time(precise, other_day, authoritative=False) == precise
    assert better_time(precise, other_day, authoritative=True) == other_day
    assert better_time(None, precise, False) == precise and better_time(precise, None, True) == precise


def test_published_from_hugging_face_does_not_move_arxivs_date():
    state = fold_all(arxiv(), hf(published=datetime(2026, 7, 31, 9, 0, tzinfo=UTC)))
    assert state.columns.published == datetime(2026, 7, 30, 17, 59, 56, tzinfo=UTC)


def test_updated_only_moves_forward():
    state = fold_all(arxiv(updated=LATER), arxiv(updated=NOW))
    assert state.columns.updated == LATER


def test_listing_day_from_the_first_new_announcement_else_from_the_submission_time():
    # Submitted 13:59 in New York on Thursday 30 July: listed on Friday 31 July.
    assert fold_all(arxiv()).columns.listed_on == date(2026, 7, 31)
    # The RSS feed's own announcements win over the estimate.
    rss = arxiv("arxiv-rss", published=None, announcements=[(date(2026, 8, 3), "new")])
    state = fold_all(arxiv(), rss)
    assert state.columns.announced_on == state.columns.listed_on == date(2026, 8, 3)
    # A replacement announcement does not set the day, nor does a later "new" for the same day.
    replaced = fold_all(arxiv("arxiv-rss", published=None, announcements=[(date(2026, 8, 3), "replace")]))
    assert replaced.columns.announced_on is None and replaced.announcements == {date(2026, 8, 3): "replace"}
    again = fold_all(
        arxiv("arxiv-rss", published=None, announcements=[(date(2026, 8, 3), "replace")]),
        arxiv("arxiv-rss", published=None, announcements=[(date(2026, 8, 3), "new")]),
    )
    assert again.announcements == {date(2026, 8, 3): "replace"}


def test_a_submission_day_lists_the_paper_before_the_announcement():
    state = fold_all(arxiv(), hf(submitted_on=date(2026, 7, 31)), hf(submitted_on=date(2026, 7, 30)))
    assert state.columns.submitted_on == state.columns.listed_on == date(2026, 7, 30)
    assert state.columns.announced_on == date(2026, 7, 31)


def test_hugging_face_counts_follow_the_latest_response_and_empty_values_keep_the_old():
    state = fold_all(hf(), hf(hf=HFInfo(upvotes=301, github_repo="")))
    assert state.columns.hf_upvotes == 301
    assert state.columns.github_repo == "https://github.com/x/beta"
    assert state.columns.ai_keywords == ["rl"]


def test_each_source_keeps_the_first_time_it_saw_the_paper():
    state = fold_all(arxiv(), arxiv(), now=LATER)
    assert state.sightings == {"arxiv-api": LATER}
    earlier = arxiv("jsonl", sightings={"arxiv-api": NOW, "hf-daily": LATER})
    assert merge(state, earlier, LATER)[0].sightings == {"arxiv-api": NOW, "hf-daily": LATER}
