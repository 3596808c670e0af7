"""Reading a source's input from a file, standard input or a polite HTTP client."""

from __future__ import annotations

import gzip
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import paperroute
from paperroute.catalog.records import UnusableInput

# Retry-After may ask for a long pause; a harvest should not stall for hours on one reply.
MAX_RETRY_AFTER = 600.0


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


def read_local(spec: str) -> bytes:
    """The bytes of a file, or of standard input for '-', gunzipped when compressed."""
    if spec == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(spec).read_bytes()
        except OSError as exc:
            raise UnusableInput(f"cannot read {spec}: {exc.strerror}") from None
    return gunzip(data)


def gunzip(data: bytes) -> bytes:
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise UnusableInput(f"broken gzip data: {exc}") from None
    return data


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
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - datetime.now(timezone.utc)).total_seconds()
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
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.delay = delay
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
                    return gunzip(response.read())
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
        self._last_request = time.monotonic()
