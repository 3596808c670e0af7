#!/usr/bin/env python3
"""How long the worker takes to group a day, a week and a month of papers into themes.

It loads the demo sample (the 1,504-paper arXiv RSS day, with the vectors it ships) into a
fresh SQLite database and times search.themesets for each period of that day: reading the
papers' vectors (the baseline, the I/O every computation needs) and clustering and labelling
them. Ratios to the baseline are steadier on a noisy machine than seconds.

Usage: bench/themes.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="paperroute-bench-themes-")
    os.environ.update(
        PAPERROUTE_DATA_DIR=data, PAPERROUTE_DATABASE_URL="", DJANGO_SETTINGS_MODULE="paperroute.settings"
    )
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    from paperroute import conf

    conf.prepare()  # the data directory, secret key and SQLite file
    django.setup()
    from django.core.management import call_command

    from paperroute import demo, search
    from paperroute.catalog.models import Paper
    from paperroute.search import themesets, vectors
    from paperroute.search.embedder import model_id
    from paperroute.search.models import ThemeSet

    call_command("migrate", verbosity=0)
    for _ in demo.load():
        pass
    search.sync(embed=True)
    day = date(2024, 11, 28)
    print(f"themes: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    print(f"{'period':<8} {'papers':>7} {'read vectors':>13} {'themes':>9} {'ratio':>6}  labels")
    for kind in ("day", "week", "month"):
        start = themesets.period_start(kind, day)
        pids = list(
            Paper.objects.filter(
                listed_on__gte=start, listed_on__lte=themesets.period_end(kind, start)
            ).values_list("pk", flat=True)
        )
        reads, runs = [], []
        for _ in range(args.repeat):
            began = time.perf_counter()
            vectors.stored(pids, model_id())
            reads.append(time.perf_counter() - began)
            ThemeSet.objects.all().delete()
            began = time.perf_counter()
            themesets._refresh_one(kind, start, model_id())
            runs.append(time.perf_counter() - began)
        read, run = statistics.median(reads), statistics.median(runs)
        found = themesets.for_period(kind, start)
        print(
            f"{kind:<8} {len(pids):>7} {read:>11.3f} s {run:>7.2f} s {run / read:>6.1f}  "
            f"{len(found)}: " + "; ".join(t["label"] for t in found[:4]) + " …"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
