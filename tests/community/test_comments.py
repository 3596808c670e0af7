"""Comments: Markdown with TeX math, edited or deleted by their author only, hidden by moderators."""

import pytest

from paperroute.community import comments
from paperroute.community.errors import InvalidInput, NotAllowed
from paperroute.community.models import Comment, PaperStats, Reaction
from tests.community.helpers import add_paper, user
from tests.support import seconds_per_call


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


@pytest.mark.django_db
def test_a_reply_to_a_reply_joins_the_top_comment_and_counts():
    paper = add_paper("2411.00023")
    top = comments.add(user("a"), paper, "top")
    reply = comments.add(user("b"), paper, "reply", parent=top)
    deeper = comments.add(user("c"), paper, "deeper", parent=reply)
    assert reply.parent_id == top.pk and deeper.parent_id == top.pk
    (thread,) = comments.thread(paper)
    assert [c.body for c in thread.reply_list] == ["reply", "deeper"]
    assert PaperStats.objects.get(paper=paper).comments == 3
    comments.set_hidden([top], True, "off topic")
    with pytest.raises(NotAllowed, match="hidden comment takes no replies"):
        comments.add(user("d"), paper, "more", parent=reply)
    # A moderator's deletion of a top comment takes its replies with it, and the count follows.
    comments.set_hidden([top], False)
    comments.delete(user("mod", staff=True), top)
    assert PaperStats.objects.get(paper=paper).comments == 0
    assert not Comment.objects.filter(paper=paper).exists()


@pytest.mark.django_db
def test_an_author_deletes_their_words_not_the_replies_others_wrote():
    paper = add_paper("2411.00025")
    alice, bob, carol = user("alice"), user("bob"), user("carol")
    top = comments.add(alice, paper, "Does it scale?")
    comments.edit(alice, top, "Does it scale past 7B?")
    comments.toggle_reaction(bob, top, "👀")
    own = comments.add(alice, paper, "(I mean parameters)", parent=top)
    answer = comments.add(bob, paper, "Yes, see section 4.", parent=top)
    comments.delete(alice, top)
    top.refresh_from_db()
    assert (top.body, top.author, top.edited_at) == ("", None, None) and top.deleted_at
    assert not top.revisions.exists() and not Reaction.objects.filter(comment=top).exists()
    # Her own reply stays hers to delete; Bob's answer stays where it was.
    (thread,) = comments.thread(paper)
    assert [c.pk for c in thread.reply_list] == [own.pk, answer.pk]
    assert PaperStats.objects.get(paper=paper).comments == 2
    assert top.pk not in {c.pk for c in comments.visible(paper)}
    with pytest.raises(NotAllowed, match="deleted comment takes no replies"):
        comments.add(carol, paper, "What about 70B?", parent=answer)
    with pytest.raises(NotAllowed, match="deleted comment takes no reactions"):
        comments.toggle_reaction(carol, top, "🔥")
    with pytest.raises(NotAllowed):
        comments.edit(alice, top, "back again")
    with pytest.raises(NotAllowed):
        comments.delete(alice, top)  # no longer hers
    assert comments.set_hidden([top], True, "spam") == 0
    # When the last reply goes, so does the placeholder.
    comments.delete(alice, own)
    comments.delete(bob, answer)
    assert not Comment.objects.filter(paper=paper).exists()
    assert PaperStats.objects.get(paper=paper).comments == 0


@pytest.mark.django_db
def test_a_tab_opened_before_the_deletion_cannot_write_on_the_placeholder():
    paper = add_paper("2411.00030")
    alice, bob, carol = user("alice"), user("bob"), user("carol")
    top = comments.add(alice, paper, "original words")
    comments.add(bob, paper, "an answer", parent=top)
    stale = Comment.objects.get(pk=top.pk)  # another tab's request read it
    assert comments.delete(alice, Comment.objects.get(pk=top.pk)) is True
    with pytest.raises(NotAllowed, match="the comment was deleted"):
        comments.edit(alice, stale, "new words after the delete")
    with pytest.raises(NotAllowed, match="deleted comment takes no reactions"):
        comments.toggle_reaction(carol, stale, "🔥")
    top.refresh_from_db()
    assert (top.body, top.edited_at) == ("", None)
    assert not top.revisions.exists() and not Reaction.objects.filter(comment=top).exists()


@pytest.mark.django_db
def test_the_admins_history_forgets_a_withdrawn_comments_words():
    """The admin's "Recent actions" named a comment a moderator had changed by its author and
    first words, after its author deleted it."""
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    paper = add_paper("2411.00031")
    alice, bob, mod = user("alice"), user("bob"), user("mod", staff=True)
    top = comments.add(alice, paper, "my secret words")
    comments.add(bob, paper, "an answer", parent=top)
    alone = comments.add(alice, paper, "more secret words")
    for comment in (top, alone):
        LogEntry.objects.log_actions(mod.pk, [comment], CHANGE, change_message="hidden", single_object=True)
    assert {e.object_repr for e in LogEntry.objects.all()} == {str(top), str(alone)}
    alice.delete()
    assert set(LogEntry.objects.values_list("object_repr", flat=True)) == {"a deleted comment"}
    assert ContentType.objects.get_for_model(Comment).pk in set(
        LogEntry.objects.values_list("content_type", flat=True)
    )


@pytest.mark.django_db
def test_an_author_deletes_a_thread_nobody_else_replied_to_whole():
    paper = add_paper("2411.00026")
    alice = user("alice")
    top = comments.add(alice, paper, "A note")
    comments.add(alice, paper, "and a second one", parent=top)
    comments.delete(alice, top)
    assert not Comment.objects.filter(paper=paper).exists()
    assert PaperStats.objects.get(paper=paper).comments == 0


@pytest.mark.django_db
def test_an_account_deleted_from_the_admin_leaves_others_replies_too():
    """A moderator deleting a user (the admin deletes the row) withdraws their comments as
    deleting the account from its settings does."""
    paper, other = add_paper("2411.00027"), add_paper("2411.00028")
    alice, bob = user("alice"), user("bob")
    top = comments.add(alice, paper, "Does it scale?")
    comments.add(bob, paper, "Yes.", parent=top)
    bobs = comments.add(bob, other, "Bob's thread")
    comments.add(alice, other, "Alice's reply", parent=bobs)
    alone = comments.add(alice, other, "Nobody answered this")
    gone = add_paper("2411.00029")
    placeholder = comments.add(carol := user("carol"), gone, "Carol's question")
    comments.add(alice, gone, "Only Alice answered", parent=placeholder)
    comments.delete(carol, placeholder)  # Alice's reply keeps it as a placeholder
    assert Comment.objects.filter(pk=placeholder.pk, deleted_at__isnull=False).exists()
    alice.delete()
    left = {c.body: c for c in Comment.objects.all()}
    assert set(left) == {"", "Yes.", "Bob's thread"}, left
    assert left[""].pk == top.pk and left[""].author is None and left["Yes."].parent_id == top.pk
    assert alone.pk not in {c.pk for c in left.values()}
    assert not Comment.objects.filter(paper=gone).exists()  # its placeholder lost its last reply
    counts = dict(PaperStats.objects.values_list("paper__key", "comments"))
    assert counts == {"2411.00027": 1, "2411.00028": 1, "2411.00029": 0}


@pytest.mark.django_db
def test_each_edit_keeps_the_text_it_replaced():
    paper = add_paper("2411.00024")
    alice = user("alice")
    comment = comments.add(alice, paper, "one")
    comments.edit(alice, comment, "two")
    comments.edit(alice, comment, "two")  # no change, no revision
    comments.edit(alice, comment, "three")
    assert [r.body for r in comment.revisions.all()] == ["one", "two"]
    first, second = comment.revisions.all()
    assert first.written_at == comment.created_at and second.written_at < comment.edited_at


@pytest.mark.django_db
def test_a_reaction_counts_once_per_user_and_toggles():
    paper = add_paper("2411.00025")
    comment = comments.add(user("a"), paper, "react")
    assert comments.toggle_reaction(user("b"), comment, "🤗") is True
    assert comments.toggle_reaction(user("c"), comment, "🤗") is True
    assert comments.toggle_reaction(user("b"), comment, "🤗") is False
    counts = {r["emoji"]: r["count"] for r in comments.reaction_counts([comment])[comment.pk]}
    assert counts["🤗"] == 1 and list(counts) == list(comments.REACTIONS)
    with pytest.raises(InvalidInput, match="reactions are"):
        comments.toggle_reaction(user("b"), comment, "<script>")


@pytest.mark.django_db
def test_a_reaction_from_an_older_set_stays_shown_and_can_only_be_taken_back():
    comment = comments.add(user("a"), add_paper("2411.00026"), "react")
    Reaction.objects.create(comment=comment, user=user("b"), emoji="🎉")  # 0.1.0 offered GitHub's set
    shown = comments.reaction_counts([comment], user("b"))[comment.pk]
    assert shown[-1] == {"emoji": "🎉", "name": "🎉", "count": 1, "mine": True, "offered": False}
    with pytest.raises(InvalidInput, match="reactions are"):
        comments.toggle_reaction(user("c"), comment, "🎉")
    assert comments.toggle_reaction(user("b"), comment, "🎉") is False
    assert [r["emoji"] for r in comments.reaction_counts([comment])[comment.pk]] == list(comments.REACTIONS)


def test_markdown_sets_math_keeps_code_and_links_bare_urls():
    html = comments.render("Let $x_1 * y_2 * z$ be `a*b`; see https://example.org/a.\n\n# Head")
    # The TeX is MathML (with the TeX kept beside it), not emphasis between the asterisks.
    assert '<math display="inline"><semantics><mrow><msub><mi>x</mi><mn>1</mn></msub><mo>*</mo>' in html
    assert '<annotation encoding="application/x-tex">x_1 * y_2 * z</annotation>' in html
    assert "<em>" not in html
    assert "<code>a*b</code>" in html
    assert '<a href="https://example.org/a" rel="nofollow ugc noopener">' in html
    assert "<h4>Head</h4>" in html  # below the page's own headings


def test_math_in_its_four_spellings_and_prices_that_are_not_math():
    html = comments.render("\\(a<b\\), $$\\frac{1}{2}$$ and \\[\\sqrt{x}\\]; it cost $5 to $10, or $x$5.")
    assert html.count("<math") == 3 and "<mo>&lt;</mo>" in html
    assert '<math display="block"><semantics><mrow><mfrac>' in html and "<msqrt>" in html
    # Pandoc's rule: a $ before a space or a digit after the closing $ is money, not math.
    assert "it cost $5 to $10, or $x$5." in html


def test_tex_that_does_not_parse_stays_as_typed():
    html = comments.render("Unclosed $\\frac{1}{$ and deep $" + "{" * 2000 + "x" + "}" * 2000 + "$")
    assert "<math" not in html and "Unclosed $\\frac{1}{$ and deep ${{{" in html


@pytest.mark.parametrize(
    "piece",
    [
        "$1",
        "$a ",
        "$a$1 ",
        "$$a",
        "\\(",
        "\\[a",
        "$\\frac{a}{b}$ ",
        "$\\begin{pmatrix}a\\\\",
        "${",
        "*$a*",
        "$\\def\\a{{x}{x}}\\a$ ",
        "$\\rule{1em}{99em}$ ",
    ],
)
def test_hostile_math_costs_linear_time(piece):
    """A comment at the length limit costs at most about four times one a quarter as long."""
    render = comments.render.__wrapped__  # not the cache
    quarter, whole = (piece * (n // len(piece)) for n in (comments.MAX_LENGTH // 4, comments.MAX_LENGTH))
    once, four_times = seconds_per_call(render, quarter), seconds_per_call(render, whole)
    print(f"{piece!r}: {once * 1000:.1f} ms, 4x input {four_times * 1000:.1f} ms")
    assert four_times < 0.5 and four_times / once < 8  # quadratic would be 16


def test_macros_and_huge_lengths_are_not_set():
    # Each definition doubles the one before: 17 of them took latex2mathml 15 s and 393,216 nodes.
    bomb = "\\def\\a{x}" + "".join(
        f"\\def\\{chr(98 + i)}{{{{\\{chr(97 + i)}}}{{\\{chr(97 + i)}}}}}" for i in range(24)
    )
    for tex in (bomb + "\\y", "\\newcommand{\\x}{y}\\x", "\\let\\x=y \\x", "\\DeclareMathOperator{\\tr}{tr}"):
        assert "<math" not in comments.render(f"${tex}$")
    html = comments.render("$a\\quad b\\,c\\rule{1em}{9999em}\\hspace{-500em}d$")
    assert '<mspace width="1em"></mspace>' in html and '<mspace width="0.167em"></mspace>' in html
    assert "9999em" not in html.split("<annotation")[0] and "-500em" not in html.split("<annotation")[0]


def test_entities_typed_in_tex_stay_as_typed_and_control_characters_go():
    html = comments.render("$\\text{&amp; <b>} \\unicode{0C} \\sum$")
    assert "<mtext>&amp;amp;&nbsp;&lt;b&gt;</mtext>" in html and "<mo>∑</mo>" in html
    assert "\x0c" not in html


def test_an_image_reads_as_a_link_named_by_its_alt_text_with_no_stray_bang():
    html = comments.render('See ![accuracy *by* size](https://example.org/x.png "Figure 2").')
    assert html == (
        '<p>See <a href="https://example.org/x.png" title="Figure 2" rel="nofollow ugc noopener">'
        "accuracy <em>by</em> size</a>.</p>\n"
    )
    # No alt text: the address names it. Inside a link, the alt text is that link's own text.
    assert comments.render("![](https://example.org/y.png)") == (
        '<p><a href="https://example.org/y.png" rel="nofollow ugc noopener">https://example.org/y.png</a></p>\n'
    )
    assert comments.render("[![logo](https://example.org/l.png)](https://example.org/)") == (
        '<p><a href="https://example.org/" rel="nofollow ugc noopener">logo</a></p>\n'
    )
    assert "<img" not in comments.render("![x](https://example.org/t.gif) ![y](javascript:alert(1))")


def test_tables_are_tables_escaped_and_aligned_without_a_style_attribute():
    html = comments.render("| model | score <b> |\n|:--|--:|\n| small | **61.2** |\n|  | 70.9 |")
    assert '<div class="comment-table" tabindex="0" role="group" aria-label="Table"><table>' in html
    assert '<th class="align-left">model</th>' in html
    assert '<th class="align-right">score &lt;b&gt;</th>' in html
    assert '<td class="align-right"><strong>61.2</strong></td>' in html
    assert "style" not in html and "|" not in html
    # An empty header cell heads nothing: a plain cell, which axe-core does not flag.
    assert comments.render("| | b |\n|---|---|\n| 1 | 2 |").count("<th>") == 1


def test_a_table_that_filling_short_rows_would_blow_up_reads_as_text():
    """markdown-it fills each short row up to the header's width: "|" lines under a header of
    1,000 columns made 65,000 cells (650 kB of page) and took a second to parse."""
    bomb = ("|a" * 1000 + "\n" + "|-" * 1000 + "\n" + "|\n" * 2000)[: comments.MAX_LENGTH]
    html = comments.render(bomb)
    assert "<table" not in html and len(html) < 2 * len(bomb)
    assert seconds_per_call(comments.render.__wrapped__, bomb) < 0.1
    full = "a|b\n-|-\n" + "x|y\n" * 1248  # a table as long as a comment can type stays one
    assert comments.render(full).count("<tr>") == 1249
