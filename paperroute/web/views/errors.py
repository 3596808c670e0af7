"""Error pages: clear words for 400, 403, 404 and 500, never a traceback; JSON under /api/."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import JsonResponse
from django.template.defaultfilters import filesizeformat

from paperroute.web.views.common import error_page


def error_json(message: str, **extra) -> dict:
    """An API error's body: the message as `detail`, and again as `error`, where Hugging Face
    puts it and `huggingface_hub` reads it (its HfHubHTTPError shows it as the server's message)."""
    return {"detail": message, "error": message, **extra}


def _answer(request, status: int, title: str, message: str):
    # API clients parse the body, so every answer under /api/ is JSON, even for addresses that
    # no API route matches (/api/papers/a%0Ab) and errors raised before the API is reached.
    if request.path.startswith("/api/"):
        return JsonResponse(error_json(message), status=status)
    return error_page(request, status, title, message)


def bad_request(request, exception=None):
    return _answer(request, 400, "Bad request", _why_bad(request, exception))


def _why_bad(request, exception) -> str:
    """What was wrong with the request, in words for the reader. Django's own messages for these
    name its settings ("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE."), which no
    reader can act on and no operator here sets."""
    if isinstance(exception, RequestDataTooBig):
        from paperroute.library.importing import MAX_BYTES

        return (
            f"The form holds more than {filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}, the most a "
            f"form here takes. To import a long list, upload it as a file (up to {MAX_BYTES >> 20} MB)."
        )
    if isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        return "The form has more fields than any form on this site; send it from the site's own page."
    if isinstance(exception, DisallowedHost):
        return unknown_host(request.META.get("HTTP_HOST", ""))
    return str(exception or "") or "The address or form could not be understood."


def unknown_host(name: str) -> str:
    """What a request under a host name the site does not serve is told."""
    return f"This site does not answer to the name {name[:100]!r}; check the address."


def forbidden(request, exception=None):
    return _answer(request, 403, "Not allowed", str(exception or "") or "You are not allowed to do that.")


def not_found(request, exception=None):
    message = exception.args[0] if exception and exception.args and isinstance(exception.args[0], str) else ""
    return _answer(request, 404, "Not found", message or "There is nothing at this address.")


def server_error(request):
    return _answer(
        request,
        500,
        "Something went wrong",
        "The server hit an error. It has been logged; please try again later.",
    )


def csrf_failure(request, reason=""):
    return _answer(
        request,
        403,
        "Form expired",
        "The form was sent without a valid security token (it may be stale or "
        "cookies are blocked). Reload the page and try again.",
    )
