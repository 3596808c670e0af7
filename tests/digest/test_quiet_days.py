"""A period nobody voted on, as most days of a new lab install are: no "Trending" section of
papers without votes, the period's new papers under a heading that says so, the community's
picks and the site's categories first, and a subject that never names an arbitrary paper."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from paperroute.community import votes
from paperroute.community.models import Vote
from paperroute.digest import runs
from paperroute.digest.models import SentPaper, Subscriber
from paperroute.digest.periods import daily, weekly
from paperroute.digest.smtp import messenger_factory
from tests.community.helpers import add_paper, user
from tests.digest.conftest import DAY, config, subscriber
from tests.digest.test_content import titles_in

pytestmark = pytest.mark.django_db

NEXT = DAY + timedelta(days=1)


@pytest.fixture
def quiet_day(settings):
    """Thursday's papers, none voted on; the site follows cs.CL and cs.LG. The lower a paper's
    arXiv id, the less it is about them, so that listing order alone would put it first."""
    config(settings, digest_concurrency=1, arxiv_categories=("cs.CL", "cs.LG"))
    return {
        "physics": add_paper(
            "2411.00001", "Neutrino masses from lattice data", listed=DAY, categories=("hep-ph",)
        ),
        "cross": add_paper(
            "2411.00002", "Forecasting floods", listed=DAY, categories=("stat.AP", "cs.LG")
        ),  # filed in statistics, cross-listed to cs.LG
        "language": add_paper(
            "2411.00003", "Tokenizers for rare languages", listed=DAY, categories=("cs.CL",)
        ),
        "learning": add_paper("2411.00004", "Optimizers that forget", listed=DAY, categories=("cs.LG",)),
    }


def vote_on(paper, day):
    """An upvote, as the site records it, cast at noon on `day`."""
    voter = user("voter")
    votes.set_vote(voter, paper, True)
    Vote.objects.filter(user=voter, paper=paper).update(
        created_at=datetime.combine(day, time(12), tzinfo=UTC)
    )


def send(period):
    return runs.send(period, messenger_factory=messenger_factory())


def test_papers_nobody_voted_on_are_new_not_trending_and_the_subject_counts_them(smtp, quiet_day):
    subscriber("ada@example.org", max_papers=10)
    assert send(daily(DAY)).complete
    message = smtp.wait_for("ada@example.org")
    text = smtp.text(message)
    assert "trending" not in text.lower() and "trending" not in smtp.html(message).lower()
    assert "NEW ON THURSDAY" in text and text.startswith("New papers, Thursday")
    # Papers filed in the site's categories first, then those cross-listed there, then the rest.
    assert titles_in(text, quiet_day) == ["language", "learning", "cross", "physics"]
    assert "0 upvotes" not in text
    assert message.parsed()["Subject"] == "Daily papers, Thu 28 Nov: 4 new papers"


def test_a_community_pick_leads_the_new_papers_and_the_subject(smtp, quiet_day):
    # Listed by Hugging Face's daily papers, with no upvotes yet.
    quiet_day["pick"] = add_paper(
        "2411.00009", "Agents that read papers", listed=DAY, hf_upvotes=0, categories=("cs.AI",)
    )
    subscriber("ada@example.org", max_papers=3)
    send(daily(DAY))
    message = smtp.wait_for("ada@example.org")
    assert titles_in(smtp.text(message), quiet_day) == ["pick", "language", "learning"]
    assert message.parsed()["Subject"] == "Daily papers, Thu 28 Nov: Agents that read papers"


def test_a_few_votes_make_a_short_trending_section_topped_up_with_new_papers(smtp, quiet_day):
    vote_on(quiet_day["physics"], DAY)
    subscriber("ada@example.org", max_papers=2)
    send(daily(DAY))
    message = smtp.wait_for("ada@example.org")
    trending, new = smtp.text(message).split("NEW ON THURSDAY")
    assert "TRENDING ON THURSDAY" in trending and titles_in(trending, quiet_day) == ["physics"]
    assert "1 upvote" in trending
    assert titles_in(new, quiet_day) == ["language"]
    assert message.parsed()["Subject"] == "Daily papers, Thu 28 Nov: Neutrino masses from lattice data"


def test_a_new_paper_mailed_once_is_not_mailed_again(smtp, quiet_day):
    ada = subscriber("ada@example.org", max_papers=2)
    send(daily(DAY))
    assert titles_in(smtp.text(smtp.wait_for("ada@example.org")), quiet_day) == ["language", "learning"]
    # Switched to the weekly digest: the week's new papers are the same ones.
    Subscriber.objects.filter(pk=ada.pk).update(frequency="weekly")
    send(weekly(DAY))
    assert titles_in(smtp.text(smtp.wait_for("ada@example.org", 2)), quiet_day) == ["cross", "physics"]
    sent = list(SentPaper.objects.filter(subscriber=ada).values_list("paper__key", flat=True))
    assert sorted(sent) == ["2411.00001", "2411.00002", "2411.00003", "2411.00004"]


def test_a_quiet_week_says_new_in_the_week(smtp, quiet_day):
    subscriber("weekly@example.org", frequency="weekly", categories=["cs"])
    send(weekly(DAY))
    message = smtp.wait_for("weekly@example.org")
    text = smtp.text(message)
    assert "NEW IN THE WEEK OF NOVEMBER 25" in text and "trending" not in text.lower()
    assert titles_in(text, quiet_day) == ["language", "learning", "cross"]  # in cs only, as chosen
    # Counted in the subscriber's categories: the physics paper is not theirs.
    assert message.parsed()["Subject"] == "Weekly papers, week of Nov 25: 3 new papers"
