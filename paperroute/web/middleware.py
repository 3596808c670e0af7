"""Request-level defences: the real client behind a trusted proxy, input no view can store, and
HEAD answered as GET without a body."""

from __future__ import annotations

import ipaddress
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.http import JsonResponse

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_address(text: str) -> IPAddress | None:
    """An IP address as proxies write it (`1.2.3.4`, `1.2.3.4:5678`, `[::1]:80`, `::1`), or None."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # IPv4 with a port; IPv6 has two or more colons
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_trusted(address: IPAddress | None, networks: list[Network]) -> bool:
    return address is not None and any(address in network for network in networks)


def client_address(peer: str, forwarded_for: str, networks: list[Network]) -> str:
    """The client's address: the rightmost X-Forwarded-For hop that no trusted proxy wrote.

    Each proxy appends the address it was connected from, so hops are only as trustworthy as
    the proxy to their right; a client can put anything it likes on the left.
    """
    address = peer
    for hop in reversed([h for h in forwarded_for.split(",") if h.strip()]):
        parsed = parse_address(hop)
        if parsed is None:  # a trusted proxy passed on something that is not an address
            break
        address = str(parsed)
        if not is_trusted(parsed, networks):
            break
    return address


class TrustedProxyMiddleware:
    """Take the client's address and scheme from X-Forwarded-* only when a trusted proxy sent them.

    The proxy's own address is replaced in REMOTE_ADDR by the client's, so that rate limits and
    logs count real clients; headers sent by anyone else are removed before Django reads them
    (SECURE_PROXY_SSL_HEADER names X-Forwarded-Proto).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.networks = [ipaddress.ip_network(n) for n in settings.CONFIG.trusted_proxies]

    def __call__(self, request):
        meta = request.META
        peer = meta.get("REMOTE_ADDR", "")
        if self.networks and is_trusted(parse_address(peer), self.networks):
            meta["REMOTE_ADDR"] = client_address(peer, meta.get("HTTP_X_FORWARDED_FOR", ""), self.networks)
        else:
            for header in ("HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_HOST"):
                meta.pop(header, None)
        return self.get_response(request)


class LeadingSlashesMiddleware:
    """An address that starts with several slashes (//api/daily_papers) is the one with one.

    huggingface_hub joins its endpoint and a path as they are, so `HfApi(endpoint=
    "https://papers.example.org/")` asks for //api/…, which huggingface.co answers and every
    route here refused with 404. Collapsing them here also keeps a //host-like path from ever
    reaching a view that might redirect to it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith("//"):
            path = "/" + request.path_info.lstrip("/")
            request.path = request.path[: len(request.path) - len(request.path_info)] + path
            request.path_info = request.META["PATH_INFO"] = path
        return self.get_response(request)


class HeadMiddleware:
    """HEAD is GET without the body (RFC 9110), for every page and API route.

    Uptime monitors and link checkers send HEAD; views and API routes that list their methods
    answered it with 405, and gunicorn logged a warning for each page whose body it had to drop.
    Here the request goes through as a GET, so the headers (Content-Length, ETag, the cache's)
    are the GET's own, and the body is dropped before the server sees it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "HEAD":
            return self.get_response(request)
        request.method = "GET"
        response = self.get_response(request)
        if response.streaming:
            response.streaming_content = []
        else:
            # A page from the cache comes without one: the GET's would have had it. Not a 304's:
            # its empty body is no length of the page, and a cache that takes the 304's headers
            # would store the page as 0 bytes.
            if response.status_code != 304:
                response.headers.setdefault("Content-Length", str(len(response.content)))
            response.content = b""
        return response


def rate_key(address: str) -> str:
    """What per-client limits count: an IPv4 address, or the /64 an IPv6 client is given, named
    by its first address. An address and not a network ("…::/64"): the digest keeps the key as
    the address a subscription came from, and PostgreSQL refuses a network there."""
    parsed = parse_address(address)
    if parsed is None:
        return address or "unknown"
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False).network_address)
    return str(parsed)


def _refuse(request, status: int, title: str, message: str):
    """An error answered before any view: JSON for the API, MCP and webhooks, else a page."""
    if request.path.startswith(RAW_BODY_PATHS):
        from paperroute.web.views.errors import error_json

        return JsonResponse(error_json(message), status=status)
    from paperroute.web.views.common import error_page

    return error_page(request, status, title, message[0].upper() + message[1:] + ".")


def largest_body() -> tuple[int, int]:
    """The most bytes a request body may have (a library import's file and its form), and the
    most a library import's file may have."""
    from paperroute.library.importing import MAX_BYTES

    return MAX_BYTES + (1 << 20), MAX_BYTES


class RefuseLargeBodyMiddleware:
    """Refuse a body larger than any form or API call here takes, with a 413, unread.

    Django keeps form fields to DATA_UPLOAD_MAX_MEMORY_SIZE but streams files of any size to
    disk once the form is read (by the CSRF check, or by a view): anyone could send 300 MB to
    /subscribe, which takes no CSRF token, and have it written to a temporary file. Reverse
    proxies have their own limit (deploy/nginx.conf), but `paperroute serve` is also reached
    directly.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # read as no body by Django too
        limit, import_limit = largest_body()
        if length > limit:
            message = (
                f"the request is larger than {limit >> 20} MB, the most this site takes "
                f"(a library import takes files of up to {import_limit >> 20} MB)"
            )
            return _refuse(request, 413, "Too large", message)
        return self.get_response(request)


class RefuseNulMiddleware:
    """Refuse a NUL character anywhere in the path, the query or a form field, with a 400.

    No text column can hold one (PostgreSQL refuses it outright), so no view could do anything
    useful with it; refusing it here keeps every view from having to.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request):
            message = "the request holds a NUL character, which no address or form field may contain"
            return _refuse(request, 400, "Bad request", message)
        return self.get_response(request)


class ExplainNotAllowedMiddleware:
    """A 405 says which methods the address takes: in JSON under the API, MCP and webhooks, where
    every error is JSON, and on a page elsewhere. Django's and django-ninja's own were an empty
    body and a plain-text one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 405 or response.get("Content-Type", "").startswith("application/json"):
            return response
        allowed = response.get("Allow", "")
        message = f"{request.method} is not allowed here: this address takes {allowed or 'no request'}"
        explained = _refuse(request, 405, "Not allowed", message)
        explained["Allow"] = allowed
        return explained


def _has_nul(request) -> bool:
    if "\x00" in request.path:
        return True
    query = request.META.get("QUERY_STRING", "")
    if "\x00" in query or b"\x00" in unquote_to_bytes(query):
        return True
    if request.method != "POST":
        return False
    # Django reads the media type without case, so this does too: "Application/x-www-form-…"
    # is a form, and its fields reached the views unchecked.
    content_type = request.META.get("CONTENT_TYPE", "").lower()
    if content_type.startswith("application/x-www-form-urlencoded"):
        if not _small_body(request):
            return False  # Django refuses to read it as a form (RequestDataTooBig): no field gets through
        # Reading the body first keeps it readable for views that want it as well as the fields.
        request.body  # noqa: B018
    elif content_type.startswith("multipart/form-data"):
        # Whatever its size: a large file beside a small field left the field unchecked. Files go
        # to disk as they are parsed; the fields are held to DATA_UPLOAD_MAX_MEMORY_SIZE.
        if _small_body(request):
            request.body  # noqa: B018
        elif request.path.startswith(RAW_BODY_PATHS):
            return False  # they read the raw body, which Django refuses as too large (400)
    else:
        return False
    return any(
        "\x00" in key or any(isinstance(v, str) and "\x00" in v for v in values)
        for key, values in request.POST.lists()
    )


# Where views read the body itself (JSON): parsing a form there first would leave it unreadable.
RAW_BODY_PATHS = ("/api/", "/mcp", "/hooks/")


def _small_body(request) -> bool:
    """A body small enough to hold in memory."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return 0 < length <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE
