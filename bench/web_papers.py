#!/usr/bin/env python3
"""Write N synthetic papers as paperroute JSON Lines for the web load benchmark.

The papers are spread over the days before DAY, with PER_DAY of them listed on DAY itself, so
that the home page (DAY being today) lists a realistic day's worth among N in the database.
"""

import argparse
import json
import random
from datetime import date, timedelta

WORDS = (
    "attention transformer diffusion retrieval graph sparse robust efficient language vision "
    "policy reward agent token memory scaling quantized federated causal kernel"
).split()


def main(count: int, day: str, per_day: int = 60) -> None:
    rng = random.Random(7)
    listing = date.fromisoformat(day)
    for i in range(count):
        listed = listing if i < per_day else listing - timedelta(days=1 + (i - per_day) // per_day)
        title = " ".join(rng.choice(WORDS) for _ in range(8)).capitalize()
        abstract = " ".join(rng.choice(WORDS) for _ in range(150)) + ". We reach $O(n^2)$ cost."
        print(
            json.dumps(
                {
                    "id": f"{2401 + i // 99999}.{i % 99999:05d}",
                    "title": title,
                    "abstract": abstract,
                    "authors": [f"Author {rng.randrange(5000)}" for _ in range(rng.randrange(1, 9))],
                    "categories": [rng.choice(["cs.CL", "cs.LG", "cs.CV", "cs.AI"])],
                    "published": f"{listed - timedelta(days=2)}T18:00:00+00:00",
                    "announced_on": listed.isoformat(),
                    "hf": {"upvotes": rng.randrange(0, 200)} if i % 3 == 0 else None,
                }
            )
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", type=int, help="N: how many papers")
    parser.add_argument("day", help="DAY: the listing day that is today, YYYY-MM-DD")
    parser.add_argument("--per-day", type=int, default=60, help="PER_DAY: papers listed on each day")
    args = parser.parse_args()
    main(args.count, args.day, args.per_day)
