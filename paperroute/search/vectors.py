"""Paper vectors in the database (compact float16 blobs), and precomputed vector files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np

from paperroute.search.embedder import DIM


def encode(vectors: np.ndarray) -> bytes:
    """Little-endian float16, row-major: 768 bytes a passage."""
    return np.ascontiguousarray(vectors, dtype="<f2").tobytes()


def decode(data: bytes | memoryview, count: int, dim: int = DIM, *, half: bool = False) -> np.ndarray:
    """The vectors as float32, or with `half` as the float16 they are stored as (read-only)."""
    vectors = np.frombuffer(data, dtype="<f2").reshape(count, dim)
    return vectors if half else vectors.astype(np.float32)


def stored(pids: list[int], model: str, *, half: bool = False) -> dict[int, tuple[str, np.ndarray, datetime]]:
    """pid -> (text hash, vectors, embedded_at) for papers with vectors of this model; the
    vectors as float32, or with `half` as stored (for the index, which keeps them so)."""
    from paperroute.search.models import PaperVector

    found = {}
    for start in range(0, len(pids), 1000):
        rows = PaperVector.objects.filter(paper_id__in=pids[start : start + 1000], model=model)
        for pid, digest, count, dim, data, when in rows.values_list(
            "paper_id", "text_hash", "count", "dim", "data", "embedded_at"
        ):
            found[pid] = (digest, decode(data, count, dim, half=half), when)
    return found


def save(model: str, items: list[tuple[int, str, np.ndarray]]) -> dict[int, datetime]:
    """Store (pid, text hash, vectors) rows, replacing older ones; returns their embedded_at."""
    from django.db import transaction

    from paperroute.search.models import PaperVector

    objects = [
        PaperVector(
            paper_id=pid,
            model=model,
            text_hash=digest,
            count=len(vectors),
            dim=vectors.shape[1],
            data=encode(vectors),
        )
        for pid, digest, vectors in items
    ]
    with transaction.atomic():
        PaperVector.objects.filter(paper_id__in=[o.paper_id for o in objects]).delete()
        PaperVector.objects.bulk_create(objects, batch_size=500)
    return dict(
        PaperVector.objects.filter(paper_id__in=[o.paper_id for o in objects]).values_list(
            "paper_id", "embedded_at"
        )
    )


def export_file(path: Path, model: str) -> int:
    """Write every stored vector of `model` to an .npz keyed by text hash; returns the count."""
    from paperroute.search.models import PaperVector

    hashes, counts, blocks = [], [], []
    for digest, count, dim, data in (
        PaperVector.objects.filter(model=model)
        .order_by("paper_id")
        .values_list("text_hash", "count", "dim", "data")
    ):
        hashes.append(digest)
        counts.append(count)
        blocks.append(np.frombuffer(bytes(data), dtype="<f2").reshape(count, dim))
    np.savez_compressed(
        path,
        model=np.array(model),
        hashes=np.array(hashes),
        counts=np.array(counts),
        vectors=np.concatenate(blocks) if blocks else np.zeros((0, DIM), "<f2"),
    )
    return len(hashes)


class Precomputed:
    """Vectors shipped with paperroute (the demo sample's), looked up by text hash."""

    def __init__(self, paths: list[Path], model: str) -> None:
        self.table: dict[str, np.ndarray] = {}
        for path in paths:
            if not Path(path).exists():
                continue
            with np.load(path) as data:
                if str(data["model"]) != model:
                    continue  # made by another model or passage recipe: useless here
                counts, vectors = data["counts"], data["vectors"]
                offsets = np.concatenate([[0], np.cumsum(counts)])
                for i, digest in enumerate(data["hashes"]):
                    self.table[str(digest)] = vectors[offsets[i] : offsets[i + 1]]

    def get(self, digest: str) -> np.ndarray | None:
        found = self.table.get(digest)
        return None if found is None else found.astype(np.float32)
