"""A cooperative stop: SIGTERM or Ctrl-C asks long jobs to end at their next batch boundary.

The worker and the `index`, `ingest` and `digest send` commands install it. Their long loops
(embedding, harvest pages, composing and sending digests) call `requested()` between batches,
keep what they did as they always do, and say what they left. systemd waits 90 s after its
SIGTERM before it kills a unit: a tick that embeds for an hour used to run into that kill.
"""

from __future__ import annotations

import signal
import time

# Signals received, appended by the handler. A handler must take no lock: one that set a
# threading.Event deadlocked the worker when the signal came inside the event's own wait, and
# list.append is atomic under the interpreter lock.
_asked: list[int] = []


class Stopped(Exception):
    """A job was asked to stop and ended between batches; what it did is kept, and the message
    says what it left for the next run."""


def install(*, escalate: bool = False) -> None:
    """Have SIGTERM and SIGINT ask for a stop instead of ending the process at once.

    With `escalate`, a second Ctrl-C interrupts at once (KeyboardInterrupt), for a person at a
    terminal who will not wait for the batch; the worker keeps to the cooperative stop.
    """
    _asked.clear()

    def note(signum, frame):
        if escalate and signum == signal.SIGINT and _asked:
            raise KeyboardInterrupt
        _asked.append(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, note)


def requested() -> bool:
    """Whether this process was asked to stop."""
    return bool(_asked)


def reason() -> str:
    """What asked for the stop, as an operator would name it."""
    return "Ctrl-C" if _asked and _asked[0] == signal.SIGINT else "SIGTERM"


def exit_code() -> int:
    """The status of a command stopped early: 128 + the signal, as a shell reports one it killed."""
    return 128 + (_asked[0] if _asked else signal.SIGTERM)


def sleep(seconds: float) -> None:
    """time.sleep that ends early once a stop is asked (Python resumes a sleep after a handler)."""
    deadline = time.monotonic() + seconds
    while not _asked and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 0.2))
