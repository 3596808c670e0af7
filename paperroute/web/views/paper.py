"""The paper page, its BibTeX, and the votes and comments posted from it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from paperroute.catalog import bibtex
from paperroute.catalog.models import Paper
from paperroute.catalog.records import parse_arxiv_id
from paperroute.community import comments, listings, votes
from paperroute.community.errors import CommunityError, InvalidInput, NotAllowed, RateLimited
from paperroute.community.models import Comment
from paperroute.community.submissions import submitter
from paperroute.library import shelf
from paperroute.web import related
from paperroute.web.views.common import cacheable, error_page, local_target


def find(key: str) -> Paper:
    """The paper with this key; Http404 otherwise."""
    paper = listings.annotated(Paper.objects.filter(key=key)).first()
    if paper is None:
        raise Http404(f"no paper with the id {key!r} is known here")
    return paper


def canonical_key(key: str) -> str | None:
    """The key an arXiv id with a version or prefix stands for (2411.17700v2 -> 2411.17700)."""
    try:
        arxiv_id, _ = parse_arxiv_id(key)
    except ValueError:
        return None
    return arxiv_id if arxiv_id != key else None


def detail(request, key: str):
    try:
        paper = find(key)
    except Http404:
        other = canonical_key(key)
        if other and Paper.objects.filter(key=other).exists():
            return redirect("paper", key=other, permanent=True)
        raise
    paper.upvoted = votes.has_voted(request.user, paper)
    library = {}
    if request.user.is_authenticated:
        # Opening a paper's page marks it read, unless the reader has just marked it unread here.
        if request.GET.get("kept") != "unread":
            shelf.opened(request.user, paper)
        paper.saved = bool(shelf.saved_ids(request.user, [paper.pk]))
        paper.read = bool(shelf.read_ids(request.user, [paper.pk]))
        paper.dismissed = bool(shelf.dismissed_ids(request.user, [paper.pk]))
        library = {"note": shelf.note_of(request.user, paper),
                   "collections": shelf.collections_of(request.user),
                   "in_collections": shelf.collections_holding(request.user, paper)}
    context = {
        "paper": paper,
        "authors": paper.author_names,
        "categories": paper.ordered_categories,
        "versions": list(paper.versions.all()),
        "comments": list(comments.visible(paper)),
        "bibtex": bibtex.entry(paper),
        "related": related.for_paper(paper),
        "submitted_by": submitter(paper),
        "tab": "",
        **library,
    }
    response = render(request, "paper.html", context)
    return cacheable(response) if not request.user.is_authenticated else response


def bibtex_file(request, key: str):
    paper = find(key)
    response = HttpResponse(bibtex.entry(paper), content_type="application/x-bibtex; charset=utf-8")
    filename = "".join(ch if ch.isalnum() or ch in ".-" else "_" for ch in paper.key)
    response["Content-Disposition"] = f'inline; filename="{filename}.bib"'
    return cacheable(response)


@require_POST
def vote(request, key: str):
    """Set the reader's vote (action=up|down, or toggle); JSON for scripts, a redirect for forms."""
    paper = find(key)
    wants_json = "application/json" in request.headers.get("Accept", "")
    if not request.user.is_authenticated:
        if wants_json:
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
        if wants_json:
            return JsonResponse({"detail": str(exc)}, status=429,
                                headers={"Retry-After": str(exc.retry_after)})
        return error_page(request, 429, "Slow down", str(exc), Retry_After=str(exc.retry_after))
    if wants_json:
        return JsonResponse({"upvoted": state.upvoted, "upvotes": state.upvotes})
    return redirect(_back(request, paper))


@login_required
@require_POST
def comment_add(request, key: str):
    paper = find(key)
    try:
        comment = comments.add(request.user, paper, request.POST.get("body", ""))
    except RateLimited as exc:
        return error_page(request, 429, "Slow down", str(exc), Retry_After=str(exc.retry_after))
    except InvalidInput as exc:
        # Shown beside the form it belongs to, where the page scrolls to (#comment-form).
        messages.error(request, f"Your comment was not posted: {exc}.", extra_tags="comment-form")
        return redirect(reverse("paper", args=[paper.key]) + "#comment-form")
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
            return render(request, "comment_edit.html", {"comment": comment, "error": str(exc),
                                                         "body": request.POST.get("body", "")},
                          status=400)
        return redirect(reverse("paper", args=[comment.paper.key]) + f"#comment-{comment.pk}")
    return render(request, "comment_edit.html", {"comment": comment, "body": comment.body})


@login_required
@require_POST
def comment_delete(request, pk: int):
    comment = get_object_or_404(Comment.objects.select_related("paper"), pk=pk)
    key = comment.paper.key
    try:
        comments.delete(request.user, comment)
    except NotAllowed as exc:
        return error_page(request, 403, "Not yours", str(exc))
    except CommunityError as exc:
        return error_page(request, 400, "Not deleted", str(exc))
    messages.success(request, "Your comment was deleted.")
    return redirect(reverse("paper", args=[key]) + "#comments")


def _back(request, paper: Paper) -> str:
    """Where a form post returns to: the page it came from when that is on this site."""
    return local_target(request, request.POST.get("next", "")) or reverse("paper", args=[paper.key])
