"""A reader's library: saving, collections, notes, read and not interested, follows, the private
feed. Every write is a POST with the CSRF token, answered with JSON for scripts (Accept:
application/json) or a redirect back for forms, so that each works without JavaScript."""

from __future__ import annotations

import functools
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from paperroute.catalog import taxonomy
from paperroute.catalog.models import Paper
from paperroute.community import listings
from paperroute.community.errors import CommunityError, InvalidInput, NotAllowed, RateLimited
from paperroute.library import follows, shelf
from paperroute.library.models import Collection, Follow
from paperroute.web.context import absolute
from paperroute.web.views.common import (
    error_page,
    local_target,
    mark_voted,
    not_found_json,
    paginate,
    shown_at,
    wants_json,
)


def _failure(request, exc: CommunityError):
    """A library error as the caller expects it: JSON with a status, or an error page."""
    status = 429 if isinstance(exc, RateLimited) else 403 if isinstance(exc, NotAllowed) else 400
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else {}
    if wants_json(request):
        return JsonResponse({"detail": str(exc)}, status=status, headers=headers)
    titles = {429: "Slow down", 403: "Not yours", 400: "Not done"}
    return error_page(
        request,
        status,
        titles[status],
        str(exc)[:1].upper() + str(exc)[1:] + ".",
        **({"Retry_After": headers["Retry-After"]} if headers else {}),
    )


def library_action(view):
    """Signed-in POSTs only; domain errors become 400/403/429 answers, and a paper or collection
    that is not there (or not the reader's) a 404, in JSON for scripts as the others are."""

    @functools.wraps(view)
    @require_POST
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            if wants_json(request):
                return JsonResponse({"detail": "sign in to keep a library"}, status=401)
            back = local_target(request, request.POST.get("next", "")) or reverse("library")
            return redirect(f"{reverse('signin')}?{urlencode({'next': back})}")
        try:
            return view(request, *args, **kwargs)
        except CommunityError as exc:
            return _failure(request, exc)
        except Http404 as exc:
            # A script reads JSON: the site's own (site.js) sends Accept: application/json and
            # falls back to posting the form, which gets the page, when the answer is not ok.
            if not wants_json(request):
                raise
            return not_found_json(exc)

    return wrapper


def _paper(key: str) -> Paper:
    paper = Paper.objects.filter(key=key).first()
    if paper is None:
        raise Http404(f"no paper with the id {key!r} is known here")
    return paper


def _collection(request, pk: int, *, owner_only: bool = False) -> Collection:
    """A collection the reader may see: their own, or a public one (unless `owner_only`)."""
    found = Collection.objects.filter(pk=pk).select_related("owner").first()
    mine = found is not None and request.user.is_authenticated and found.owner_id == request.user.pk
    if found is None or not (mine or (found.public and not owner_only)):
        raise Http404("no such collection, or it is private")
    return found


def _back(request, fallback: str) -> str:
    return local_target(request, request.POST.get("next", "")) or fallback


def _owned_collection(request, raw: str | None) -> Collection | None:
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) < 19):
        raise InvalidInput("choose one of your collections", "collection")
    collection = Collection.objects.filter(pk=int(raw), owner=request.user).first()
    if collection is None:
        raise InvalidInput("choose one of your collections", "collection")
    return collection


# -- on a paper ----------------------------------------------------------------------------


@library_action
def save(request, key: str):
    """Save the paper (action=save) into Saved or a collection, or take it out (action=unsave)."""
    paper = _paper(key)
    collection = _owned_collection(request, request.POST.get("collection"))
    if request.POST.get("action", "save") == "unsave":
        shelf.remove(request.user, paper, collection)
    else:
        shelf.add(request.user, paper, collection)
    saved = paper.pk in shelf.saved_ids(request.user, [paper.pk])
    if wants_json(request):
        return JsonResponse(
            {"saved": saved, "collections": sorted(shelf.collections_holding(request.user, paper))}
        )
    return redirect(_back(request, reverse("paper", args=[paper.key])))


@library_action
def paper_state(request, key: str):
    """action=read|unread|dismiss|undismiss ("not interested" and its undo)."""
    paper = _paper(key)
    action = request.POST.get("action", "")
    if action in ("read", "unread"):
        shelf.mark_read(request.user, paper, action == "read")
    elif action in ("dismiss", "undismiss"):
        shelf.not_interested(request.user, paper, action == "dismiss")
        if action == "dismiss" and not wants_json(request):
            messages.success(request, f"You will not see “{paper.title[:80]}” again in your listings.")
    else:
        raise InvalidInput("say read, unread, dismiss or undismiss", "action")
    if wants_json(request):
        read = paper.pk in shelf.read_ids(request.user, [paper.pk])
        dismissed = paper.pk in shelf.dismissed_ids(request.user, [paper.pk])
        return JsonResponse({"read": read, "dismissed": dismissed})
    return redirect(_back(request, reverse("paper", args=[paper.key])))


@library_action
def paper_note(request, key: str):
    paper = _paper(key)
    text = shelf.set_note(request.user, paper, request.POST.get("text", ""))
    if wants_json(request):
        return JsonResponse({"note": text})
    messages.success(request, "Your note was saved." if text else "Your note was deleted.")
    return redirect(_back(request, reverse("paper", args=[paper.key]) + "#note"))


# -- the library and its collections -------------------------------------------------------


@login_required
def library(request):
    """The reader's Saved papers, their collections, notes and hidden papers."""
    return _library_page(request)


def _library_page(request, error: InvalidInput | None = None):
    """The library; with an error, the New collection form open again with what was typed and
    the error beside its field (400)."""
    collections = shelf.collections_of(request.user)
    saved = collections[0]
    page = paginate(request, shelf.items(saved), per_page=50)
    papers = _cards(
        request, [item.paper for item in page.object_list], {item.paper_id: item for item in page.object_list}
    )
    notes = shelf.notes_of(request.user)
    noted = listings.annotated(Paper.objects.filter(pk__in=list(notes))).order_by("title")[:200]
    hidden = Paper.objects.filter(pk__in=list(shelf.dismissed_ids(request.user))).order_by("title")[:200]
    return render(
        request,
        "library/library.html",
        {
            "collections": collections,
            "saved": saved,
            "page": page,
            "papers": papers,
            "noted": [(paper, notes[paper.pk]) for paper in noted],
            "hidden": hidden,
            "following": follows.of(request.user),
            "tab": "library",
            "errors": {error.field or "name": str(error)} if error else {},
            "typed": {
                "name": request.POST.get("name", "")[:120],
                "description": request.POST.get("description", "")[:2000],
                "public": request.POST.get("public") == "on",
            },
            **(shown_at(reverse("library")) if error else {}),
        },
        status=400 if error else 200,
    )


def _cards(request, papers, items=None) -> list[Paper]:
    """Papers ready for cards: votes, library state and (in a collection) their item."""
    if not papers:
        return []
    by_pk = listings.by_id([p.pk for p in papers])
    shown = mark_voted(request, [by_pk[p.pk] for p in papers if p.pk in by_pk])
    for paper in shown:
        paper.item = (items or {}).get(paper.pk)
    return shown


@login_required
@require_POST
def collection_new(request):
    try:
        collection = shelf.create_collection(
            request.user,
            request.POST.get("name", ""),
            request.POST.get("description", ""),
            request.POST.get("public") == "on",
        )
    except InvalidInput as exc:
        return _library_page(request, exc)
    except CommunityError as exc:
        return _failure(request, exc)
    messages.success(request, f"Collection “{collection.name}” made.")
    return redirect("collection", pk=collection.pk)


def collection(request, pk: int):
    """A collection: the owner's to arrange, anyone's to read when it is public."""
    found = _collection(request, pk)
    mine = request.user.is_authenticated and found.owner_id == request.user.pk
    page = paginate(request, shelf.items(found), per_page=100)
    items = {item.paper_id: item for item in page.object_list}
    papers = _cards(request, [item.paper for item in page.object_list], items)
    return render(
        request,
        "library/collection.html",
        {
            "collection": found,
            "mine": mine,
            "page": page,
            "papers": papers,
            "collections": shelf.collections_of(request.user) if mine else [],
            "feeds": [
                (
                    f"{found.name} (Atom)",
                    reverse("collection_export", args=[found.pk, "atom"]),
                    "application/atom+xml",
                )
            ]
            if found.public
            else [],
        },
    )


@library_action
def collection_edit(request, pk: int):
    found = _collection(request, pk, owner_only=True)
    if request.POST.get("form") == "delete":
        shelf.delete_collection(request.user, found)
        messages.success(request, f"Collection “{found.name}” deleted.")
        return redirect("library")
    shelf.update_collection(
        request.user,
        found,
        name=request.POST.get("name", found.name),
        description=request.POST.get("description", found.description),
        public=request.POST.get("public") == "on",
    )
    messages.success(
        request,
        "Collection saved."
        + (" Anyone with its address can read it now." if found.public else " Only you can see it."),
    )
    return redirect("collection", pk=found.pk)


@library_action
def collection_item(request, pk: int):
    """A paper in a collection: action=remove|up|down|top|note (note=text)."""
    found = _collection(request, pk, owner_only=True)
    paper = _paper(request.POST.get("paper", ""))
    action = request.POST.get("action", "")
    if action == "remove":
        shelf.remove(request.user, paper, found)
    elif action in ("up", "down", "top"):
        shelf.move(request.user, found, paper, {"up": -1, "down": 1, "top": -(10**6)}[action])
    elif action == "note":
        shelf.set_item_note(request.user, found, paper, request.POST.get("note", ""))
    else:
        raise InvalidInput("say remove, up, down, top or note", "action")
    if wants_json(request):
        return JsonResponse({"ok": True})
    return redirect(_back(request, reverse("collection", args=[found.pk])) + f"#p-{paper.pk}")


@library_action
def collection_order(request, pk: int):
    """The whole order at once (paper ids in `paper`, repeated), as a script sends it."""
    found = _collection(request, pk, owner_only=True)
    shelf.reorder(request.user, found, request.POST.getlist("paper")[: shelf.MAX_ITEMS])
    return JsonResponse({"ok": True}) if wants_json(request) else redirect("collection", pk=found.pk)


def collection_export(request, pk: int, fmt: str):
    """A collection as BibTeX (.bib), CSL-JSON (.json) or an Atom feed (.atom)."""
    from paperroute.library import exports
    from paperroute.web import feeds

    found = _collection(request, pk)
    papers = [item.paper for item in shelf.items(found)]
    filename = f"collection-{found.pk}"
    if fmt == "bib":
        response = HttpResponse(exports.bibtex(found), content_type="application/x-bibtex; charset=utf-8")
    elif fmt == "json":
        response = HttpResponse(
            exports.csl_json(found), content_type="application/vnd.citationstyles.csl+json"
        )
    elif fmt == "atom":
        return feeds.collection_feed(request, found, papers)
    else:
        raise Http404("export a collection as .bib, .json or .atom")
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


# -- import --------------------------------------------------------------------------------

# -- follows and the private feed ----------------------------------------------------------


@login_required
def following(request):
    return _following_page(request)


def _error_field(error: InvalidInput | RateLimited) -> str:
    """Where the Following form shows an error: beside its field, or, for the rate limit, which
    is no field's fault, above the form."""
    return "form" if isinstance(error, RateLimited) else error.field or "value"


def _following_page(request, error: InvalidInput | RateLimited | None = None):
    """What the reader follows; with an error, the form shown again with what they typed and
    the error beside its field (400), or above the form when the reader is changing follows too
    often (429 with Retry-After), as the subscription preferences page does."""
    current = follows.of(request.user)
    groups = [
        ("topic", "Topics", [(t, t, reverse("search") + "?" + urlencode({"q": t})) for t in current.topics]),
        (
            "category",
            "Categories",
            [(c, taxonomy.labelled(c), reverse("category", args=[c])) for c in current.categories],
        ),
        (
            "author",
            "Authors",
            [(f.label, f.label, reverse("author", args=[f.label])) for f in current.authors],
        ),
    ]
    response = render(
        request,
        "library/following.html",
        {
            "following": current,
            "groups": groups,
            "tab": "following",
            "feed_url": absolute(reverse("private_feed", args=[follows.feed_secret(request.user)])),
            "errors": {_error_field(error): str(error)} if error else {},
            "kinds": [
                ("topic", "Topic (words)"),
                ("category", "Category (cs.CL, cs)"),
                ("author", "Author (full name)"),
            ],
            "typed": {"kind": request.POST.get("kind", ""), "value": request.POST.get("value", "")[:300]},
        },
        status=429 if isinstance(error, RateLimited) else 400 if error else 200,
    )
    if isinstance(error, RateLimited):
        response["Retry-After"] = str(error.retry_after)
    return response


@library_action
def follow(request):
    """action=follow|unfollow, kind=topic|category|author, value=…"""
    kind, value = request.POST.get("kind", ""), request.POST.get("value", "")
    unfollow = request.POST.get("action", "follow") == "unfollow"
    try:
        if kind not in dict(Follow.KINDS):
            raise InvalidInput("choose a topic, a category or an author to follow", "kind")
        if unfollow:
            follows.unfollow(request.user, kind, value)
        else:
            made, new = follows.follow(request.user, kind, value)
            value = made.label or made.value
    except (InvalidInput, RateLimited) as exc:
        if wants_json(request):
            raise
        return _following_page(request, exc)
    if wants_json(request):
        return JsonResponse({"following": not unfollow})
    if unfollow:
        messages.success(request, f"You no longer follow “{value}”.")
    elif new:
        messages.success(request, f"You follow the {kind} “{value}” now.")
    else:
        messages.info(request, f"You already follow the {kind} “{value}”.")
    return redirect(_back(request, reverse("following")))


@library_action
def forget_dismissed(request):
    count = shelf.forget_dismissed(request.user)
    messages.success(
        request,
        f"{count} paper{'s' if count != 1 else ''} you were not interested "
        "in will show again, and no longer count in For you.",
    )
    return redirect("library")


@library_action
def rotate_feed(request):
    follows.rotate_feed_secret(request.user)
    messages.success(request, "Your private feed has a new address; the old one no longer works.")
    return redirect("following")
