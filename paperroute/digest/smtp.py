"""Messengers: how a finished message leaves (SMTP, or the console for development).

A messenger raises TemporaryFailure for what a retry may cure (4xx replies, a refused or dropped
connection) and PermanentFailure for a 5xx reply about the recipient. `connection` on a
TemporaryFailure says the fault is not this message's: every other message would fail the same
way, so the sender stops its pass instead of trying them all.
"""

from __future__ import annotations

import contextlib
import functools
import smtplib
import ssl
import sys
import threading
from collections.abc import Callable
from typing import Protocol

from paperroute.digest.messages import idna_address, seven_bit


class DeliveryError(Exception):
    def __init__(self, message: str, code: int | None = None, connection: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.connection = connection


class TemporaryFailure(DeliveryError):
    """Worth retrying later."""


class PermanentFailure(DeliveryError):
    """The server refused the recipient for good (a 5xx reply)."""


class Messenger(Protocol):
    def send(self, sender: str, recipient: str, message: bytes) -> None: ...

    def close(self) -> None: ...


def _text(reply: bytes | str) -> str:
    return (reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)).strip()


def classify(code: int, reply: bytes | str, what: str) -> DeliveryError:
    """The failure an SMTP reply code stands for."""
    message = f"{code} {_text(reply)} ({what})"
    if 500 <= code < 600:
        return PermanentFailure(message, code)
    return TemporaryFailure(message, code, connection=code == 421)


class _QuickData:
    """smtplib's DATA, without scanning for dot-stuffing a message that needs none.

    smtplib runs a multi-line regex over every message to double the dots that start lines;
    for a digest that scan costs more than the rest of the client's work. A message with no
    line starting with a dot goes as it is; any other is stuffed exactly as smtplib does.
    """

    def data(self, msg):
        if isinstance(msg, str) or msg.startswith(b".") or b"\n." in msg:
            return super().data(msg)
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        self.send(msg + (b".\r\n" if msg.endswith(b"\r\n") else b"\r\n.\r\n"))
        return self.getreply()


class _SMTP(_QuickData, smtplib.SMTP):
    pass


class _SMTPSSL(_QuickData, smtplib.SMTP_SSL):
    pass


class SMTPMessenger:
    """One SMTP connection, opened on first use and reopened after it drops."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        user: str = "",
        password: str = "",
        use_ssl: bool = False,
        starttls: bool = False,
        timeout: float = 30,
    ) -> None:
        self.host, self.port, self.user, self.password = host, port, user, password
        self.use_ssl, self.starttls, self.timeout = use_ssl, starttls, timeout
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        connection: smtplib.SMTP
        if self.use_ssl:
            connection = _SMTPSSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            connection = _SMTP(self.host, self.port, timeout=self.timeout)
            if self.starttls:
                connection.starttls(context=context)
        if self.user:
            connection.login(self.user, self.password)
        connection.ehlo_or_helo_if_needed()  # so that send() knows the server's extensions
        return connection

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        # The envelope as servers take it: an internationalised domain in its IDNA form (a raw
        # one made smtplib fail to encode the command), a non-ASCII local part only where the
        # server offers SMTPUTF8.
        envelope_to = idna_address(recipient)
        try:
            if self.connection is None:
                self.connection = self._connect()
            options: list[str] = []
            if not envelope_to.isascii():
                if not self.connection.has_extn("smtputf8"):
                    raise PermanentFailure(
                        f"the address {recipient!r} is not ASCII, and the mail server does not offer SMTPUTF8"
                    )
                options.append("SMTPUTF8")
            if not message.isascii():
                if self.connection.has_extn("8bitmime"):
                    options.append("BODY=8BITMIME")
                else:
                    message = seven_bit(message)
            self.connection.sendmail(sender, [envelope_to], message, mail_options=options)
        except UnicodeError as exc:  # an address no form of which the server can take
            raise PermanentFailure(f"the address {recipient!r} cannot be sent to: {exc}") from None
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = exc.recipients.get(envelope_to, next(iter(exc.recipients.values())))
            raise classify(code, reply, "recipient refused") from None
        except smtplib.SMTPSenderRefused as exc:
            self.close()
            # Not the recipient's fault: a misconfigured From is a problem for every message.
            raise TemporaryFailure(
                f"{exc.smtp_code} {_text(exc.smtp_error)} (sender refused)", exc.smtp_code, connection=True
            ) from None
        except smtplib.SMTPDataError as exc:
            failure = classify(exc.smtp_code, exc.smtp_error, "message refused")
            if failure.connection:
                self.close()
            raise failure from None
        except smtplib.SMTPAuthenticationError as exc:
            self.close()
            raise TemporaryFailure(
                f"{exc.smtp_code} {_text(exc.smtp_error)} (login refused)", exc.smtp_code, connection=True
            ) from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            raise TemporaryFailure(
                f"{exc.smtp_code} {_text(exc.smtp_error)}", exc.smtp_code, connection=True
            ) from None
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            self.close()
            raise TemporaryFailure(
                f"cannot reach the mail server {self.host}:{self.port}: {exc.__class__.__name__}: {exc}",
                connection=True,
            ) from None

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.connection.quit()
            self.connection = None


class ConsoleMessenger:
    """Prints each message to standard output, for development and the demo."""

    _lock = threading.Lock()

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stdout

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        with self._lock:
            self.stream.write(f"---------- mail from {sender} to {recipient}\n")
            self.stream.write(message.decode("utf-8", "replace").replace("\r\n", "\n"))
            self.stream.write("\n---------- end of mail\n")
            self.stream.flush()

    def close(self) -> None:
        pass


def messenger_factory() -> Callable[[], Messenger]:
    """Makes messengers as PAPERROUTE_SMTP_URL says (translated into EMAIL_* by paperroute.mail).

    A partial, not a closure: the process that sends while another composes (sendproc) may be
    started by pickling it.
    """
    from django.conf import settings

    if not settings.EMAIL_BACKEND.endswith("smtp.EmailBackend"):
        return ConsoleMessenger
    return functools.partial(
        SMTPMessenger,
        settings.EMAIL_HOST,
        settings.EMAIL_PORT,
        user=settings.EMAIL_HOST_USER,
        password=settings.EMAIL_HOST_PASSWORD,
        use_ssl=settings.EMAIL_USE_SSL,
        starttls=settings.EMAIL_USE_TLS,
        timeout=settings.EMAIL_TIMEOUT or 30,
    )
