"""Reading a source's input from a file, standard input or a polite HTTP client."""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import paperroute
from paperroute import stopping
from paperroute.catalog.records import UnusableInput

# Retry-After may ask for a long pause; a harvest should not stall for hours on one reply.
MAX_RETRY_AFTER = 600.0
# The most bytes one input may hold once decompressed (PAPERROUTE_MAX_INPUT_MB): a 1 MB gzip can
# unpack to gigabytes, and every byte is held in memory while it is parsed.
DEFAULT_MAX_BYTES = 256 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


class FetchError(UnusableInput):
    """A request that failed for good (HTTP error, connection refused after retries)."""


def is_url(spec: str) -> bool:
    return spec.startswith(("http://", "https://"))


def with_params(url: str, **params: str) -> str:
    """The URL with these query parameters set, the others kept."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


class TooLarge(UnusableInput):
    """An input over the size limit, before or after decompression."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the input is larger than {limit >> 20} MB (once decompressed); split it, "
            "or raise PAPERROUTE_MAX_INPUT_MB"
        )


def read_local(spec: str, limit: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of a file, or of standard input for '-', gunzipped when compressed."""
    if spec == "-":
        data = sys.stdin.buffer.read(limit + 1)
    else:
        try:
            with open(spec, "rb") as handle:
                data = handle.read(limit + 1)
        except OSError as exc:
            raise UnusableInput(f"cannot read {spec}: {exc.strerror}") from None
    return gunzip(data, limit)


def gunzip(data: bytes, limit: int = DEFAULT_MAX_BYTES) -> bytes:
    """The data, decompressed if it is gzip; TooLarge once it passes `limit` bytes.

    Decompression stops as soon as the output passes the limit, so a bomb costs no more memory
    than the limit allows.
    """
    if data[:2] != _GZIP_MAGIC:
        if len(data) > limit:
            raise TooLarge(limit)
        return data
    chunks: list[bytes] = []
    size = 0
    rest = data
    try:
        while rest[:2] == _GZIP_MAGIC:  # a file may hold several gzip members, one after another
            member = zlib.decompressobj(wbits=31)
            pending = rest
            while pending:
                chunk = member.decompress(pending, _CHUNK)
                pending = member.unconsumed_tail
                size += len(chunk)
                if size > limit:
                    raise TooLarge(limit)
                chunks.append(chunk)
                if member.eof:
                    break
            if not member.eof:
                raise UnusableInput("broken gzip data: the data ends before the end of the stream")
            rest = member.unused_data
    except zlib.error as exc:
        raise UnusableInput(f"broken gzip data: {exc}") from None
    if rest.strip(b"\x00"):
        raise UnusableInput("broken gzip data: trailing bytes after the compressed stream")
    return b"".join(chunks)


def retry_after_seconds(value: str | None, default: float) -> float:
    """Seconds to wait from a Retry-After header (a number of seconds or an HTTP date)."""
    if not value:
        return default
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return default
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class PoliteClient:
    """GETs with a fixed pause between requests, Retry-After handling and bounded retries."""

    def __init__(
        self,
        *,
        delay: float,
        timeout: float,
        contact: str = "",
        retries: int = 5,
        sleep: Callable[[float], None] = stopping.sleep,
        log: Callable[[str], None] = lambda message: None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.delay = delay
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.retries = retries
        self.sleep = sleep
        self.log = log
        agent = f"paperroute/{paperroute.__version__}"
        self.user_agent = f"{agent} (mailto:{contact})" if contact else agent
        self._last_request = 0.0

    def get(self, url: str) -> bytes:
        """The body of a successful response to `url`."""
        backoff = 5.0
        for attempt in range(self.retries + 1):
            self._pause()
            request = urllib.request.Request(
                url, headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip"}
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    body = response.read(self.max_bytes + 1)
                    if response.length and len(body) <= self.max_bytes:
                        # The connection closed before the length the server announced: read
                        # with a size, http.client returns what came, silently.
                        raise ConnectionError(
                            f"the response ended after {len(body)} of {len(body) + response.length} bytes"
                        )
                    return gunzip(body, self.max_bytes)
            except urllib.error.HTTPError as exc:
                if exc.code not in (429, 500, 502, 503, 504) or attempt == self.retries:
                    raise FetchError(f"HTTP {exc.code} {exc.reason} from {url}") from None
                wait = retry_after_seconds(exc.headers.get("Retry-After"), backoff)
                self.log(f"HTTP {exc.code} from the server; retrying in {wait:g} s")
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                if attempt == self.retries:
                    reason = getattr(exc, "reason", exc)
                    raise FetchError(f"cannot reach {url}: {reason}") from None
                wait = backoff
                self.log(f"connection failed ({getattr(exc, 'reason', exc)}); retrying in {wait:g} s")
            self.sleep(wait)
            backoff = min(backoff * 2, MAX_RETRY_AFTER)
        raise AssertionError("unreachable")

    def _pause(self) -> None:
        wait = self._last_request + self.delay - time.monotonic()
        if wait > 0:
            self.sleep(wait)
        # A stop asked during the pause (or during a Retry-After wait of up to 10 minutes before
        # it) ends here rather than after one more request: a harvest stops in seconds.
        if stopping.requested():
            raise stopping.Stopped(f"stopped by {stopping.reason()} before the next request to the source")
        self._last_request = time.monotonic()
