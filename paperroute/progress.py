"""Progress bars on a terminal, silence elsewhere (cron, pipes, tests)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm import tqdm


class Progress:
    """Call with a count to advance; a no-op when there is no terminal."""

    def __init__(self, bar: tqdm | None) -> None:
        self.bar = bar

    def __call__(self, count: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@contextmanager
def counter(
    label: str, *, total: int | None = None, enabled: bool = True, unit: str = "records"
) -> Iterator[Progress]:
    """A progress counter shown on stderr when it is a terminal."""
    show = enabled and sys.stderr.isatty()
    progress = Progress(
        tqdm(desc=label, total=total, unit=f" {unit}", file=sys.stderr, leave=False, dynamic_ncols=True)
        if show
        else None
    )
    try:
        yield progress
    finally:
        progress.close()
