"""The paper page, its BibTeX, and the votes and comments posted from it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from feedgen.feed import FeedGenerator

from paperroute.catalog import bibtex
from paperroute.catalog.models import Paper
from paperroute.catalog.textclean import display_name
from paperroute.community import authors, comments, listings, votes
from paperroute.community.errors import CommunityError, InvalidInput, NotAllowed, RateLimited
from paperroute.community.models import Comment
from paperroute.community.submissions import submitter
from paperroute.library import shelf
from paperroute.web import feeds, related
from paperroute.web.api_shapes import day_only, known_date
from paperroute.web.context import absolute
from paperroute.web.views.common import (
    cacheable,
    error_page,
    local_target,
    not_found_json,
    shown_at,
    wants_json,
)

# The discussion feed carries the newest comments only, as the site's other feeds do.
FEED_LIMIT = 50


def find(key: str) -> Paper:
    """The paper with this key, or the one an arXiv id with a version or prefix names
    (2411.17700v2); Http404 otherwise."""
    paper = listings.one(key)
    if paper is None:
        raise Http404(f"no paper with the id {key!r} is known here")
    return paper


def detail(request, key: str):
    paper = find(key)
    if paper.key != key:  # one address for each paper's page
        return redirect("paper", key=paper.key, permanent=True)
    # Opening a paper's page marks it read, unless the reader has just marked it unread here.
    if request.user.is_authenticated and request.GET.get("kept") != "unread":
        shelf.opened(request.user, paper)
    response = _page(request, paper)
    return cacheable(response) if not request.user.is_authenticated else response


# What the page's forms hold when nothing was sent back to them.
UNSENT = {
    "comment_error": "",
    "comment_invalid": False,
    "reply_error_to": None,
    "comment_typed": "",
    "links_error": "",
    "links_error_field": "",
    "links_typed": None,
}


def _page(request, paper: Paper, status: int = 200, sent_back: dict | None = None, **headers) -> HttpResponse:
    """The paper's page. `sent_back` is a refused form's error and what was typed into it (see
    comment_add and links): shown at that form, whose field has the keyboard, with "Error:" in the
    page's title. The page is answered at the form's own address, so nothing typed is lost."""
    paper.upvoted = votes.has_voted(request.user, paper)
    library = {}
    if request.user.is_authenticated:
        in_collections = shelf.collections_holding(request.user, paper)
        paper.saved = bool(in_collections)  # saved: in any of the reader's collections
        paper.read, paper.dismissed = shelf.state_of(request.user, paper)
        library = {
            "note": shelf.note_of(request.user, paper),
            "collections": shelf.collections_of(request.user),
            "in_collections": in_collections,
        }
    code_link, project_link = authors.links_of(paper)
    # Read once: the author list, the claim form and the links form all follow from it.
    my_claim = authors.open_claim(request.user, paper)
    entries = authors.entries(paper, my_claim)
    versions = list(paper.versions.all())
    first = next((v.date for v in versions if v.number == 1 and v.date), None)
    when, month_only = known_date(paper, first)
    thread = comments.thread(paper, request.user)
    context = {
        "paper": paper,
        "authors": [entry.name for entry in entries],
        "author_entries": entries,
        "my_claim": my_claim,
        "may_set_links": authors.links_allowed(request.user, my_claim),
        "code_link": code_link,
        "project_link": project_link,
        "categories": paper.ordered_categories,
        "versions": versions,
        # With no day known, the month its arXiv id names: the date feeds and its BibTeX give.
        "id_month": when.date() if when and month_only else None,
        # A source that knows only the day (Hugging Face's publishedAt) sends 00:00 UTC: a day,
        # which "00:00 UTC" made the evening before for a reader west of UTC.
        "submitted_day_only": bool(paper.published and day_only(paper.published)),
        "comments": thread,
        "comment_count": comments.shown_count(thread),
        "bibtex": bibtex.entry(paper),
        "related": related.for_paper(paper),
        "submitted_by": submitter(paper),
        "tab": "",
        **library,
        **UNSENT,
        **(sent_back or {}),
    }
    if sent_back:
        context.update(shown_at(reverse("paper", args=[paper.key])))
    # A reply refused where its form is not on the page (a hidden thread) is told at the comment form.
    replyable = {c.pk for c in context["comments"] if not c.hidden and not c.deleted_at}
    if context["reply_error_to"] not in replyable:
        context["reply_error_to"] = None
    response = render(request, "paper.html", context, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def _refused(exc: CommunityError) -> tuple[int, dict[str, str]]:
    """The status and headers a form refused with this error is sent back with."""
    if isinstance(exc, RateLimited):
        return 429, {"Retry-After": str(exc.retry_after)}
    return 400, {}


def bibtex_file(request, key: str):
    paper = find(key)
    response = HttpResponse(bibtex.entry(paper), content_type="application/x-bibtex; charset=utf-8")
    filename = "".join(ch if ch.isalnum() or ch in ".-" else "_" for ch in paper.key)
    response["Content-Disposition"] = f'inline; filename="{filename}.bib"'
    return cacheable(response)


@require_POST
def vote(request, key: str):
    """Set the reader's vote (action=up|down, or toggle); JSON for scripts, a redirect for forms."""
    script = wants_json(request)
    try:
        paper = find(key)
    except Http404 as exc:
        if not script:
            raise
        return not_found_json(exc)
    if not request.user.is_authenticated:
        if script:
            return JsonResponse({"detail": "sign in to upvote"}, status=401)
        return redirect(f"{reverse('signin')}?next={reverse('paper', args=[paper.key])}")
    action = request.POST.get("action", "toggle")
    try:
        if action == "up":
            state = votes.set_vote(request.user, paper, True)
        elif action == "down":
            state = votes.set_vote(request.user, paper, False)
        else:
            state = votes.toggle(request.user, paper)
    except RateLimited as exc:
        if script:
            return JsonResponse(
                {"detail": str(exc)}, status=429, headers={"Retry-After": str(exc.retry_after)}
            )
        return error_page(request, 429, "Slow down", str(exc), Retry_After=str(exc.retry_after))
    if script:
        return JsonResponse({"upvoted": state.upvoted, "upvotes": state.upvotes})
    return redirect(_back(request, paper))


@login_required
@require_POST
def comment_add(request, key: str):
    """A new comment, or a reply when the form names its `parent`."""
    paper = find(key)
    parent = None
    if request.POST.get("parent"):
        parent = _comment(request.POST["parent"])
        if parent is None:
            return error_page(
                request, 400, "Not posted", "The comment you replied to does not exist (any more)."
            )
    body = request.POST.get("body", "")
    try:
        comment = comments.add(request.user, paper, body, parent=parent)
    except NotAllowed as exc:
        return error_page(request, 403, "Not posted", f"Your reply was not posted: {exc}.")
    except (InvalidInput, RateLimited) as exc:
        # Sent back to the form it came from (the reply's, open, or the comment form), holding what
        # was typed, with the keyboard on it.
        status, headers = _refused(exc)
        kind = "reply" if parent is not None else "comment"
        sent_back = {
            "comment_error": f"Your {kind} was not posted: {exc}.",
            "comment_invalid": isinstance(exc, InvalidInput),
            "reply_error_to": parent.pk if parent is not None else None,
            "comment_typed": body,
        }
        return _page(request, paper, status, sent_back, **headers)
    return redirect(reverse("paper", args=[paper.key]) + f"#comment-{comment.pk}")


@login_required
def comment_edit(request, pk: int):
    comment = get_object_or_404(Comment.objects.select_related("paper"), pk=pk)
    if comment.author_id != request.user.pk:
        return error_page(request, 403, "Not yours", "Only its author can edit a comment.")
    if request.method == "POST":
        try:
            comments.edit(request.user, comment, request.POST.get("body", ""))
        except RateLimited as exc:
            return error_page(request, 429, "Slow down", str(exc), Retry_After=str(exc.retry_after))
        except InvalidInput as exc:
            return render(
                request,
                "comment_edit.html",
                {"comment": comment, "error": str(exc), "body": request.POST.get("body", "")},
                status=400,
            )
        return redirect(reverse("paper", args=[comment.paper.key]) + f"#comment-{comment.pk}")
    return render(request, "comment_edit.html", {"comment": comment, "body": comment.body})


@login_required
@require_POST
def comment_delete(request, pk: int):
    comment = get_object_or_404(Comment.objects.select_related("paper"), pk=pk)
    key = comment.paper.key
    mine = comment.author_id == request.user.pk
    try:
        kept = comments.delete(request.user, comment)
    except NotAllowed as exc:
        return error_page(request, 403, "Not yours", str(exc))
    except CommunityError as exc:
        return error_page(request, 400, "Not deleted", str(exc))
    if kept:
        messages.success(request, "Your comment was deleted. The replies others wrote to it stay.")
    else:
        messages.success(request, "Your comment was deleted." if mine else "The comment was deleted.")
    return redirect(reverse("paper", args=[key]) + "#comments")


@login_required
def comment_history(request, pk: int):
    """Earlier versions of an edited comment, for its author and moderators."""
    # A deleted comment's earlier versions went with its text.
    comment = get_object_or_404(Comment.objects.select_related("paper", "author"), pk=pk, deleted_at=None)
    if not comments.may_see_history(request.user, comment):
        return error_page(
            request, 403, "Not yours", "Only its author and moderators can see a comment's earlier versions."
        )
    return render(
        request, "comment_history.html", {"comment": comment, "revisions": list(comment.revisions.all())}
    )


@login_required
@require_POST
def comment_hide(request, pk: int):
    """A moderator hides a comment with a reason (action=hide), or shows it again (action=show)."""
    comment = get_object_or_404(Comment.objects.select_related("paper"), pk=pk)
    if not request.user.is_staff:
        return error_page(request, 403, "Moderators only", "Only moderators can hide comments.")
    hide = request.POST.get("action", "hide") != "show"
    reason = request.POST.get("reason", "")
    if hide and not reason.strip():
        return error_page(
            request, 400, "Not hidden", "Say why the comment is hidden: readers see the reason in its place."
        )
    comments.set_hidden([comment], hide, reason)
    return redirect(reverse("paper", args=[comment.paper.key]) + f"#comment-{comment.pk}")


@login_required
@require_POST
def comment_react(request, pk: int):
    """Give or take back one emoji reaction (the `emoji` field)."""
    comment = get_object_or_404(Comment.objects.select_related("paper"), pk=pk)
    try:
        comments.toggle_reaction(request.user, comment, request.POST.get("emoji", ""))
    except RateLimited as exc:
        return error_page(request, 429, "Slow down", str(exc), Retry_After=str(exc.retry_after))
    except CommunityError as exc:
        return error_page(request, 400, "No reaction", f"{str(exc).capitalize()}.")
    return redirect(reverse("paper", args=[comment.paper.key]) + f"#comment-{comment.pk}")


def comments_feed(request, key: str):
    """The paper's discussion as Atom, newest first."""
    paper = find(key)
    page_url = absolute(reverse("paper", args=[paper.key]) + "#comments")
    self_url = absolute(reverse("comments_feed", args=[paper.key]))
    fg = FeedGenerator()
    fg.id(self_url)
    fg.title(feeds.clean(f"Discussion of {paper.title_text} · paperroute"))
    fg.link(href=page_url, rel="alternate")
    fg.link(href=self_url, rel="self")
    latest = comments.visible(paper).order_by("-created_at", "-id")[:FEED_LIMIT]
    for comment in reversed(latest):
        entry = fg.add_entry()
        url = absolute(reverse("paper", args=[paper.key]) + f"#comment-{comment.pk}")
        entry.id(url)
        entry.link(href=url)
        kind = "Reply" if comment.parent_id else "Comment"
        entry.title(feeds.clean(f"{kind} by {comment.author.username}"))
        entry.author(name=feeds.clean(comment.author.username))
        entry.published(comment.created_at)
        entry.updated(comment.edited_at or comment.created_at)
        entry.content(feeds.clean(comment.html), type="html")
    fg.updated(max((c.edited_at or c.created_at for c in latest), default=timezone.now()))
    return cacheable(HttpResponse(fg.atom_str(pretty=True), content_type=feeds.FORMATS["atom"][1]))


@login_required
@require_POST
def claim(request, key: str):
    """Claim one of the paper's authors ("this is me"): a moderator then approves or rejects it."""
    paper = find(key)
    raw = request.POST.get("position", "")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        return error_page(request, 400, "Not claimed", "Choose which of the paper's authors you are.")
    try:
        made = authors.claim(request.user, paper, int(raw))
    except RateLimited as exc:
        return error_page(request, 429, "Slow down", str(exc), Retry_After=str(exc.retry_after))
    except CommunityError as exc:
        return error_page(request, 400, "Not claimed", f"{str(exc).capitalize()}.")
    messages.success(
        request,
        f"You claimed to be {display_name(made.author.name)}. "
        "A moderator will verify it; until then it shows as pending.",
    )
    return redirect(reverse("paper", args=[paper.key]) + "#authors")


@login_required
@require_POST
def claim_withdraw(request, key: str):
    """Take back one's own claim on the paper, pending or verified."""
    paper = find(key)
    made = authors.open_claim(request.user, paper)
    if made is None:
        return error_page(request, 400, "Nothing to withdraw", "You have no claim on this paper.")
    try:
        authors.withdraw(request.user, made)
    except CommunityError as exc:
        return error_page(request, 400, "Not withdrawn", f"{str(exc).capitalize()}.")
    messages.success(request, "Your claim was withdrawn.")
    return redirect(reverse("paper", args=[paper.key]) + "#authors")


@login_required
@require_POST
def links(request, key: str):
    """A verified author or a moderator sets the paper's code repository and project page."""
    paper = find(key)
    typed = {name: request.POST.get(name, "") for name in ("github_repo", "project_page")}
    try:
        authors.set_links(request.user, paper, typed["github_repo"], typed["project_page"])
    except NotAllowed as exc:
        return error_page(request, 403, "Not allowed", f"{str(exc).capitalize()}.")
    except (InvalidInput, RateLimited) as exc:
        status, headers = _refused(exc)
        said = str(exc)
        field = exc.field if isinstance(exc, InvalidInput) else ""
        # The field's name in the API (githubRepo) is its label's here.
        label = {"githubRepo": "the code repository", "projectPage": "the project page"}.get(field)
        if label:
            said = said.replace(field, label, 1)
        sent_back = {
            "links_error": f"The links were not saved: {said}.",
            "links_error_field": field,
            "links_typed": typed,
        }
        return _page(request, paper, status, sent_back, **headers)
    messages.success(request, "The paper's links were saved.")
    return redirect(reverse("paper", args=[paper.key]) + "#authors")


def _comment(value: str) -> Comment | None:
    """The comment a form field names by its id, or None."""
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        return None
    return Comment.objects.filter(pk=int(value)).first()


def _back(request, paper: Paper) -> str:
    """Where a form post returns to: the page it came from when that is on this site."""
    return local_target(request, request.POST.get("next", "")) or reverse("paper", args=[paper.key])
