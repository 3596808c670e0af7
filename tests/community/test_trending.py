"""Trending: votes decay with time, so that recent interest beats an old pile of votes."""

import math
from datetime import UTC, date, datetime, timedelta

import pytest

from paperroute.community import trending, votes
from paperroute.community.models import Vote
from tests.community.helpers import add_paper, user

NOW = datetime(2026, 11, 28, 15, tzinfo=UTC)


def _votes(paper, count, when):
    """Votes cast through the real path, then dated to `when`."""
    for i in range(count):
        votes.set_vote(user(f"v{paper.pk}-{i}"), paper, True)
    Vote.objects.filter(paper=paper).update(created_at=when)


def test_fifty_votes_last_month_do_not_beat_twenty_today():
    old = trending.decayed_log2([(NOW - timedelta(days=30), 50)], NOW, 24)
    new = trending.decayed_log2([(NOW - timedelta(hours=3), 20)], NOW, 24)
    assert new > old
    # Within one day, more votes still win.
    assert trending.decayed_log2([(NOW, 21)], NOW, 24) > trending.decayed_log2([(NOW, 20)], NOW, 24)


def test_very_old_votes_still_rank_without_underflow():
    older = trending.decayed_log2([(NOW - timedelta(days=4000), 5)], NOW, 24)
    oldest = trending.decayed_log2([(NOW - timedelta(days=4001), 5)], NOW, 24)
    assert older > oldest > float("-inf")


@pytest.mark.django_db
def test_the_trending_page_ranking_prefers_todays_votes():
    old = add_paper("2410.00001", "Old favourite", listed=date(2026, 10, 28))
    new = add_paper("2411.00003", "Today's paper", listed=date(2026, 11, 28))
    add_paper("2411.00004", "Nobody voted", listed=date(2026, 11, 28))
    _votes(old, 50, NOW - timedelta(days=29))
    _votes(new, 20, NOW - timedelta(hours=2))
    ranked, latest = trending.now_trending(now=NOW)
    assert latest == NOW - timedelta(hours=2)
    # The unvoted paper tops the list up, after the voted ones.
    assert [r.paper.key for r in ranked] == ["2411.00003", "2410.00001", "2411.00004"]
    assert [r.upvotes for r in ranked] == [20, 50, 0]


@pytest.mark.django_db
def test_hugging_face_upvotes_count_from_their_listing_day():
    add_paper("2411.00005", listed=date(2026, 11, 27), hf_upvotes=30)
    fresh = add_paper("2411.00006", listed=date(2026, 11, 28))
    _votes(fresh, 12, NOW - timedelta(hours=1))
    ranked, _ = trending.now_trending(now=NOW)
    # 30 votes from yesterday noon (27 hours ago) are worth about 13.7 of today's: more than 12.
    assert [r.paper.key for r in ranked] == ["2411.00005", "2411.00006"]


@pytest.mark.django_db
def test_one_readers_votes_do_not_collapse_the_page():
    # A quiet site: a Hugging Face day from July, and papers nobody voted on.
    for i in range(28):
        add_paper(f"2607.{i:05d}", listed=date(2026, 7, 31), hf_upvotes=40 - i)
    fresh = [add_paper(f"2611.{i:05d}", listed=date(2026, 11, 27)) for i in range(12)]
    before, _ = trending.now_trending(now=NOW)
    assert len(before) == 30
    assert [r.paper.key for r in before[:28]] == [f"2607.{i:05d}" for i in range(28)]
    # One reader casts three votes today: they lead, and July's papers stay below them.
    for paper in fresh[:3]:
        _votes(paper, 1, NOW - timedelta(minutes=30))
    after, _ = trending.now_trending(now=NOW)
    assert len(after) >= 30
    assert {r.paper.key for r in after[:3]} == {p.key for p in fresh[:3]}
    assert [r.paper.key for r in after[3:31]] == [f"2607.{i:05d}" for i in range(28)]


@pytest.mark.django_db
def test_scores_follow_the_documented_formula_over_simulated_days():
    """score = Σ votes · 2^(-age in hours / 24): Hugging Face upvotes at noon UTC of their
    listing day, votes here at the middle of the hour they were cast in."""
    start = datetime(2026, 11, 20, tzinfo=UTC)
    papers = [
        add_paper(f"2611.1{i:04d}", listed=date(2026, 11, 19), hf_upvotes=hf)
        for i, hf in enumerate((0, 3, 10, 0, 1))
    ]
    # A few dozen votes over a week: paper i gets i+1 votes on day d at (5 + 3·i) h 30 min.
    cast = []
    for day in range(7):
        for i, paper in enumerate(papers):
            if (day + i) % 3 == 0:
                when = start + timedelta(days=day, hours=5 + 3 * i, minutes=30)
                for n in range(i + 1):
                    vote = votes.set_vote(user(f"r{day}-{i}-{n}"), paper, True)
                    assert vote.upvoted
                Vote.objects.filter(paper=paper, created_at__gt=when).update(created_at=when)
                cast.append((paper.pk, when, i + 1))
    assert len(cast) == 12 and sum(n for _, _, n in cast) == 35
    hf_moment = datetime(2026, 11, 19, 12, tzinfo=UTC)
    for day in range(1, 8):
        at = start + timedelta(days=day)
        expected = {}
        for paper in papers:
            total = (paper.hf_upvotes or 0) * 2 ** (-(at - hf_moment).total_seconds() / 3600 / 24)
            total += sum(
                n * 2 ** (-(at - when).total_seconds() / 3600 / 24)
                for pk, when, n in cast
                if pk == paper.pk and when <= at
            )
            expected[paper.pk] = math.log2(total) if total else -math.inf
        got = trending.score({p.pk for p in papers}, at)
        for pk, value in expected.items():
            assert got[pk] == pytest.approx(value, abs=1e-9), (day, pk)
        order = [r.paper.pk for r in trending.rank({p.pk for p in papers}, at, 10)]
        assert order == sorted(
            (pk for pk in expected if expected[pk] > -math.inf), key=lambda pk: -expected[pk]
        )


@pytest.mark.django_db
def test_a_quiet_site_shows_what_trended_when_it_was_last_active():
    add_paper("2607.00001", listed=date(2026, 7, 31), hf_upvotes=5)
    add_paper("2607.00002", listed=date(2026, 7, 31), hf_upvotes=9)
    ranked, latest = trending.now_trending(now=NOW)
    assert latest.date() == date(2026, 7, 31)
    assert [r.paper.key for r in ranked] == ["2607.00002", "2607.00001"]


@pytest.mark.django_db
def test_top_of_a_period_for_digests():
    monday = add_paper("2411.00010", listed=date(2026, 11, 23))
    friday = add_paper("2411.00011", listed=date(2026, 11, 27))
    add_paper("2411.00012", listed=date(2026, 11, 16), hf_upvotes=100)  # the week before
    _votes(monday, 9, datetime(2026, 11, 23, 10, tzinfo=UTC))
    _votes(friday, 4, datetime(2026, 11, 27, 10, tzinfo=UTC))
    ranked = trending.top(date(2026, 11, 23), date(2026, 11, 29), limit=5, now=NOW)
    # Friday's 4 votes are fresher at the week's end than Monday's 9 (four days older).
    assert [r.paper.key for r in ranked] == ["2411.00011", "2411.00010"]
    assert trending.top(date(2026, 11, 23), date(2026, 11, 29), limit=1, now=NOW)[0].paper == friday


@pytest.mark.django_db
def test_papers_tied_at_the_cut_are_chosen_by_the_tie_rule():
    """Three papers with the same Hugging Face upvotes on the same day: the first of the full
    ranking must also be the top 1, or a page of the API repeats a paper and skips another."""
    day, at = date(2024, 11, 27), datetime(2024, 11, 28, tzinfo=UTC)
    papers = [
        add_paper(
            f"2411.0010{n}", listed=day, hf_upvotes=5, published=datetime(2024, 11, 20 + 2 * n, tzinfo=UTC)
        )
        for n in range(1, 4)
    ]
    ids = {paper.pk for paper in papers}
    full = [r.paper.key for r in trending.rank(ids, at, 3)]
    assert full == ["2411.00103", "2411.00102", "2411.00101"]  # the newer paper first
    for limit in (1, 2):
        assert [r.paper.key for r in trending.rank(ids, at, limit)] == full[:limit]


@pytest.mark.django_db
def test_a_listing_in_trending_order_keeps_papers_whose_votes_count_later():
    from django.utils import timezone

    from paperroute.catalog.models import Paper

    tomorrow = timezone.now().date() + timedelta(days=1)
    add_paper("2411.00111", listed=tomorrow, hf_upvotes=3)
    add_paper("2411.00112", listed=tomorrow)
    order = trending.TrendingOrder(Paper.objects.filter(listed_on=tomorrow), timezone.now())
    assert order.count() == 2
