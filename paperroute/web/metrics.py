"""/metrics for Prometheus, and the counting of every request the server answers."""

from __future__ import annotations

import hmac
import ipaddress
import time

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from paperroute import metrics

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}  # others: "other"


def _allowed(request) -> bool:
    config = settings.CONFIG
    token = config.metrics_token
    offered = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        return True
    try:
        # REMOTE_ADDR is the client's own address: paperroute.web.middleware put it there.
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net) for net in config.metrics_networks)


@require_safe
@never_cache
def metrics_page(request):
    """The Prometheus text format, for scrapers with the token or from an allowed network."""
    if not metrics.enabled():
        return HttpResponse("Not Found\n", status=404, content_type="text/plain")
    if not _allowed(request):
        response = HttpResponse(
            "send Authorization: Bearer PAPERROUTE_METRICS_TOKEN\n", status=401, content_type="text/plain"
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)


def route_of(path: str) -> str:
    """The route a path belongs to, by name: a label with few values, unlike the path itself."""
    from django.urls import Resolver404, resolve

    if path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"
    try:
        match = resolve(path)
    except Resolver404:
        return "unmatched"
    return match.view_name or match.route or "unnamed"


def instrument(application):
    """The WSGI application, counting each request by route and status and timing it."""
    if not metrics.enabled():
        return application
    counters = metrics.counters()

    def counted(environ, start_response):
        began = time.perf_counter()
        status = ["000"]

        def start(code, headers, exc_info=None):
            status[0] = code.split(" ", 1)[0]
            return start_response(code, headers, exc_info) if exc_info else start_response(code, headers)

        try:
            return application(environ, start)
        finally:
            route = route_of(environ.get("PATH_INFO", "/"))
            method = environ.get("REQUEST_METHOD", "")
            counters.requests.labels(route, method if method in METHODS else "other", status[0]).inc()
            counters.latency.labels(route).observe(time.perf_counter() - began)

    return counted
