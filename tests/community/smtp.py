"""A real SMTP server (aiosmtpd) that records what it accepts, for sign-in and digest tests."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import time
from contextlib import contextmanager

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """Messages the server accepted, parsed."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's naming)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted"

    def wait_for(self, to: str, count: int = 1, timeout: float = 15) -> email.message.EmailMessage:
        """The `count`-th message to an address, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.messages if to in str(m["To"])]
            if len(found) >= count:
                return found[count - 1]
            time.sleep(0.05)
        raise AssertionError(f"no message {count} to {to} within {timeout} s")

    @staticmethod
    def text(message) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    def link(self, to: str, count: int = 1) -> str:
        """The sign-in link in the `count`-th message to an address."""
        match = re.search(r"https?://\S+/account/signin/\S+", self.text(self.wait_for(to, count)))
        assert match, "the message holds no sign-in link"
        return match.group(0)


@contextmanager
def smtp_server():
    mailbox = Mailbox()
    mailbox.port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
