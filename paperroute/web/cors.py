"""Cross-origin reads of the public JSON API: a lab's web page may fetch today's papers, a search
or a paper from the browser, as it may from Hugging Face's API.

Only the API's anonymous, read-only endpoints (api.PUBLIC_READS) are opened, for GET and HEAD,
and their preflight (OPTIONS) when it asks for GET or HEAD. Every answer says
`Access-Control-Allow-Origin: *` and never `Access-Control-Allow-Credentials`, so a browser lets
another site read what anyone may read and nothing more: a request it sends with the reader's
cookies gets an answer the page cannot read, and a preflight that asks to send an
`Authorization` header (a personal token), or to POST or DELETE, is not allowed. The writes
(voting, commenting, submitting) and `/api/recommendations` get no CORS header at all; their
session auth still needs the CSRF token, which another site cannot read.

The headers are the same for every request to an endpoint, whatever its `Origin`, so no `Vary:
Origin` is needed: a cache that stored the answer to one client serves any other correctly, a 304
included (this middleware sits outside ConditionalGetMiddleware, so a 304 carries them too).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import Resolver404, resolve

# What a page's script may send without asking beyond the CORS-safelisted ones: conditional
# requests, to revalidate what it keeps with the ETag.
ALLOWED_HEADERS = "If-None-Match, If-Modified-Since"
# What a page's script may read beside the safelisted headers: paging, counts, search notes and
# the ETag.
EXPOSED_HEADERS = ", ".join(
    [
        "ETag",
        "Link",
        "Retry-After",
        "X-Total-Count",
        "X-Total-Estimated",
        "X-Search-Corrected",
        "X-Search-Suggestion",
        "X-Search-Index-Behind",
    ]
)
READ_METHODS = ("GET", "HEAD")
# How long a browser may keep a preflight's answer (Chromium keeps it two hours at most).
PREFLIGHT_SECONDS = "86400"


def public_read(path: str) -> bool:
    """Whether the address is one of the API's anonymous, read-only endpoints."""
    if not path.startswith("/api/"):
        return False
    from paperroute.web.api import PUBLIC_READS

    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.namespace == "api" and match.url_name in PUBLIC_READS


class ApiCorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        method = request.method
        asked = request.headers.get("Access-Control-Request-Method", "")
        if method == "OPTIONS" and asked in READ_METHODS and public_read(request.path_info):
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Origin"] = "*"
            response["Access-Control-Allow-Methods"] = ", ".join(READ_METHODS)
            response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response["Access-Control-Max-Age"] = PREFLIGHT_SECONDS
            return response
        response = self.get_response(request)
        if method in READ_METHODS and public_read(request.path_info):
            response["Access-Control-Allow-Origin"] = "*"
            response["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        return response
