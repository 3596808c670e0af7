"""Helpers the test packages share: a free port, a recording SMTP server, a process's children.

`smtp_server()` runs a real SMTP server (aiosmtpd) in a thread of the test process. It records
every message it accepts, once per recipient, and can be told to refuse: `script[address]` is a
list of replies for the next RCPT TO of that address ("451 4.7.1 try later", "550 5.1.1 no such
user"); when it runs out the address is accepted. Addresses are compared exactly as they were
sent, case included, so that a test can tell "Ada@example.org" from "ada@example.org".
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import gc
import re
import socket
import threading
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], T], timeout: float, what: str, interval: float = 0.1) -> T:
    """Poll `condition` until it returns something true, and return that; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(interval)
    return result


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`, from /proc (Linux); [] once it has none or is gone.

    Read from every process's stat line rather than /proc/PID/task/*/children, which needs a
    kernel option and misses a child forked by a thread that has since ended.
    """
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it exited meanwhile
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def running(pid: int) -> bool:
    """Whether a process exists and has not exited (a zombie only waits to be reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def command_line(pid: int) -> str:
    """A process's arguments joined by spaces; "" once it has gone."""
    try:
        return (Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()).strip()
    except OSError:
        return ""


def seconds_per_call(function, text):
    """CPU seconds a call takes: the best of three rounds, each calling it for 50 ms of CPU.

    CPU time of this thread, not the wall clock, and rounds rather than single calls: the other
    test pass runs beside this one, and a call of a few milliseconds measured by the clock is at
    the mercy of the scheduler.

    The garbage collector is off while it counts: how long a collection takes depends on every
    object the test process holds, not on the call, and it made a call on 4x the input look 8x as
    long in a full run (the same call measured 4.2x on its own).
    """
    rounds = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            calls, start = 0, time.thread_time()
            while (elapsed := time.thread_time() - start) < 0.05:
                function(text)
                calls += 1
            rounds.append(elapsed / calls)
    finally:
        gc.enable()
    return min(rounds)


def server_role(pid: int) -> str:
    """What a child of `paperroute serve` is: "worker" (`paperroute worker`), "query service"
    (`python -m paperroute.server`), "web" (a gunicorn process, a fork of the server), or ""
    once it has gone."""
    arguments = command_line(pid).split()
    if not arguments:
        return ""
    if arguments[-2:] == ["-m", "paperroute.server"]:
        return "query service"
    if arguments[-1] == "worker":
        return "worker"
    return "web"


def children_in_role(pid: int, role: str) -> list[int]:
    """The children of a `paperroute serve` (its pid) in one role (see server_role)."""
    return [child for child in children(pid) if server_role(child) == role]


# -- the SMTP server ---------------------------------------------------------------------------


@dataclass
class Accepted:
    """A message the server accepted, for one recipient."""

    to: str  # the envelope recipient (RCPT TO)
    message_id: str
    raw: bytes  # as it came over the wire
    at: float  # time.monotonic() when it arrived
    mail_options: list[str] = field(default_factory=list)  # MAIL FROM parameters: BODY=8BITMIME

    def parsed(self) -> EmailMessage:
        message = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message

    def __getitem__(self, header: str) -> Any:
        return self.parsed()[header]

    def get_body(self, preferencelist=("related", "html", "plain")) -> Any:
        return self.parsed().get_body(preferencelist=preferencelist)


class Sink:
    """The server's handler (aiosmtpd calls handle_RCPT and handle_DATA) and what it received."""

    def __init__(self) -> None:
        self.accepted: list[Accepted] = []
        self.script: dict[str, list[str]] = defaultdict(list)
        self.refused: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.port = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        with self.lock:
            replies = self.script.get(address)
            reply = replies.pop(0) if replies else ""
        if reply:
            self.refused.append((address, reply))
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        raw = envelope.original_content or envelope.content
        match = re.search(rb"^Message-ID:\s*(<[^>]+>)", raw, re.M | re.I)
        message_id = match.group(1).decode() if match else ""
        with self.lock:
            for to in envelope.rcpt_tos:
                self.accepted.append(
                    Accepted(to, message_id, raw, time.monotonic(), list(envelope.mail_options))
                )
        return "250 2.0.0 accepted"

    # -- reading what arrived -------------------------------------------------------------

    @property
    def messages(self) -> list[EmailMessage]:
        """Every accepted message, parsed."""
        with self.lock:
            return [m.parsed() for m in self.accepted]

    def to(self, address: str) -> list[Accepted]:
        with self.lock:
            return [m for m in self.accepted if m.to == address]

    def wait_for(self, address: str, count: int = 1, timeout: float = 20) -> Accepted:
        """The `count`-th message to an address, waiting for it to arrive."""
        wait_until(lambda: len(self.to(address)) >= count, timeout, f"message {count} to {address}", 0.05)
        return self.to(address)[count - 1]

    def link(self, address: str, count: int = 1) -> str:
        """The sign-in link in the `count`-th message to an address."""
        match = re.search(r"https?://\S+/account/signin/\S+", self.text(self.wait_for(address, count)))
        assert match, "the message holds no sign-in link"
        return match.group(0)

    def per_message_id(self) -> Counter:
        with self.lock:
            return Counter(m.message_id for m in self.accepted)

    @staticmethod
    def text(message: Accepted | EmailMessage) -> str:
        return _body(message, "plain")

    @staticmethod
    def html(message: Accepted | EmailMessage) -> str:
        return _body(message, "html")


def _body(message: Accepted | EmailMessage, kind: str) -> str:
    parsed = message.parsed() if isinstance(message, Accepted) else message
    part = parsed.get_body(preferencelist=(kind,))
    assert part is not None, f"the message has no {kind} part"
    return part.get_content()


def readable(token: str) -> str:
    """All that anyone can read in a link's token without the site's secret key: the token, and
    each of its ":"-separated parts (as Django's signing joins payload, time and signature)
    decoded from URL-safe base64, and decompressed where signing compressed it (a leading ".")."""
    found = [token]
    for part in token.split(":"):
        compressed = part.startswith(".")
        try:
            data = base64.urlsafe_b64decode(part.lstrip(".") + "=" * (-len(part.lstrip(".")) % 4))
        except (binascii.Error, ValueError):
            continue
        if compressed:
            with suppress(zlib.error):
                data = zlib.decompress(data)
        found.append(data.decode("latin-1"))
    return "\n".join(found)


@contextmanager
def smtp_server(*, announce_8bitmime: bool = True, smtputf8: bool = True) -> Iterator[Sink]:
    """A running server on a free port of 127.0.0.1 (`sink.port`), stopped on leaving.

    Without `announce_8bitmime` it takes the data as ASCII text and does not offer 8BITMIME;
    without `smtputf8` it does not offer SMTPUTF8 (addresses with a non-ASCII mailbox).
    """
    from aiosmtpd.controller import Controller

    sink = Sink()
    sink.port = free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=sink.port,
        decode_data=not announce_8bitmime,
        enable_SMTPUTF8=smtputf8,
    )
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
