"""Comments: plain text, edited or deleted by their author only, hidden by moderators."""

import pytest

from paperroute.community import comments
from paperroute.community.errors import InvalidInput, NotAllowed
from paperroute.community.models import PaperStats
from tests.community.helpers import add_paper, user


@pytest.mark.django_db
def test_authors_edit_and_delete_their_own_comments_only():
    paper = add_paper("2411.00020")
    alice, bob = user("alice"), user("bob")
    comment = comments.add(alice, paper, "  Nice result, see https://example.org/x  ")
    assert comment.body == "Nice result, see https://example.org/x"
    assert PaperStats.objects.get(paper=paper).comments == 1
    with pytest.raises(NotAllowed):
        comments.edit(bob, comment, "vandalised")
    with pytest.raises(NotAllowed):
        comments.delete(bob, comment)
    comments.edit(alice, comment, "Edited")
    comment.refresh_from_db()
    assert comment.body == "Edited" and comment.edited_at is not None
    comments.delete(alice, comment)
    assert PaperStats.objects.get(paper=paper).comments == 0


@pytest.mark.django_db
def test_empty_and_overlong_comments_are_refused_with_a_reason():
    paper = add_paper("2411.00021")
    with pytest.raises(InvalidInput, match="empty"):
        comments.add(user(), paper, " \n\x00 ")
    with pytest.raises(InvalidInput, match="5001 characters"):
        comments.add(user(), paper, "x" * 5001)


@pytest.mark.django_db
def test_moderators_hide_comments_and_the_count_follows():
    paper = add_paper("2411.00022")
    first = comments.add(user("a"), paper, "first")
    comments.add(user("b"), paper, "second")
    assert comments.set_hidden([first], True) == 1
    assert [c.body for c in comments.visible(paper)] == ["second"]
    assert PaperStats.objects.get(paper=paper).comments == 1
    comments.set_hidden([first], False)
    assert PaperStats.objects.get(paper=paper).comments == 2
