"""The search index in the data directory: generations, the writer lock, and readers.

    DATA_DIR/search/
      lock            flock()ed by the one process that writes (sync or rebuild)
      CURRENT         the name of the generation readers use, replaced atomically
      gen-N/          lexical/ (tantivy), vectors/ (VectorStore), manifest.json,
                      changed.npy (per paper: the changed_at it was indexed at),
                      vstamp.npy (per paper: the embedded_at of the vectors indexed)

A rebuild writes a new generation and then points CURRENT at it, so searches never see a
half-built index; syncs change the current generation in place through atomic file swaps.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from paperroute.search.lexical import LexicalIndex
from paperroute.search.spelling import Speller
from paperroute.search.vectorstore import VectorStore

# Bumped when the layout or the analysis of documents changes: older indexes are rebuilt.
# 2: titles, abstracts and author names are indexed with TeX accents made Unicode;
# 3: result rows are stored, and the vocabulary is kept for spelling correction;
# 4: author names are also indexed without their accents (author:scholkopf);
# 5: titles and abstracts are indexed without their accents (Schrodinger finds Schrödinger).
SCHEMA = 5


class IndexBusy(Exception):
    """Another process is writing the index."""


def root_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "search"


@contextmanager
def writer_lock(root: Path, *, wait: bool = True) -> Iterator[None]:
    """Hold the index's writer lock (across processes on this host)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise IndexBusy("the search index is being updated by another process") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_generation(root: Path) -> Path | None:
    try:
        name = (root / "CURRENT").read_text().strip()
    except FileNotFoundError:
        return None
    path = root / name
    return path if (path / "manifest.json").exists() else None


def new_generation(root: Path) -> Path:
    numbers = [int(p.name[4:]) for p in root.glob("gen-*") if p.name[4:].isdigit()]
    path = root / f"gen-{max(numbers, default=0) + 1}"
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def publish(root: Path, generation: Path) -> None:
    """Point readers at a finished generation and drop all but the previous one."""
    tmp = root / f".CURRENT.{os.getpid()}.tmp"
    tmp.write_text(generation.name)
    os.replace(tmp, root / "CURRENT")
    keep = {generation.name}
    older = sorted(
        (p for p in root.glob("gen-*") if p.name[4:].isdigit() and p != generation),
        key=lambda p: int(p.name[4:]),
    )
    # The newest older generation stays one round: a reader may have just opened it.
    if older:
        keep.add(older[-1].name)
    for path in older:
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


def read_manifest(generation: Path) -> dict:
    return json.loads((generation / "manifest.json").read_text())


def write_manifest(generation: Path, manifest: dict) -> None:
    tmp = generation / f".manifest.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, generation / "manifest.json")


def load_stamps(generation: Path, name: str) -> np.ndarray:
    path = generation / f"{name}.npy"
    return np.load(path) if path.exists() else np.zeros(1, np.int64)


def save_stamps(generation: Path, name: str, stamps: np.ndarray) -> None:
    tmp = generation / f".{name}.{os.getpid()}.tmp"
    with open(tmp, "wb") as handle:
        np.save(handle, stamps)
    os.replace(tmp, generation / f"{name}.npy")


class SearchIndex:
    """An open, read-only view of the current generation, reloaded when it changes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.generation: Path | None = None
        self.signature: tuple = ()
        self._lexical: LexicalIndex | None = None
        self._vectors: VectorStore | None = None
        self.speller: Speller | None = None
        self.manifest: dict = {}
        self.checked = 0.0
        self.error = ""  # why the current generation could not be opened, if it could not
        self.unreadable: tuple = ()  # the signature of a generation that could not be opened

    def _signature(self, generation: Path) -> tuple:
        stat = (generation / "manifest.json").stat()
        return generation.name, stat.st_mtime_ns, stat.st_size

    def refresh(self, *, every: float = 1.0) -> bool:
        """Reopen the index if another process changed it; False when there is none."""
        now = time.monotonic()
        if self.generation is not None and now - self.checked < every:
            return True
        self.checked = now
        for attempt in range(3):
            generation = current_generation(self.root)
            if generation is None:
                self.generation, self.error = None, ""
                return False
            signature = ()
            try:
                signature = self._signature(generation)
                if signature == self.signature:
                    return True
                if signature == self.unreadable:  # failed before, and unchanged since
                    return self.generation is not None
                self._open(generation)
                self.signature, self.error, self.unreadable = signature, "", ()
                return True
            except (FileNotFoundError, ValueError, OSError) as exc:
                # A rebuild swapped generations while we opened this one: look again. Or it
                # cannot be read at all (one an older paperroute wrote): say why, and do not
                # try it again (three tries a request) until it changes.
                self.error = str(exc).strip()[:200] or type(exc).__name__
                if attempt == 2:
                    self.unreadable = signature
                time.sleep(0.05 * (attempt + 1))
        return self.generation is not None

    def _open(self, generation: Path) -> None:
        manifest = read_manifest(generation)
        if generation != self.generation or self._lexical is None:
            self._lexical = LexicalIndex(generation / "lexical")
        else:
            self._lexical.reload()
        # A new object, not a reload in place: queries running in other threads keep the
        # consistent arrays they started with.
        self._vectors = VectorStore(generation / "vectors")
        if generation != self.generation or self.speller is None or self.speller.stale():
            self.speller = Speller(generation)
        self.generation = generation
        self.manifest = manifest

    @property
    def ready(self) -> bool:
        return self.generation is not None and self._lexical is not None

    @property
    def lexical(self) -> LexicalIndex:
        """The keyword index; only once `ready`."""
        if self._lexical is None:
            raise RuntimeError("the search index is not open")
        return self._lexical

    @property
    def vectors(self) -> VectorStore:
        """The vector store; only once `ready`."""
        if self._vectors is None:
            raise RuntimeError("the search index is not open")
        return self._vectors
