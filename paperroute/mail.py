"""Mail settings: PAPERROUTE_SMTP_URL turned into Django's EMAIL_* settings, and sending."""

from __future__ import annotations

import smtplib
from urllib.parse import parse_qs, unquote, urlsplit

from paperroute.conf import ConfigError

CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
_TRUE = {"1", "true", "yes", "on"}


def email_settings(smtp_url: str, from_email: str, timeout: float = 30) -> dict[str, object]:
    """Django EMAIL_* settings for an SMTP URL; an empty URL prints mails to the console."""
    settings: dict[str, object] = {"DEFAULT_FROM_EMAIL": from_email, "SERVER_EMAIL": from_email}
    if not smtp_url:
        settings["EMAIL_BACKEND"] = CONSOLE_BACKEND
        return settings
    parts = urlsplit(smtp_url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ConfigError(
            "PAPERROUTE_SMTP_URL: expected smtp://host:port, smtps://host:port or "
            f"smtp://host:port?starttls=1, got a {parts.scheme or 'bare'} URL"
        )
    if not parts.hostname:
        raise ConfigError("PAPERROUTE_SMTP_URL: the URL has no host name")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError("PAPERROUTE_SMTP_URL: the port is not a number") from None
    query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
    implicit_tls = parts.scheme == "smtps"
    starttls = not implicit_tls and (query.get("starttls") in _TRUE or query.get("tls") in _TRUE)
    settings.update(
        EMAIL_BACKEND=SMTP_BACKEND,
        EMAIL_HOST=parts.hostname,
        EMAIL_PORT=port or (465 if implicit_tls else 587 if starttls else 25),
        EMAIL_HOST_USER=unquote(parts.username or ""),
        EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
        EMAIL_USE_SSL=implicit_tls,
        EMAIL_USE_TLS=starttls,
        EMAIL_TIMEOUT=timeout,
    )
    return settings


def send(to: str, subject: str, text: str, html: str = "", headers: dict[str, str] | None = None) -> None:
    """Send one message to one address with the configured backend."""
    from django.core.mail import EmailMultiAlternatives

    message = EmailMultiAlternatives(subject=subject, body=text, to=[to], headers=headers)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()


def refused_address(exc: BaseException) -> str:
    """The mail server's reply when it refused the address itself for good (a 5xx answer to RCPT
    TO, such as "550 5.1.1 user unknown"), or "" when sending failed some other way, which may
    pass: trying again later cannot help a mistyped address."""
    if not isinstance(exc, smtplib.SMTPRecipientsRefused) or not exc.recipients:
        return ""
    replies = list(exc.recipients.values())
    if not all(isinstance(code, int) and 500 <= code < 600 for code, _ in replies):
        return ""
    code, said = replies[0]
    text = said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)
    return " ".join(f"{code} {text}".split())[:200]
