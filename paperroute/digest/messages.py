"""Whole RFC 5322 messages: multipart text + HTML, with the headers digests and confirmations need."""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import hashlib
import re
from datetime import datetime
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.utils.crypto import salted_hmac


def from_header() -> str:
    return settings.CONFIG.from_email


def sender_address() -> str:
    """The bare From address, also used as the envelope sender."""
    return _address_of(from_header())


@lru_cache(maxsize=8)
def _address_of(value: str) -> str:
    return parseaddr(value)[1] or "noreply@localhost"


def mail_domain() -> str:
    """The domain Message-IDs and the List-Id are made under: the From address's, else the site's."""
    return _domain(sender_address(), settings.CONFIG.site_url)


@lru_cache(maxsize=8)
def _domain(address: str, site: str) -> str:
    domain = address.rpartition("@")[2]
    if domain and domain != "localhost":
        return domain.lower()
    return (urlsplit(site).hostname or "localhost").lower()


def message_id(label: str, *private: str) -> str:
    """A Message-ID that is the same every time it is made from the same parts.

    `label` says what the mail is (`digest.daily-2024-11-28`) and is shown as it is; the private
    parts (a subscriber's id, an address) go in only through a hash keyed with SECRET_KEY. The
    subscriber's id in the clear told everyone who got a digest how many subscribers the site
    has, and the ids of others; a hash without a key is undone by trying every small number.
    It stays deterministic (for the same SECRET_KEY): a second composer that takes over a
    stalled run makes the same Message-ID for the same digest, so that the outbox's unique
    constraints keep one, and a copy sent again after an interrupted send (the outbox keeps the
    message whole) is the same mail to the mail systems that drop duplicates.
    """
    value = "\x1f".join((label, *private))
    digest = salted_hmac("paperroute.digest.message_id", value, algorithm="sha256").hexdigest()[:24]
    # Only dot-atom characters on the left of the @ (RFC 5322 msg-id).
    slug = re.sub(r"[^A-Za-z0-9.-]+", "-", label)[:80].strip(".-")
    return f"<{slug}.{digest}@{mail_domain()}>"


def unsubscribe_mailto(token: str) -> str:
    address = settings.CONFIG.unsubscribe_email or sender_address()
    return f"mailto:{address}?subject={quote('unsubscribe ' + token)}"


def build(
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    msg_id: str,
    date: datetime,
    headers: dict[str, str] | None = None,
) -> bytes:
    """The message as bytes ready for SMTP: CRLF line ends, bodies as they are where they can be.

    A body goes as 7bit or 8bit when no line is longer than SMTP allows (Django's own choice
    for UTF-8 mail) and quoted-printable otherwise; the messenger converts 8bit parts for a
    server that does not announce 8BITMIME (see `seven_bit`). Quoted-printable everywhere
    would make a digest 10% larger and twice as many lines, and a mail server's work grows
    with both. Written out directly rather than through email.message, which spends about 7 ms
    on each digest (more than composing it): the parts are always the same two, so the MIME
    structure is fixed, and the stdlib parser reads the result back in the tests.
    """
    boundary = "=_" + hashlib.sha256(msg_id.encode()).hexdigest()[:24]
    lines = [
        f"From: {_from_header()}",
        f"To: {idna_address(to)}",
        f"Subject: {encode_header(subject)}",
        f"Date: {format_datetime(date)}",
        f"Message-ID: {msg_id}",
        *(f"{name}: {encode_header(value)}" for name, value in (headers or {}).items()),
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "",
        f"--{boundary}",
    ]
    text_encoding, text_body = _body(text)
    html_encoding, html_body = _body(html)
    lines += ['Content-Type: text/plain; charset="utf-8"', f"Content-Transfer-Encoding: {text_encoding}", ""]
    # UTF-8 only where an address itself is not ASCII (which needs an SMTPUTF8 server anyway).
    head = "\r\n".join(lines).encode("utf-8") + b"\r\n"
    html_head = (
        "\r\n".join(
            [
                f"--{boundary}",
                'Content-Type: text/html; charset="utf-8"',
                f"Content-Transfer-Encoding: {html_encoding}",
                "",
            ]
        )
        + "\r\n"
    ).encode()
    return b"".join([head, text_body, b"\r\n", html_head, html_body, b"\r\n", f"--{boundary}--\r\n".encode()])


MAX_LINE = 998  # octets in a line, not counting CRLF (RFC 5322)


def _body(text: str) -> tuple[str, bytes]:
    """(Content-Transfer-Encoding, body with CRLF line ends) for one text part."""
    normal = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    if max(map(len, normal.split(b"\n"))) <= MAX_LINE:
        return ("7bit" if normal.isascii() else "8bit"), normal.replace(b"\n", b"\r\n")
    return "quoted-printable", _qp(normal)


def _qp(normal: bytes) -> bytes:
    """Quoted-printable with CRLF line ends: every line under SMTP's limit, whatever the input."""
    return binascii.b2a_qp(normal, istext=True).replace(b"\n", b"\r\n")


def seven_bit(data: bytes) -> bytes:
    """The message with its 8bit parts re-encoded as quoted-printable.

    For a mail server that does not announce 8BITMIME (RFC 6152), which may not be sent 8bit
    data; every current relay announces it, so this is the rare path.
    """
    if data.isascii():
        return data
    message = email.message_from_bytes(data, policy=email.policy.SMTP)
    for part in message.walk():
        if str(part.get("Content-Transfer-Encoding", "")).lower() == "8bit":
            part.set_content(
                part.get_content(),
                subtype=part.get_content_subtype(),
                charset="utf-8",
                cte="quoted-printable",
            )
            if part is not message:
                del part["MIME-Version"]  # set_content adds it; it belongs on the message only
    return message.as_bytes()


def encode_header(value: str) -> str:
    """A header value as is when it is plain ASCII, else as RFC 2047 encoded words."""
    value = " ".join(value.split())
    if value.isascii():
        return value
    words, chunk = [], ""
    for char in value:  # encoded words hold at most 75 characters: ~45 bytes of UTF-8 each
        if len((chunk + char).encode("utf-8")) > 45:
            words.append(chunk)
            chunk = ""
        chunk += char
    words.append(chunk)
    return "\r\n ".join("=?utf-8?b?" + base64.b64encode(w.encode("utf-8")).decode() + "?=" for w in words)


@lru_cache(maxsize=4)
def _from_cached(value: str) -> str:
    name, address = parseaddr(value)
    return formataddr((name, address), charset="utf-8") if name else address


def _from_header() -> str:
    return _from_cached(from_header())


def idna_address(to: str) -> str:
    """An address with an internationalised domain in its ASCII (IDNA) form, for the To header
    and the SMTP envelope; the local part as it is."""
    local, _, domain = to.strip().rpartition("@")
    if domain.isascii():
        return to.strip()
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return to.strip()
