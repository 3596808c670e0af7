"""Error pages: clear words for 400, 403, 404 and 500, never a traceback."""

from __future__ import annotations

from paperroute.web.views.common import error_page


def bad_request(request, exception=None):
    return error_page(request, 400, "Bad request", str(exception or "") or
                      "The address or form could not be understood.")


def forbidden(request, exception=None):
    return error_page(request, 403, "Not allowed", str(exception or "") or
                      "You are not allowed to do that.")


def not_found(request, exception=None):
    message = exception.args[0] if exception and exception.args and isinstance(
        exception.args[0], str) else ""
    return error_page(request, 404, "Not found", message or "There is nothing at this address.")


def server_error(request):
    return error_page(request, 500, "Something went wrong",
                      "The server hit an error. It has been logged; please try again later.")


def csrf_failure(request, reason=""):
    return error_page(request, 403, "Form expired",
                      "The form was sent without a valid security token (it may be stale or "
                      "cookies are blocked). Reload the page and try again.")
