"""A parser in a process of its own, so that a harvest can parse one page while storing another.

The worker is a fresh interpreter (multiprocessing's "spawn": it inherits no database
connection or other open file from the harvest) holding one end of a `multiprocessing.Pipe`.
It answers each response it receives with the outcome of
`paperroute.catalog.sources.MODULE.parse`: ("page", Page), ("unusable", message) or
("error", traceback). It exits when its end of the pipe closes, which is also what happens when
the harvest that started it is killed. Only the harvest that started it reads what it writes.
"""

from __future__ import annotations

import importlib
import multiprocessing
import signal
import traceback
from multiprocessing.connection import Connection

from paperroute.catalog.records import Page, UnusableInput

_SPAWN = multiprocessing.get_context("spawn")


class ParserProcess:
    """The parent's end: parse() sends a response to the worker and returns its Page."""

    def __init__(self, module: str) -> None:
        self._conn, child_end = _SPAWN.Pipe()
        self._process = _SPAWN.Process(
            target=_serve, args=(child_end, module), name=f"paperroute-parse-{module}", daemon=True
        )
        self._process.start()
        # Only the worker holds its end now, so the worker's death reads as the end of the pipe.
        child_end.close()

    def parse(self, data: bytes) -> Page:
        try:
            self._conn.send_bytes(data)
            kind, value = self._conn.recv()
        except (EOFError, OSError):
            self._process.join(timeout=5)
            raise RuntimeError(f"the parser process stopped (exit code {self._process.exitcode})") from None
        if kind == "page":
            return value
        if kind == "unusable":
            raise UnusableInput(value)
        raise RuntimeError(f"the parser process failed:\n{value}")

    def close(self) -> None:
        self._conn.close()
        self._process.join(timeout=5)
        if self._process.exitcode is None:
            self._process.kill()
            self._process.join()
        self._process.close()


def _serve(conn: Connection, module: str) -> None:
    """The worker: parse each response received until the harvest closes its end."""
    # Ctrl-C goes to the whole process group: the harvest handles it and closes the pipe.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parse = importlib.import_module(f"paperroute.catalog.sources.{module}").parse
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            outcome: tuple[str, object] = ("page", parse(data))
        except UnusableInput as exc:
            outcome = ("unusable", str(exc))
        except Exception:
            outcome = ("error", traceback.format_exc())
        try:
            conn.send(outcome)
        except OSError:  # the harvest has gone
            return
