"""Which URLs may become links: plain http and https addresses, and nothing else.

Checked when a record is stored (a bad one is dropped and reported) and again wherever a URL is
turned into a link, so that a row stored by an older version cannot become a `javascript:` href.
"""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_LENGTH = 500
# Characters no plain URL holds, which browsers strip or reinterpret ("java\tscript:").
_FORBIDDEN = set('<>"\\`{}|^') | {chr(c) for c in range(33)} | {"\x7f"}


def http_url(value: object) -> str:
    """The URL if it is an absolute http(s) address with a host, else ''."""
    if not isinstance(value, str):
        return ""
    url = value.strip()
    if not url or len(url) > MAX_LENGTH or any(ch in _FORBIDDEN for ch in url):
        return ""
    if not url.lower().startswith(("http://", "https://")):
        return ""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return ""
    return url if host else ""
