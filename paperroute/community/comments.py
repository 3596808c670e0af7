"""Comments: Markdown, one level of replies, edit history, reactions, hidden by moderators.

A reader deletes their own words, not others': a top-level comment that others replied to,
deleted by its author (or with their account), stays as a placeholder without its text, author,
history or reactions, and the replies stay under it. A moderator's deletion takes the thread.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections import Counter, defaultdict
from html import escape
from xml.etree import ElementTree

import latex2mathml.converter
import nh3
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone
from markdown_it import MarkdownIt
from markdown_it.rules_block import table as gfm_table
from markdown_it.token import Token

from paperroute.catalog.links import http_url
from paperroute.catalog.models import Paper
from paperroute.catalog.records import url_spans
from paperroute.community import notify, ratelimit, stamp
from paperroute.community.errors import InvalidInput, NotAllowed
from paperroute.community.models import Comment, CommentRevision, PaperStats, Reaction

MAX_LENGTH = 5000
MAX_REASON = 200
# Hugging Face's twelve, in the order its discussion pages offer them, with the names a screen
# reader announces. Reactions given from an older set stay shown and can be taken back.
REACTION_NAMES = {
    "🔥": "fire",
    "🚀": "rocket",
    "👀": "eyes",
    "❤️": "heart",
    "🤗": "hugging face",
    "😎": "cool",
    "➕": "plus one",
    "🧠": "brain",
    "👍": "thumbs up",
    "🤝": "handshake",
    "😔": "sad",
    "🤯": "mind blown",
}
REACTIONS = tuple(REACTION_NAMES)

_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "hr",
    "h4",
    "h5",
    "h6",
    "div",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
_SCHEMES = ("http://", "https://", "mailto:")
# Math: $…$, $$…$$, \(…\) and \[…\]; the double forms and \[…\] are set apart as displays.
_MATH = (("$$", "$$", True), ("$", "$", False), ("\\(", "\\)", False), ("\\[", "\\]", True))
# MathML Core's elements and the attributes latex2mathml writes that only change the layout;
# anything else it could write (href, colours, styles) is dropped before the sanitiser, which
# allows the same set again.
_MATHML_TAGS = {
    "math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace",
    "msub", "msup", "msubsup", "munder", "mover", "munderover", "mmultiscripts", "mprescripts",
    "none", "mfrac", "msqrt", "mroot", "mstyle", "mpadded", "mphantom", "mtable", "mtr", "mtd",
    "menclose", "merror",
}  # fmt: skip
_MATHML_ATTRIBUTES = {
    "display", "mathvariant", "stretchy", "fence", "separator", "accent", "accentunder",
    "movablelimits", "largeop", "symmetric", "lspace", "rspace", "minsize", "maxsize",
    "displaystyle", "scriptlevel", "linethickness", "width", "height", "depth", "columnalign",
    "rowalign", "columnspacing", "rowspacing", "columnlines", "rowlines", "frame", "notation",
    "encoding",
}  # fmt: skip
_TEX = "application/x-tex"
# Lengths a reader's TeX sets (\\rule, \\hspace, \\kern, \\raise), kept only when modest.
_LENGTHS = {"width", "height", "depth", "lspace", "rspace", "minsize", "maxsize", "linethickness"}
_NAMED_LENGTHS = {"thin", "medium", "thick", "0", "infinity"}
_MACROS = re.compile(
    r"\\(?:[gex]?def|let|(?:re)?newcommand|providecommand|(?:re)?newenvironment|DeclareMathOperator)(?![A-Za-z])"
)
_MAX_NODES = 20_000
# A table's cells, typed or filled in: a comment at its length limit types no more than 2,500.
_MAX_CELLS = 5_000


def _math_text(state, silent: bool) -> bool:
    """Inline rule: $…$, $$…$$, \\(…\\) and \\[…\\] become math tokens, so that $a*b*c$ is not emphasis.

    A single $ follows Pandoc's rule, so that prices stay text ("from $5 to $10"): the opening $
    has no space after it, the closing one has none before it and no digit after it.
    """
    src, start = state.src, state.pos
    for opener, closer, display in _MATH:
        if not src.startswith(opener, start):
            continue
        inner = start + len(opener)
        if opener == "$" and (inner >= state.posMax or src[inner].isspace()):
            return False
        closers = _closers(state, closer)
        after = bisect.bisect_left(closers, inner + 1)
        end = closers[after] if after < len(closers) and closers[after] < state.posMax else -1
        if end <= inner:
            return False
        if not silent:
            token = state.push("math", "math", 0)
            token.content = src[inner:end]
            token.markup = src[start : end + len(closer)]
            token.meta = {"math": True, "display": display}
        state.pos = end + len(closer)
        return True
    return False


def _closers(state, closer: str) -> list[int]:
    """Where `closer` may close math in this inline text, found once for each text rather than
    searched for after each opener (which made "$1$1$1…" and "\\(\\(\\(…" quadratic). A single $
    closes only after a non-space and before no digit.
    """
    found = state.env.setdefault("math_closers", {})
    src = state.src
    if (src, closer) not in found:
        at, where = [], src.find(closer, 1)
        while where != -1:
            if closer != "$" or not (src[where - 1].isspace() or src[where + 1 : where + 2].isdigit()):
                at.append(where)
            where = src.find(closer, where + 1)
        found[src, closer] = at
    return found[src, closer]


def _render_math(renderer, tokens, index, options, env) -> str:
    """A math token as MathML, with its TeX kept as the annotation; as typed when it does not parse.

    The markup is built from latex2mathml's element tree and serialised here, so every piece of
    text in it is escaped (its own string output leaves `\\text{<b>}` as markup). TeX that defines
    macros is shown as typed: a few nested definitions expand to millions of nodes.
    """
    token = tokens[index]
    if _MACROS.search(token.content):
        return escape(token.markup)
    try:
        element = latex2mathml.converter.convert_to_element(
            token.content, display="block" if token.meta["display"] else "inline"
        )
    except Exception:  # noqa: BLE001 (any TeX it cannot read, a recursion too deep included)
        return escape(token.markup)
    nodes = list(element.iter())
    if len(nodes) > _MAX_NODES:
        return escape(token.markup)
    for node in nodes:
        for name, value in list(node.attrib.items()):
            if name not in _MATHML_ATTRIBUTES or (name in _LENGTHS and not _modest_length(value)):
                del node.attrib[name]
        node.text = _characters(node.text) if node.text else node.text
        node.tail = _characters(node.tail) if node.tail else node.tail
    semantics = ElementTree.Element("semantics")
    if len(element) == 1:  # latex2mathml's one <mrow>
        semantics.append(element[0])
    else:
        ElementTree.SubElement(semantics, "mrow").extend(list(element))
    ElementTree.SubElement(semantics, "annotation", encoding=_TEX).text = token.content
    element[:] = [semantics]
    return ElementTree.tostring(element, encoding="unicode", short_empty_elements=False)


def _modest_length(value: str) -> bool:
    """Whether a MathML length stays within a few lines' size: \\quad and \\, do, while
    \\rule{1em}{9999em} or \\hspace{-500em} would cover or push away the page around."""
    match = re.fullmatch(r"\s*(-?[0-9]*\.?[0-9]+)\s*(em|ex|mu|pt|px|%)?\s*", value)
    if not match:
        return value.strip() in _NAMED_LENGTHS
    limit = {"em": 3, "ex": 6, "mu": 54, "pt": 30, "px": 40, "%": 300}.get(match.group(2) or "em", 3)
    return abs(float(match.group(1))) <= limit


def _characters(text: str) -> str:
    """latex2mathml's character references (&#x2211;) as characters; control characters (from
    \\unicode{0C}) dropped. Anything else, entities the reader typed included, stays as typed."""

    def character(match: re.Match) -> str:
        code = int(match.group(1), 16)
        printable = code in (9, 10) or 0x20 <= code < 0x7F or 0xA0 <= code <= 0x10FFFF
        return chr(code) if printable and not 0xD800 <= code <= 0xDFFF else ""

    return re.sub(r"&#x([0-9A-Fa-f]{1,6});", character, text)


def _link(url: str, label: list[Token] | None = None, title: str | None = None) -> list[Token]:
    opening = Token("link_open", "a", 1, attrs={"href": url, **({"title": title} if title else {})})
    return [opening, *(label or [Token("text", "", 0, content=url)]), Token("link_close", "a", -1)]


def _alt(tokens: list[Token]) -> list[Token]:
    """An image's alt text as it was written (emphasis, code, math), without links of its own."""
    label = []
    for token in tokens:
        if token.type == "image":
            label.extend(_alt(token.children or []))
        elif token.type not in ("link_open", "link_close"):
            label.append(token)
    return label if "".join(t.content for t in label).strip() else []


def _linkify_and_demote(state) -> None:
    """Core rule: bare http(s) URLs become links (as before Markdown), and so do images, by their
    alt text; headings start at h4."""
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            # The page's own outline owns h1-h3; a comment's "# Title" sits below it.
            token.tag = f"h{min(6, int(token.tag[1]) + 3)}"
        if token.type != "inline" or not token.children:
            continue
        children, depth = [], 0
        for child in token.children:
            depth += {"link_open": 1, "link_close": -1}.get(child.type, 0)
            if child.type == "image":
                # Not shown: an image loads from anywhere and tracks readers. Inside a link, its
                # alt text is part of that link's text.
                label, url = _alt(child.children or []), str(child.attrGet("src"))
                if depth:
                    children.extend(label or [Token("text", "", 0, content=url)])
                else:
                    children.extend(_link(url, label, child.attrGet("title")))
                continue
            if child.type != "text" or depth:
                children.append(child)
                continue
            text, position = child.content, 0
            for begin, end in url_spans(text):
                url = http_url(text[begin:end])
                if url:
                    children.append(Token("text", "", 0, content=text[position:begin]))
                    children.extend(_link(url))
                    position = end
            children.append(Token("text", "", 0, content=text[position:]))
        token.children = children


def _table(state, start: int, end: int, silent: bool) -> bool:
    """Block rule: markdown-it's GFM table, when it has at most _MAX_CELLS cells; a bigger one
    reads as text. markdown-it fills short rows with up to 65,536 empty cells: 5,000 characters of
    "|" lines under a wide header made 650 kB of page and took a second to parse."""
    if not gfm_table(state, start, end, True):  # quick: a header line, then a delimiter row
        return False
    rows = start
    while rows < end and not state.isEmpty(rows):
        rows += 1
    header = state.src[state.bMarks[start] + state.tShift[start] : state.eMarks[start]]
    return (header.count("|") + 1) * (rows - start) <= _MAX_CELLS and gfm_table(state, start, end, silent)


def _table_cells(state) -> None:
    """Core rule: a column's alignment as a class (the site's CSP allows no style attribute), and
    an empty header cell as a plain one (a header that names nothing fails axe-core's check)."""
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type == "th_open" and not tokens[index + 1].content.strip():
            token.tag = tokens[index + 2].tag = "td"
        if token.type in ("th_open", "td_open") and token.attrs.get("style"):
            token.attrs["class"] = "align-" + str(token.attrs.pop("style")).removeprefix("text-align:")


def _render_table(renderer, tokens, index, options, env) -> str:
    """A table in a box that scrolls sideways when it is wider than the comment (not the page);
    the box takes the keyboard's focus, so that the arrow keys scroll it too."""
    html = renderer.renderToken(tokens, index, options, env)
    if tokens[index].nesting == 1:
        return f'<div class="comment-table" tabindex="0" role="group" aria-label="Table">{html}'
    return f"{html}</div>\n"


class _Markdown(MarkdownIt):
    def validateLink(self, url: str) -> bool:  # noqa: N802 (markdown-it's name for the hook)
        """Only http(s) and mailto links become links; anything else stays text."""
        return url.strip().lower().startswith(_SCHEMES)


def _markdown() -> MarkdownIt:
    md = _Markdown("commonmark", {"html": False})
    md.block.ruler.at("table", _table)
    md.enable("table")
    md.inline.ruler.before("escape", "math", _math_text)
    md.add_render_rule("math", _render_math)
    md.add_render_rule("table_open", _render_table)
    md.add_render_rule("table_close", _render_table)
    md.core.ruler.after("inline", "linkify_and_demote", _linkify_and_demote)
    md.core.ruler.after("linkify_and_demote", "table_cells", _table_cells)
    return md


_MD = _markdown()
# The second line of defence: whatever markdown-it lets through, only this subset survives.
_ALIGNED = {"class": {"align-left", "align-center", "align-right"}}
_CLEANER = nh3.Cleaner(
    tags=_TAGS | _MATHML_TAGS,
    attributes={"a": {"href", "title"}, "ol": {"start"}, **dict.fromkeys(_MATHML_TAGS, _MATHML_ATTRIBUTES)},
    tag_attribute_values={
        "div": {"class": {"comment-table"}, "tabindex": {"0"}, "role": {"group"}, "aria-label": {"Table"}},
        "th": _ALIGNED,
        "td": _ALIGNED,
    },
    url_schemes={"http", "https", "mailto"},
    url_relative="deny",
    link_rel="nofollow ugc noopener",
)


@functools.lru_cache(maxsize=64)
def render(body: str) -> str:
    """A Markdown comment as sanitised HTML (kept for the comments shown most: a page of long
    formulas takes tens of milliseconds to set)."""
    return _CLEANER.clean(_MD.render(body or ""))


def clean_body(text: str) -> str:
    """The comment text as stored, or InvalidInput saying what is wrong with it."""
    body = (text or "").replace("\r\n", "\n").strip()
    # Control characters other than newlines and tabs cannot be shown and break XML feeds.
    body = "".join(ch for ch in body if ch in "\n\t" or ord(ch) >= 32 and ch != "\x7f")
    if not body:
        raise InvalidInput("the comment is empty", "body")
    if len(body) > MAX_LENGTH:
        raise InvalidInput(f"the comment is {len(body)} characters long; the limit is {MAX_LENGTH}", "body")
    return body


def visible(paper: Paper):
    """The comments readers see, replies included, oldest first (not the placeholders of deleted
    ones: a reply under one names it in its parent)."""
    return paper.community_comments.filter(hidden=False, deleted_at=None).select_related("author")


def thread(paper: Paper, viewer=None) -> list[Comment]:
    """Top-level comments, hidden ones too (shown by their reason), each with `.reply_list`."""
    everything = list(paper.community_comments.select_related("author"))
    reactions = reaction_counts(everything, viewer)
    replies = defaultdict(list)
    for comment in everything:
        comment.reaction_list = reactions.get(comment.pk, [])
        if comment.parent_id:
            replies[comment.parent_id].append(comment)
    tops = [c for c in everything if not c.parent_id]
    for comment in tops:
        comment.reply_list = replies.get(comment.pk, [])
        # Whether its author's deletion would leave a placeholder rather than take the replies.
        comment.others_replied = any(r.author_id != comment.author_id for r in comment.reply_list)
    return tops


def reaction_counts(comments: list[Comment], viewer=None) -> dict[int, list[dict]]:
    """For each comment id, every reaction with its count and whether the viewer gave it.

    The offered reactions come first, in their order, then any other emoji the comment still
    carries from an older set (`offered` false: it can be taken back, not given).
    """
    ids = [c.pk for c in comments]
    counts = Counter(Reaction.objects.filter(comment_id__in=ids).values_list("comment_id", "emoji"))
    mine = set()
    if viewer is not None and viewer.is_authenticated:
        mine = set(
            Reaction.objects.filter(comment_id__in=ids, user=viewer).values_list("comment_id", "emoji")
        )
    older = sorted({emoji for _, emoji in counts} - set(REACTIONS))
    return {
        pk: [
            {
                "emoji": emoji,
                "name": REACTION_NAMES.get(emoji, emoji),
                "count": counts[pk, emoji],
                "mine": (pk, emoji) in mine,
                "offered": emoji in REACTION_NAMES,
            }
            for emoji in (*REACTIONS, *older)
            if emoji in REACTION_NAMES or counts[pk, emoji]
        ]
        for pk in ids
    }


def add(user, paper: Paper, text: str, parent: Comment | None = None) -> Comment:
    body = clean_body(text)
    answered = parent
    if parent is not None:
        if parent.paper_id != paper.pk:
            raise InvalidInput("that comment is on another paper", "parent")
        # The comment answered must be one readers see, a reply too: a reply to a hidden reply
        # joined the thread on top, answering words only moderators can read.
        _check_open(parent, "replies")
        # One level deep: a reply to a reply joins the thread of the comment on top.
        if parent.parent is not None:
            parent = parent.parent
            _check_open(parent, "replies")
    ratelimit.check("comment", str(user.pk), ratelimit.setting("RATE_COMMENTS"))
    with transaction.atomic():
        if parent is not None and answered is not None:
            # The thread as stored now: its author may have deleted it since this request read
            # it, and a reply stored under a comment being deleted went with it, unseen. So
            # with the reply answered, which a moderator may have hidden meanwhile.
            stored = _lock_threads([parent.pk]).get(parent.pk)
            reply = stored if answered.pk == parent.pk else Comment.objects.filter(pk=answered.pk).first()
            for now in (stored, reply):
                if now is None:
                    raise NotAllowed("the comment you replied to was deleted")
                _check_open(now, "replies")
        comment = Comment.objects.create(paper=paper, author=user, body=body, parent=parent)
        _recount(paper)
        notify.reply_added(comment, answered)
    return comment


def edit(user, comment: Comment, text: str) -> Comment:
    if comment.author_id != user.pk:
        raise NotAllowed("only its author can edit a comment")
    body = clean_body(text)
    if body == comment.body:
        return comment
    ratelimit.check("comment", str(user.pk), ratelimit.setting("RATE_COMMENTS"))
    with transaction.atomic():
        # The comment as stored now, not as this request read it: two edits at once (two tabs)
        # both kept the original as history, and the first edit was lost from it; an edit from
        # a tab opened before the comment was deleted wrote onto its placeholder.
        stored = Comment.objects.select_for_update().filter(pk=comment.pk).first()
        if stored is None or stored.deleted_at or stored.author_id != user.pk:
            raise NotAllowed("the comment was deleted")
        if body == stored.body:
            return stored
        CommentRevision.objects.create(
            comment=stored, body=stored.body, written_at=stored.edited_at or stored.created_at
        )
        stored.body = comment.body = body  # the caller's copy follows, as it is shown next
        stored.edited_at = comment.edited_at = timezone.now()
        stored.save(update_fields=["body", "edited_at"])
        stamp.bump()
    return stored


def may_see_history(user, comment: Comment) -> bool:
    """Earlier versions are for the comment's author and moderators."""
    return user.is_authenticated and (comment.author_id == user.pk or user.is_staff)


def delete(user, comment: Comment) -> bool:
    """Its author deletes a comment (see withdraw), or a moderator deletes it with, for a
    top-level one, its replies. Whether it stays as a placeholder over others' replies."""
    if comment.author_id != user.pk and not user.is_staff:
        raise NotAllowed("only its author or a moderator can delete a comment")
    with transaction.atomic():
        paper = comment.paper
        if comment.author_id == user.pk:
            own = comment.replies.filter(author=user).values_list("pk", flat=True)
            kept = bool(withdraw([comment], {comment.pk, *own}))
        else:
            # Every write to a thread locks its top comment first (add, withdraw), so that a reply
            # and a deletion meeting in it are ordered.
            _lock_threads([comment.parent_id or comment.pk])
            parent, kept = comment.parent_id, False
            comment.delete()
            _drop_placeholders([parent])
        _recount(paper)
    return kept


def withdraw(written: list[Comment], own: set[int]) -> set[int]:
    """Delete comments as their author does: the replies go, and so does each top-level comment
    with no replies but the author's (`own`: the ids of every comment of theirs among them). One
    that others replied to stays as a placeholder: no text, author, earlier versions or
    reactions. The ids of those placeholders; the papers' counts are the caller's."""
    _lock_threads([c.parent_id or c.pk for c in written])
    tops = [c.pk for c in written if c.parent_id is None]
    Comment.objects.filter(pk__in=[c.pk for c in written if c.parent_id is not None]).delete()
    answered = set(
        Comment.objects.filter(parent_id__in=tops).exclude(pk__in=own).values_list("parent_id", flat=True)
    )
    Comment.objects.filter(pk__in=set(tops) - answered).delete()
    if answered:
        CommentRevision.objects.filter(comment_id__in=answered).delete()
        Reaction.objects.filter(comment_id__in=answered).delete()
        Comment.objects.filter(pk__in=answered).update(
            body="", author=None, deleted_at=timezone.now(), edited_at=None, hidden=False, hidden_reason=""
        )
    _drop_placeholders([c.parent_id for c in written])
    # The admin's history names each comment it changed by its author and first words.
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Comment), object_id__in=[str(c.pk) for c in written]
    ).update(object_repr="a deleted comment")
    return answered


def _check_open(comment: Comment, what: str) -> None:
    """NotAllowed unless the comment takes `what` (replies, reactions): not once deleted or
    hidden."""
    if comment.deleted_at:
        raise NotAllowed(f"a deleted comment takes no {what}")
    if comment.hidden:
        raise NotAllowed(f"a hidden comment takes no {what}")


def _lock_threads(ids) -> dict[int, Comment]:
    """The top comments of these threads as stored now, locked until the transaction ends, in
    one order so that two writers never wait for each other (SQLite's writers wait anyway)."""
    locked = Comment.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk")
    return {comment.pk: comment for comment in locked}


def _drop_placeholders(parents) -> None:
    """Placeholders of deleted comments whose last reply went: nothing is left to keep them for."""
    ids = [pk for pk in parents if pk]
    if ids:
        Comment.objects.filter(pk__in=ids, deleted_at__isnull=False, replies__isnull=True).delete()


def set_hidden(comments, hidden: bool, reason: str = "") -> int:
    """Hide or show comments (a moderator's action); returns how many changed."""
    reason = " ".join((reason or "").split())[:MAX_REASON] if hidden else ""
    papers = set()
    changed = 0
    with transaction.atomic():
        for comment in comments:
            if comment.deleted_at:  # a placeholder has nothing left to hide
                continue
            if comment.hidden != hidden or comment.hidden_reason != reason:
                comment.hidden = hidden
                comment.hidden_reason = reason
                comment.save(update_fields=["hidden", "hidden_reason"])
                papers.add(comment.paper)
                changed += 1
        # Each paper's count row locked in one order, and the site stamp once, last: locking
        # them paper by paper, stamp by stamp, deadlocked with readers' votes (a 500 for them).
        for paper in sorted(papers, key=lambda p: p.pk):
            _recount(paper, bump=False)
        if papers:
            stamp.bump()
    return changed


def toggle_reaction(user, comment: Comment, emoji: str) -> bool:
    """Give or take back one reaction; whether the user now has it."""
    older = emoji not in REACTION_NAMES
    if older and not Reaction.objects.filter(comment=comment, user=user, emoji=emoji).exists():
        raise InvalidInput(f"reactions are {' '.join(REACTIONS)}", "emoji")
    _check_open(comment, "reactions")
    ratelimit.check("reactions", str(user.pk), ratelimit.setting("RATE_VOTES"))
    with transaction.atomic():
        # As stored now: a page opened before the comment was deleted or hidden still offers it.
        stored = Comment.objects.select_for_update().filter(pk=comment.pk).first()
        if stored is None:
            raise NotAllowed("a deleted comment takes no reactions")
        _check_open(stored, "reactions")
        deleted, _ = Reaction.objects.filter(comment=comment, user=user, emoji=emoji).delete()
        if not deleted and not older:
            try:
                with transaction.atomic():
                    Reaction.objects.create(comment=comment, user=user, emoji=emoji)
            except IntegrityError:  # a double click: the other request added it
                pass
        stamp.bump()
    return not deleted and not older


def shown_count(tops: list[Comment]) -> int:
    """How many of a `thread`'s comments and replies readers see: `visible_count`, unread."""
    return sum(not c.hidden and not c.deleted_at for top in tops for c in (top, *top.reply_list))


def visible_count(paper_id: int) -> int:
    """The paper's comments that readers see: what its stored count holds."""
    return Comment.objects.filter(paper_id=paper_id, hidden=False, deleted_at=None).count()


def _recount(paper: Paper, *, bump: bool = True) -> None:
    """Store the visible-comment count; counted, not incremented, since hides come in batches."""
    PaperStats.objects.bulk_create([PaperStats(paper=paper)], ignore_conflicts=True)
    # Locking the row first makes a concurrent writer wait, then count with our comment in it.
    stats = PaperStats.objects.select_for_update().get(paper=paper)
    stats.comments = visible_count(paper.pk)
    stats.save(update_fields=["comments"])
    if bump:
        stamp.bump()
