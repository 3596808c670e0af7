"""A paper page's database reads: a fixed few, however many authors, claims and comments it has."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from paperroute import search
from paperroute.community import authors, comments
from tests.community.helpers import add_paper, user

# Statements a view of the page runs (each cost it 0.3-0.8 ms of CPU in Django; on 2 cores, 90
# rendered paper pages a second: BENCHMARKS.md). Anonymous: the paper with its authors,
# categories and verified claims (4); its versions; its comments and their reactions; the related
# papers, read as the paper is (4).
ANONYMOUS = 11
# Signed in, besides: the session and the user; whether the reader has read it (opening marks
# it); their vote; the collections holding it; its read and dismissed state; their note; their
# collections; their claim on an author; their reactions.
SIGNED_IN = 21


def discussed(key: str, size: int) -> None:
    """A paper with `size` authors, each verified, and `size` comments, each edited, with a reply
    and a reaction."""
    names = tuple(f"Author {i}" for i in range(size))
    paper = add_paper(key, f"Paper {key}", authors=names, listed=date(2024, 11, 28))
    moderator = user("moderator", staff=True)
    for i in range(size):
        reader = user(f"reader{i}")
        assert authors.approve(moderator, authors.claim(reader, paper, i))
        top = comments.add(reader, paper, f"Comment {i}")
        comments.toggle_reaction(reader, comments.add(moderator, paper, f"Reply {i}", parent=top), "👍")
        comments.edit(reader, top, f"Comment {i}, edited")


def reads(client, key: str) -> list[str]:
    client.get(f"/papers/{key}")  # a first visit marks it read and makes the reader's "Saved"
    with CaptureQueriesContext(connection) as caught:
        page = client.get(f"/papers/{key}")
    assert page.status_code == 200 and b"Comment 0, edited" in page.content
    return [q["sql"] for q in caught.captured_queries]


@pytest.mark.django_db
@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_a_paper_page_reads_a_fixed_few_times(client, settings, signed_in):
    settings.CONFIG = settings.CONFIG.replace(rate_comments="10000/hour", page_cache_seconds=0)
    discussed("2411.00001", 1)
    discussed("2411.00002", 6)
    search.sync(embed=False)  # related papers, as the worker leaves them
    if signed_in:
        client.force_login(user("visitor"))
    small, large = reads(client, "2411.00001"), reads(client, "2411.00002")
    assert len(large) == len(small) == (SIGNED_IN if signed_in else ANONYMOUS), "\n".join(large)
