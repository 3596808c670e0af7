"""Votes: one per user per paper, toggled, and counted exactly when clicks race."""

from datetime import date

import pytest

from paperroute.community import votes
from paperroute.community.models import PaperStats, Vote
from tests.community.helpers import add_paper, together, user


@pytest.mark.django_db
def test_a_vote_toggles_and_adds_to_the_hugging_face_count():
    paper = add_paper("2411.00001", hf_upvotes=7)
    reader = user()
    assert votes.toggle(reader, paper).__dict__ == {"upvoted": True, "upvotes": 8}
    assert votes.toggle(reader, paper).__dict__ == {"upvoted": False, "upvotes": 7}
    # Asking for the state it is already in changes nothing.
    votes.set_vote(reader, paper, True)
    assert votes.set_vote(reader, paper, True).upvotes == 8
    assert Vote.objects.filter(paper=paper).count() == 1


def _race(workers):
    assert together(workers) == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_clicks_are_counted_exactly():
    paper = add_paper("2411.00002")
    readers = [user(f"reader{i}") for i in range(6)]
    # Six people upvote at once, and one of them double-clicks three more times.
    work = [lambda r=r: votes.set_vote(r, paper, True) for r in readers]
    work += [lambda: votes.set_vote(readers[0], paper, True)] * 3
    _race(work)
    assert Vote.objects.filter(paper=paper).count() == 6
    assert PaperStats.objects.get(paper=paper).votes == 6
    # Then all of them withdraw at once, some twice.
    _race(
        [lambda r=r: votes.set_vote(r, paper, False) for r in readers]
        + [lambda: votes.set_vote(readers[1], paper, False)] * 2
    )
    assert Vote.objects.filter(paper=paper).count() == 0
    assert PaperStats.objects.get(paper=paper).votes == 0


@pytest.mark.django_db
def test_deleting_a_readers_account_takes_their_votes_and_comments_out_of_the_counts(client):
    """Votes and comments go with the account; the stored counts that cards, the API and
    trending read kept them."""
    from paperroute.community import comments, listings
    from paperroute.community.models import PaperStats

    paper = add_paper("2411.00121", listed=date(2024, 11, 28))
    bob, ada = user("bob"), user("ada")
    votes.set_vote(bob, paper, True)
    votes.set_vote(ada, paper, True)
    comments.add(bob, paper, "hello")
    bob.delete()
    stats = PaperStats.objects.get(paper=paper)
    assert (stats.votes, stats.comments) == (1, 0)
    shown = listings.annotated(listings.Paper.objects.filter(pk=paper.pk)).get()
    assert (shown.upvotes, shown.num_comments) == (1, 0)
    assert client.get("/api/papers/2411.00121").json()["upvotes"] == 1
