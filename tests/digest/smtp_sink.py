"""A real SMTP server (aiosmtpd) that records every message it accepts and can be told to refuse.

`script[address]` is a list of replies for the next RCPT TO of that address ("451 4.7.1 try
later", "550 5.1.1 no such user"); when it runs out the address is accepted. The crash and
concurrency tests count what it accepted by Message-ID.
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Accepted:
    to: str
    message_id: str
    raw: bytes
    at: float

    def parsed(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)


class Sink:
    def __init__(self, parse: bool = True) -> None:
        self.accepted: list[Accepted] = []
        self.script: dict[str, list[str]] = defaultdict(list)
        self.refused: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.port = 0
        self.parse = parse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        with self.lock:
            replies = self.script.get(address.lower())
            reply = replies.pop(0) if replies else ""
        if reply:
            self.refused.append((address, reply))
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        raw = envelope.original_content or envelope.content
        match = re.search(rb"^Message-ID:\s*(<[^>]+>)", raw, re.M | re.I)
        with self.lock:
            for to in envelope.rcpt_tos:
                self.accepted.append(
                    Accepted(to.lower(), match.group(1).decode() if match else "", raw, time.monotonic())
                )
        return "250 2.0.0 accepted"

    # -- reading what arrived -------------------------------------------------------------

    def to(self, address: str) -> list[Accepted]:
        with self.lock:
            return [m for m in self.accepted if m.to == address.lower()]

    def wait_for(self, address: str, count: int = 1, timeout: float = 20) -> Accepted:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found[count - 1]
            time.sleep(0.05)
        raise AssertionError(f"no message {count} to {address} within {timeout} s")

    def per_message_id(self) -> Counter:
        with self.lock:
            return Counter(m.message_id for m in self.accepted)

    @staticmethod
    def text(message: Accepted) -> str:
        return message.parsed().get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def html(message: Accepted) -> str:
        return message.parsed().get_body(preferencelist=("html",)).get_content()


@contextmanager
def running_sink():
    sink = Sink()
    sink.port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
