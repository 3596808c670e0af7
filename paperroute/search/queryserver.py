"""One query service per host, shared by the web processes over a Unix socket.

Each web process that embedded its own queries held the model's ONNX Runtime session and
tokenizer, 162 MiB a process (BENCHMARKS.md, "One index per host"), and each that met a typo
built its own spelling dictionary from the index's words (tens of MB). `paperroute serve` runs
this service beside the web processes instead, holding one of each for the host: they send it a
query's text and get its vector back, or the words no paper holds and get their corrections.
Queries that arrive together are embedded in one batch, and a few batches can be in the model at
once (`layout`). A search asks for its query's vector first and does its keyword side while the
model runs (`QueryClient.embed_later`). The service's model keeps the vectors of the texts it met
lately (PAPERROUTE_QUERY_CACHE), for every web process: the next page of a search usually goes to
another process than the first.

The transport is the standard library's `multiprocessing.connection` (framed messages over
AF_UNIX, an HMAC challenge with a key only the server's processes know); the messages are JSON
one way, and JSON or little-endian float32 rows the other, never pickles. The socket lives in a
directory of its own, readable by the server's user alone.

A web process that cannot reach the service (it is restarting, or the site runs under another
WSGI server) does the work itself, as before, and logs that once.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import TypeVar

import numpy as np

from paperroute.search.embedder import DIM
from paperroute.search.spelling import Speller

log = logging.getLogger(__name__)
T = TypeVar("T")

# Set by `paperroute serve` for its children: where the service listens, and the key it checks.
SOCKET_ENV = "PAPERROUTE_QUERY_SERVICE_SOCKET"
KEY_ENV = "PAPERROUTE_QUERY_SERVICE_KEY"
# A query is cut at 256 word pieces; a message of a few queries is far below this.
MAX_MESSAGE = 1 << 20
MAX_TEXTS = 64
# A query takes milliseconds; a service that has not answered in this long is stuck, and the web
# process embeds the query itself rather than hold the reader's request.
ANSWER_SECONDS = 20


def layout(threads: int, runs: int, cores: int | None = None) -> tuple[int, int]:
    """The service's model threads and the runs of the model it makes at once, from
    PAPERROUTE_EMBED_THREADS and PAPERROUTE_QUERY_RUNS (0: chosen for the host's cores).

    A query is a few word pieces, too little work to share among many threads: on 16 cores the
    service spent 13 ms of CPU a query with a thread per core and 8 ms with 4, answering as fast
    (BENCHMARKS.md, "a host with 16 cores"). Two runs at once keep both cores of a small host
    busy while one run is in its single-threaded parts (tokenising, pooling, the socket): the
    service alone answered 8 clients 16–19% sooner on 2 cores, and 1 client as fast."""
    cores = cores or os.cpu_count() or 1
    return threads or min(cores, 4), runs or max(min(cores, 2), cores // 4)


@dataclass
class _Ask:
    texts: list[str]
    done: threading.Event = field(default_factory=threading.Event)
    vectors: np.ndarray | None = None  # None once answered: the model failed on the batch


class QueryServer:
    """Accepts connections, one thread each, and embeds what they ask in shared batches."""

    def __init__(self, address: str, key: bytes, embedder, runs: int = 1) -> None:
        self.embedder = embedder
        self.asks: queue.Queue[_Ask] = queue.Queue()
        self.spellers: dict[str, Speller] = {}
        self.spellers_lock = threading.Lock()
        self.listener = Listener(address, "AF_UNIX", authkey=key)
        os.chmod(address, 0o600)
        self.closed = False
        # Each embedding thread takes whatever is waiting as its batch; with several, a batch can
        # start while another is still in the model (the embedder allows as many runs at once).
        for number in range(max(1, runs)):
            threading.Thread(target=self._embed, name=f"embed-{number}", daemon=True).start()

    def serve_forever(self) -> None:
        while not self.closed:
            try:
                connection = self.listener.accept()
            except (OSError, EOFError, AuthenticationError) as exc:  # a wrong key, or a hang-up
                if not self.closed:
                    log.warning("refused a connection to the query service: %s", exc)
                continue
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def close(self) -> None:
        self.closed = True
        self.listener.close()

    def _answer(self, connection: Connection) -> None:
        with connection:
            while True:
                try:
                    message = connection.recv_bytes(MAX_MESSAGE)
                except (EOFError, OSError):
                    return
                request = _request(message)
                if request is None:
                    log.warning("closed a query service connection that sent %d bad bytes", len(message))
                    return
                if isinstance(request, tuple):
                    answer = json.dumps(self._correct(*request)).encode()
                else:
                    ask = _Ask(request)
                    self.asks.put(ask)
                    ask.done.wait()
                    if ask.vectors is None:
                        return
                    answer = ask.vectors.astype("<f4").tobytes()
                try:
                    connection.send_bytes(answer)
                except OSError:
                    return

    def _correct(self, generation: str, words: list[str]) -> list[str | None]:
        with self.spellers_lock:
            speller = self.spellers.get(generation)
            if speller is None or speller.stale():
                # The index's vocabulary changed (a sync) or a new generation is asked for: the
                # dictionaries of the two latest are kept, for readers still on the older one.
                self.spellers.pop(generation, None)
                while len(self.spellers) >= 2:
                    self.spellers.pop(next(iter(self.spellers)))
                speller = self.spellers[generation] = Speller(Path(generation))
        return [speller.correct(word) for word in words]

    def _embed(self) -> None:
        while True:
            batch = [self.asks.get()]
            while True:  # and whatever else is waiting: one run of the model for all of them
                try:
                    batch.append(self.asks.get_nowait())
                except queue.Empty:
                    break
            texts = [text for ask in batch for text in ask.texts]
            try:
                vectors = self.embedder.embed_queries(texts)
            except Exception:
                log.exception("the query service failed on %d queries", len(texts))
                vectors = None
            start = 0
            for ask in batch:
                if vectors is not None:
                    ask.vectors = vectors[start : start + len(ask.texts)]
                start += len(ask.texts)
                ask.done.set()


def _strings(value) -> list[str] | None:
    if not isinstance(value, list) or not 0 < len(value) <= MAX_TEXTS:
        return None
    return value if all(isinstance(text, str) for text in value) else None


def _request(message: bytes) -> list[str] | tuple[str, list[str]] | None:
    """What a message asks: queries to embed (a JSON list of strings), words to correct from a
    generation's vocabulary ({"generation": path, "correct": [words]}), or None if neither."""
    try:
        request = json.loads(message)
    except ValueError:
        return None
    if isinstance(request, dict):
        generation, words = request.get("generation"), _strings(request.get("correct"))
        return (generation, words) if isinstance(generation, str) and words else None
    return _strings(request)


class QueryClient:
    """What a web process embeds its queries with: the host's service, or its own model."""

    def __init__(self, address: str, key: bytes, local) -> None:
        self.address = address
        self.key = key
        self.local = local  # a callable giving this process's own Embedder
        self.connections = threading.local()
        self.reachable = True

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, DIM), np.float32)
        vectors = self._retried(lambda: self._ask(texts))
        return vectors if vectors is not None else self.local().embed_queries(texts)

    def embed_later(self, texts: list[str]) -> Callable[[], np.ndarray]:
        """What embed_queries(texts) gives, asked of the service now and read when called: the
        web process does the rest of the search that needs no vector while the model runs."""
        texts = list(texts)
        if not 0 < len(texts) <= MAX_TEXTS:
            return lambda: self.embed_queries(texts)
        try:
            connection = self._connection()
            connection.send_bytes(json.dumps(texts).encode())
        except (OSError, ValueError, AuthenticationError):
            self._drop()
            return lambda: self.embed_queries(texts)  # asks again, then embeds here
        self.connections.pending = connection

        def vectors() -> np.ndarray:
            if getattr(self.connections, "pending", None) is not connection:
                return self.embed_queries(texts)  # not read in time: the connection was dropped
            self.connections.pending = None
            try:
                answer = self._vectors(self._receive(connection), len(texts))
            except (OSError, EOFError, ValueError, AuthenticationError):
                self._drop()
                return self.embed_queries(texts)
            self._reachable()
            return answer

        return vectors

    def correct(self, generation: Path, words: list[str], local: Speller) -> list[str | None]:
        """Speller.correct for each word, by the host's dictionary of the generation's words
        (a dictionary is tens of MB: one for the host, not one for each web process)."""
        if 0 < len(words) <= MAX_TEXTS:
            message = json.dumps({"generation": str(generation), "correct": words}).encode()
            answer = self._retried(lambda: self._corrections(message, len(words)))
            if answer is not None:
                return answer
        return [local.correct(word) for word in words]

    def _retried(self, ask: Callable[[], T]) -> T | None:
        """What `ask` got from the service, asked once more on a new connection (the service may
        have restarted); None, logged once an outage, if it cannot be reached."""
        for attempt in range(2):
            try:
                answer = ask()
            except (OSError, EOFError, ValueError, AuthenticationError) as exc:
                self._drop()
                if attempt:
                    self._unreachable(exc)
            else:
                self._reachable()
                return answer
        return None

    def _corrections(self, message: bytes, count: int) -> list[str | None]:
        answer = json.loads(self._exchange(message))
        if not isinstance(answer, list) or len(answer) != count:
            raise ValueError("the query service answered a correction with something else")
        return [word if isinstance(word, str) else None for word in answer]

    def _exchange(self, message: bytes) -> bytes:
        connection = self._connection()
        connection.send_bytes(message)
        return self._receive(connection)

    @staticmethod
    def _receive(connection: Connection) -> bytes:
        if not connection.poll(ANSWER_SECONDS):
            raise TimeoutError(f"no answer in {ANSWER_SECONDS} s")
        return connection.recv_bytes(MAX_MESSAGE)

    @staticmethod
    def _vectors(data: bytes, count: int) -> np.ndarray:
        if len(data) != count * DIM * 4:
            raise ValueError(f"the query service sent {len(data)} bytes for {count} queries")
        return np.frombuffer(data, "<f4").reshape(count, DIM).astype(np.float32)

    def _ask(self, texts: list[str]) -> np.ndarray:
        vectors = []
        for start in range(0, len(texts), MAX_TEXTS):
            part = texts[start : start + MAX_TEXTS]
            vectors.append(self._vectors(self._exchange(json.dumps(part).encode()), len(part)))
        return np.concatenate(vectors)

    def _connection(self) -> Connection:
        if getattr(self.connections, "pending", None) is not None:
            # An answer asked for and never read would be taken for the next one's: start afresh.
            self._drop()
        connection = getattr(self.connections, "current", None)
        if connection is None:
            connection = Client(self.address, "AF_UNIX", authkey=self.key)
            self.connections.current = connection
        return connection

    def _drop(self) -> None:
        connection = getattr(self.connections, "current", None)
        self.connections.current = None
        self.connections.pending = None
        if connection is not None:
            connection.close()

    def _reachable(self) -> None:
        if not self.reachable:
            log.info("the query service answers again")
            self.reachable = True

    def _unreachable(self, exc: BaseException) -> None:
        if self.reachable:
            log.warning("the query service is unreachable (%s); this process does its work", exc)
            self.reachable = False


_remote: QueryClient | None = None
_remote_lock = threading.Lock()


def remote(local) -> QueryClient | None:
    """The service this process was started beside, if `paperroute serve` started one."""
    global _remote
    address, key = os.environ.get(SOCKET_ENV, ""), os.environ.get(KEY_ENV, "")
    if not address or not key:
        return None
    with _remote_lock:
        if _remote is None or _remote.address != address:
            _remote = QueryClient(address, bytes.fromhex(key), local)
        return _remote
