"""The bundled sample of real papers that `paperroute demo` loads (see PROVENANCE.md here)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Order matters: arXiv's own records first, so that Hugging Face and the seeds merge into them.
SAMPLE = (
    ("arxiv-rss", "arxiv-rss-2024-11-28.xml.gz"),
    ("hf-daily", "hf-daily-2026-07-31.json"),
    ("jsonl", "seed-papers.jsonl"),
)


def load() -> Iterator[str]:
    """Ingest every sample file; running it again stores nothing twice. Yields summary lines."""
    from paperroute.catalog.harvest import Request, run
    from paperroute.catalog.ingest import Importer
    from paperroute.catalog.sources.fetch import PoliteClient

    client = PoliteClient(delay=0, timeout=1)  # never used: every input is a local file
    for source, name in SAMPLE:
        importer = Importer(source)
        summary = run(
            Request(source=source, input=str(HERE / name)),
            client=client,
            importer=importer,
            log=lambda message: None,
        )
        yield summary.line()
