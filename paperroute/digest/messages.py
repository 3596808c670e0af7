"""Whole RFC 5322 messages: multipart text + HTML, with the headers digests and confirmations need."""

from __future__ import annotations

import email.policy
import hashlib
import re
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr
from urllib.parse import quote, urlsplit

from django.conf import settings

# Headers are folded only past SMTP's hard limit: folding a long List-Unsubscribe (one URL
# without spaces) would turn it into RFC 2047 encoded words, which mail clients do not parse.
POLICY = email.policy.SMTP.clone(max_line_length=998)


def from_header() -> str:
    return str(settings.CONFIG["FROM_EMAIL"])


def sender_address() -> str:
    """The bare From address, also used as the envelope sender."""
    return parseaddr(from_header())[1] or "noreply@localhost"


def mail_domain() -> str:
    """The domain Message-IDs and the List-Id are made under: the From address's, else the site's."""
    domain = sender_address().rpartition("@")[2]
    if domain and domain != "localhost":
        return domain.lower()
    return (urlsplit(str(settings.CONFIG["SITE_URL"])).hostname or "localhost").lower()


def message_id(*parts: str) -> str:
    """A Message-ID that is the same every time it is made from the same parts."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]
    # Only dot-atom characters on the left of the @ (RFC 5322 msg-id).
    slug = re.sub(r"[^A-Za-z0-9.-]+", "-", ".".join(p for p in parts if p))[:80].strip(".-")
    return f"<{slug}.{digest}@{mail_domain()}>"


def unsubscribe_mailto(token: str) -> str:
    address = str(settings.CONFIG["UNSUBSCRIBE_EMAIL"]) or sender_address()
    return f"mailto:{address}?subject={quote('unsubscribe ' + token)}"


def build(*, to: str, subject: str, text: str, html: str, msg_id: str, date: datetime,
          headers: dict[str, str] | None = None) -> bytes:
    """The message as bytes ready for SMTP: CRLF line ends, bodies quoted-printable."""
    message = EmailMessage(policy=POLICY)
    message["From"] = from_header()
    message["To"] = _to_header(to)
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = msg_id
    for name, value in (headers or {}).items():
        message[name] = value
    # Quoted-printable keeps the text readable in raw form and every line under SMTP's limit.
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    return message.as_bytes()


def _to_header(to: str) -> str:
    name, address = getaddresses([to])[0]
    local, _, domain = address.rpartition("@")
    try:
        return str(Address(display_name=name, username=local, domain=domain))
    except (ValueError, IndexError):
        return address
