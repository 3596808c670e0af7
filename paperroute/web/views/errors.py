"""Error pages: clear words for 400, 403, 404 and 500, never a traceback; JSON under /api/."""

from __future__ import annotations

from django.http import JsonResponse

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
    return _answer(
        request, 400, "Bad request", str(exception or "") or "The address or form could not be understood."
    )


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
