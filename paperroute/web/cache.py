"""The page cache: anonymous visitors' pages served from memory until anything on them changes.

Each web process keeps rendered pages in its own memory, keyed by the path, by the site stamp
(the community write counter and the catalogue's last change, read from the database on each
request) and by the search index on disk. A vote in any process, on any host sharing the
database, changes the stamp, and the worker's sync changes the index, so no process serves a
page from before either.
"""

from __future__ import annotations

import gzip
import hashlib
import re

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers, set_response_etag

from paperroute import search
from paperroute.community import stamp

# Health checks and metrics must answer even when the database (the stamp) does not.
SKIP_PREFIXES = ("/admin", "/account", "/static", "/submit", "/api", "/healthz", "/metrics", "/mcp")
_GZIP = re.compile(r"\bgzip\b")


class PageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        seconds = settings.CONFIG.page_cache_seconds
        if not seconds or not _anonymous_get(request):
            return self.get_response(request)
        request.get_host()  # an unknown Host header is refused here too, as it would be uncached
        # The search index too: a rebuild or sync changes search results and related papers.
        raw = f"{stamp.current()} {search.version()} {request.get_full_path()}"
        key = "page:" + hashlib.sha1(raw.encode()).hexdigest()
        hit = cache.get(key)
        if hit is not None:
            status, content_type, headers, body, packed = hit
            # The page was compressed once, when it was cached: GZipMiddleware leaves an encoded
            # response alone, and compressing on every hit would cost a third of the throughput.
            # Cached pages are the same for everyone and hold no secret, so BREACH has nothing
            # to find in them.
            gzipped = _GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", ""))
            response = HttpResponse(packed if gzipped else body, status=status, content_type=content_type)
            for name, value in headers:
                response[name] = value
            if gzipped:
                response["Content-Encoding"] = "gzip"
                # Another representation of the page, with another body: a weak tag, as
                # GZipMiddleware gives the first answer's (If-None-Match compares weakly).
                etag = response.get("ETag", "")
                if etag and not etag.startswith("W/"):
                    response["ETag"] = "W/" + etag
            patch_vary_headers(response, ("Accept-Encoding",))
            response["X-Page-Cache"] = "hit"
            return response
        response = self.get_response(request)
        if (
            getattr(response, "page_cacheable", False)
            and response.status_code == 200
            and not response.cookies
            and not response.streaming
        ):
            # The uncompressed page's ETag, kept with it: computed on a hit's compressed copy it
            # would differ from the first answer's, and a reader polling with If-None-Match
            # would never get a 304 (ConditionalGetMiddleware answers those).
            set_response_etag(response)
            headers = [
                (n, v)
                for n, v in response.items()
                if n.lower() not in ("content-type", "content-length", "set-cookie")
            ]
            cache.set(
                key,
                (
                    response.status_code,
                    response["Content-Type"],
                    headers,
                    response.content,
                    gzip.compress(response.content, 6, mtime=0),
                ),
                seconds,
            )
            response["X-Page-Cache"] = "miss"
        return response


def _anonymous_get(request) -> bool:
    # A HEAD arrives here as the GET it stands for (middleware.HeadMiddleware).
    if request.method != "GET" or request.path.startswith(SKIP_PREFIXES):
        return False
    # A session or pending flash messages mean the page may be personal: render it afresh.
    return settings.SESSION_COOKIE_NAME not in request.COOKIES and "messages" not in request.COOKIES
