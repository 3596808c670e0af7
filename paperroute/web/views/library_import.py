"""/library/import: a reader imports a reference manager's export or a list of arXiv ids."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from paperroute.community.errors import InvalidInput, NotAllowed, RateLimited
from paperroute.library import importing, shelf
from paperroute.library.importing.report import NOT_TRIED
from paperroute.library.models import Collection
from paperroute.web.views.common import error_page

# Rows of each table shown; the summary still counts them all.
SHOWN = 500


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request):
    """GET: the form. POST: run an import (action=import) or fetch unmatched ids (action=fetch)."""
    context = {
        "tab": "import",
        "error": "",
        "error_field": "",
        "text": "",
        "chosen": "",
        "shown": SHOWN,
        "max_mb": importing.MAX_BYTES // 2**20,
        "max_entries": f"{importing.MAX_ENTRIES:,}",
        "max_fetch": importing.MAX_FETCH,
    }
    if request.method != "POST":
        return _page(request, context)
    context["chosen"] = request.POST.get("collection", "")
    try:
        collection = _collection(request)
        if request.POST.get("action") == "fetch":
            ids = request.POST.getlist("id")[: importing.MAX_ENTRIES]
            fetched = importing.fetch_unmatched(request.user, ids, collection)
            context.update(
                fetched=fetched,
                target=collection or shelf.saved_collection(request.user),
                rest=[f.arxiv_id for f in fetched if f.status == NOT_TRIED],
            )
            return _page(request, context)
        data, filename = _upload(request, context)
        context["report"] = importing.run(request.user, data, filename=filename, collection=collection)
    except RateLimited as exc:
        return error_page(request, 429, "Slow down", _sentence(exc), Retry_After=str(exc.retry_after))
    except (InvalidInput, NotAllowed) as exc:
        context["error"] = _sentence(exc)
        # The field the error is about: the collection, the pasted text when that was what was
        # sent, else the file (nothing sent: "choose a file ..., or paste ...").
        if getattr(exc, "field", "") == "collection":
            context["error_field"] = "collection"
        elif "file" not in request.FILES and request.POST.get("text", "").strip():
            context["error_field"] = "text"
        else:
            context["error_field"] = "file"
        return _page(request, context, status=400)
    return _page(request, context)


def _page(request, context: dict, status: int = 200):
    # The collections' counts are read after the import, so that they include it.
    context["collections"] = shelf.collections_of(request.user)
    return render(request, "library/import.html", context, status=status)


def _sentence(exc: Exception) -> str:
    text = str(exc)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _collection(request) -> Collection | None:
    """The reader's collection chosen in the form; None for Saved."""
    raw = request.POST.get("collection", "")
    if not raw:
        return None
    found = None
    if raw.isascii() and raw.isdigit() and len(raw) < 19:
        found = Collection.objects.filter(pk=int(raw), owner=request.user).first()
    if found is None:
        raise InvalidInput("choose one of your collections", "collection")
    return found


def _upload(request, context: dict) -> tuple[bytes | str, str]:
    """The uploaded file (bytes, name), else the pasted text; a file wins when both are sent."""
    upload = request.FILES.get("file")
    if upload is not None:
        if upload.size > importing.MAX_BYTES:
            # Refused before it is read: the size is known from the upload itself.
            raise InvalidInput(
                f"the file is larger than {context['max_mb']} MB, the most one import "
                "takes; export a smaller part of your library",
                "file",
            )
        return upload.read(importing.MAX_BYTES + 1), upload.name or "upload"
    context["text"] = request.POST.get("text", "")
    if not context["text"].strip():
        raise InvalidInput("choose a file to upload, or paste arXiv ids or links", "file")
    return context["text"], ""
