"""Papers loaded by id for a search, a ranking or a feed (`listings.by_id`, read by
`community.cards`) carry what the listings' querysets give them: the same votes, comments,
submitter, authors in order, categories, verified authors and author-set links, with no
further query when a card or an API record is made from them."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from paperroute.catalog.models import Paper
from paperroute.community import authors, comments, listings, votes
from paperroute.community.models import Submission
from paperroute.web.api_shapes import item_out
from tests.community.helpers import HOSTILE, add_paper, user

DAY = date(2024, 11, 27)


def _shown(paper: Paper) -> dict:
    """Everything of a loaded paper that a card, a feed entry or an API record reads."""
    return {
        "api": item_out(paper),
        "upvotes": paper.upvotes,
        "comments": paper.num_comments,
        "authors": [(a.position, a.author.name, a.author.key) for a in paper.bylines],
        "categories": [c.code for c in paper.ordered_categories],
        "claims": [(c.user.username, c.position) for c in authors.approved(paper)],
        "links": authors.links_of(paper),
        "submitter": paper.submission.user.username if hasattr(paper, "submission") else None,
        "stats": (paper.stats.votes, paper.stats.comments) if hasattr(paper, "stats") else None,
        "published": paper.published,
        "keywords": paper.ai_keywords,
    }


@pytest.fixture
def papers(db):
    """Papers with and without each thing a card shows."""
    busy = add_paper(
        "2411.00901",
        "Busy paper " + HOSTILE,
        authors=("Zoe Zeta", "Ada Lovelace", "Jos\\'e Mu\\~noz"),
        categories=("cs.LG", "cs.CL", "stat.ML"),
        hf_upvotes=7,
        listed=DAY,
    )
    Paper.objects.filter(pk=busy.pk).update(ai_keywords=["decoding", "drafts"])
    quiet = add_paper("2411.00902", "Quiet paper", authors=("Alan Turing",), categories=("math.PR",))
    submitted = add_paper("2411.00903", "Submitted paper", listed=DAY)
    alice, bob, carol = user("alice"), user("bob"), user("carol")
    for reader in (alice, bob):
        votes.set_vote(reader, busy, True)
    comments.add(alice, busy, "Good")
    comments.add(bob, submitted, "Also good")
    Submission.objects.create(paper=submitted, user=carol)
    # Two approved claims (shown newest first) and a pending one (not shown).
    first = authors.claim(alice, busy, 1)
    second = authors.claim(bob, busy, 2)
    authors.claim(carol, busy, 0)
    moderator = user("mod", staff=True)
    assert authors.approve(moderator, first) and authors.approve(moderator, second)
    authors.set_links(alice, busy, "https://github.com/example/busy", "https://example.org/busy")
    return busy, quiet, submitted


def test_papers_by_id_are_shown_as_the_listings_show_them(papers):
    ids = [p.pk for p in papers]
    through_queryset = {p.pk: p for p in listings.annotated(Paper.objects.filter(pk__in=ids))}
    loaded = listings.by_id([*reversed(ids), ids[0], 10**9])  # repeats and a missing id too
    assert set(loaded) == set(ids)
    for pk in ids:
        assert _shown(loaded[pk]) == _shown(through_queryset[pk])
        # One paper by its key, as its page, API record, BibTeX and Markdown read it.
        assert _shown(listings.one(loaded[pk].key)) == _shown(through_queryset[pk])
    assert listings.one("2411.00901v3").key == "2411.00901" and listings.one("2411.00999") is None
    busy, quiet, submitted = (loaded[p.pk] for p in papers)
    # What the fixture set up shows, so that the comparison above is not between two blanks.
    assert busy.upvotes == 9 and busy.num_comments == 1
    assert [a.author.name for a in busy.bylines] == ["Zoe Zeta", "Ada Lovelace", "Jos\\'e Mu\\~noz"]
    assert [c.code for c in busy.ordered_categories] == ["cs.LG", "cs.CL", "stat.ML"]
    assert [c.user.username for c in authors.approved(busy)] == ["bob", "alice"]
    assert authors.links_of(busy) == ("https://github.com/example/busy", "https://example.org/busy")
    assert busy.ai_keywords == ["decoding", "drafts"] and busy.published.tzinfo is not None
    assert item_out(busy)["isAuthorParticipating"] is True
    assert item_out(submitted)["submittedBy"]["user"] == "carol"
    assert quiet.upvotes == 0 and quiet.num_comments == 0 and not authors.approved(quiet)
    assert not hasattr(quiet, "stats") and not hasattr(quiet, "submission")


def test_records_and_cards_of_loaded_papers_read_nothing_more(papers, rf):
    loaded = listings.by_id([p.pk for p in papers])
    with CaptureQueriesContext(connection) as caught:
        records = [item_out(p) for p in loaded.values()]
        html = render_to_string("partials/card.html", {"paper": loaded[papers[0].pk], "request": rf.get("/")})
    assert [q["sql"] for q in caught.captured_queries] == []
    assert len(records) == 3 and "Busy paper" in html and "<script>alert" not in html


def test_no_ids_no_query(db):
    with CaptureQueriesContext(connection) as caught:
        assert listings.by_id([]) == {}
    assert caught.captured_queries == []


def test_many_ids_are_read_in_parts(papers):
    """A reader's library can hold thousands of papers: more ids than one statement takes."""
    ids = [p.pk for p in papers]
    filler = list(range(10**9, 10**9 + 1200))
    loaded = listings.by_id(filler[:700] + ids + filler[700:])
    assert sorted(loaded) == sorted(ids)
    assert loaded[ids[0]].upvotes == 9
