"""A parser in a process of its own, so that a harvest can parse one page while storing another.

`python -m paperroute.catalog.sources.worker MODULE` reads frames from stdin (an 8-byte length,
then the bytes of one response) and answers each with a frame holding the pickled outcome of
`paperroute.catalog.sources.MODULE.parse`: ("page", Page), ("unusable", message) or
("error", traceback). It exits when stdin closes, which is also what happens when the harvest
that started it is killed. Only the harvest that started it reads what it writes.
"""

from __future__ import annotations

import importlib
import pickle
import subprocess
import sys
import traceback
from typing import BinaryIO

from paperroute.catalog.records import Page, UnusableInput

_HEADER = 8


def _send(stream: BinaryIO, payload: bytes) -> None:
    stream.write(len(payload).to_bytes(_HEADER, "big"))
    stream.write(payload)
    stream.flush()


def _receive(stream: BinaryIO) -> bytes | None:
    header = stream.read(_HEADER)
    if len(header) < _HEADER:
        return None
    size = int.from_bytes(header, "big")
    payload = stream.read(size)
    if len(payload) < size:
        return None
    return payload


class ParserProcess:
    """The parent's end: parse() sends a response to the worker and returns its Page."""

    def __init__(self, module: str) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__, module], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )

    def parse(self, data: bytes) -> Page:
        _send(self._process.stdin, data)
        answer = _receive(self._process.stdout)
        if answer is None:
            raise RuntimeError(f"the parser process stopped (exit code {self._process.wait()})")
        kind, value = pickle.loads(answer)
        if kind == "page":
            return value
        if kind == "unusable":
            raise UnusableInput(value)
        raise RuntimeError(f"the parser process failed:\n{value}")

    def close(self) -> None:
        if self._process.stdin:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process.stdout.close()


def main(module: str) -> int:
    parse = importlib.import_module(f"paperroute.catalog.sources.{module}").parse
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while (data := _receive(stdin)) is not None:
        try:
            outcome = ("page", parse(data))
        except UnusableInput as exc:
            outcome = ("unusable", str(exc))
        except Exception:
            outcome = ("error", traceback.format_exc())
        try:
            _send(stdout, pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL))
        except BrokenPipeError:
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
