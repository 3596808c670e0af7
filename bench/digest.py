#!/usr/bin/env python3
"""Digest throughput: 10,000 subscribers on the demo data, composed and sent to a local SMTP sink.

Each database gets a fresh one, the bundled demo sample (its shipped vectors make the index
sync quick) and 10,000 confirmed subscribers: 80% daily and 20% weekly, 5 to 20 papers, up to
three followed topics from a pool of 40, and a category filter for a third of them. Every one
has a reader's account with a library, so every digest has a "For you" section ranked from the
day's papers: 1, 5, 20 or 100 saved papers, up to 5 "not interested", and for a fifth of them a
followed author. One period
is sent: the daily digest of the demo's arXiv day, 2024-11-28, so the daily subscribers get one.

- compose: `paperroute.digest.runs.compose_run` (trending pool, one search per distinct topic,
  each subscriber's selection, rendering, CSS inlining, the MIME message, outbox rows);
- send: the sender's passes over the outbox (PAPERROUTE_DIGEST_CONCURRENCY connections) to an
  aiosmtpd sink in its own process;
- baseline, in the same run: a plain `render_to_string` loop over the same templates for the
  same digests (every card, section, and the HTML and text wrappers, for every digest), without
  inlining, MIME or the database.

Usage: bench/digest.py [--subscribers 10000] [--db sqlite|postgres|both] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_SERVER = os.environ.get("PAPERROUTE_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DAY = date(2024, 11, 28)
TOPICS = [
    "speculative decoding",
    "diffusion models",
    "graph neural networks",
    "reinforcement learning",
    "large language models",
    "vision transformers",
    "federated learning",
    "neural radiance fields",
    "retrieval augmented generation",
    "quantum error correction",
    "protein structure prediction",
    "mixture of experts",
    "contrastive learning",
    "autonomous driving",
    "point clouds",
    "knowledge distillation",
    "multimodal reasoning",
    "time series forecasting",
    "code generation",
    "robot manipulation",
    "medical image segmentation",
    "adversarial robustness",
    "text to video",
    "in-context learning",
    "sparse attention",
    "differential privacy",
    "causal inference",
    "speech recognition",
    "3d reconstruction",
    "model compression",
    "mathematical reasoning",
    "reward models",
    "video understanding",
    "continual learning",
    "tabular data",
    "weather forecasting",
    "dark matter",
    "hallucination",
    "graph transformers",
    "agents",
]
CATEGORIES = ["cs.CL", "cs.CV", "cs.LG", "cs.AI", "cs.RO", "stat.ML", "cs", "physics", "math"]


# -- the sink: its own process, so that it does not take the sender's CPU time slices or GIL ----


def run_sink(port: int) -> None:
    from aiosmtpd.controller import Controller

    class Count:
        accepted = 0

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            Count.accepted += 1
            return "250 OK"

    controller = Controller(Count(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()  # until the parent closes our stdin
    finally:
        controller.stop()
        print(Count.accepted, flush=True)


class Sink:
    """The sink process for one measurement; `accepted` is its count once it has stopped."""

    def __enter__(self) -> Sink:
        from paperroute.digest.smtp import SMTPMessenger

        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--sink", str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "ready"
        # A partial, not a lambda: runs.send may pickle it for its sending process (sendproc).
        self.messenger = functools.partial(SMTPMessenger, "127.0.0.1", self.port)
        return self

    def __exit__(self, *exc) -> None:
        self.process.stdin.close()
        self.accepted = int(self.process.stdout.read().strip().splitlines()[-1])
        self.process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- one measurement, in a child process configured for one database ---------------------------


def make_subscribers(count: int) -> None:
    """Confirmed subscribers, each with a reader's account whose library gives "For you"
    something to rank: saved papers (1 to 100 of the catalogue), a few "not interested", and
    for some a followed author."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from paperroute.catalog.models import Paper
    from paperroute.digest.models import Subscriber
    from paperroute.digest.subscriptions import new_token
    from paperroute.library.models import Collection, CollectionItem, Follow, PaperState

    rng = random.Random(7)
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"reader{i}", email=f"reader{i}@bench.example.org") for i in range(count)],
        batch_size=1000,
    )
    if any(u.pk is None for u in users):  # SQLite before 3.35 returns no ids from bulk_create
        users = list(get_user_model().objects.filter(username__startswith="reader").order_by("pk"))
    rows = []
    for i, account in enumerate(users):
        rows.append(
            Subscriber(
                email=f"reader{i}@bench.example.org",
                email_key=f"reader{i}@bench.example.org",
                status=Subscriber.CONFIRMED,
                token=new_token(),
                user=account,
                frequency="daily" if rng.random() < 0.8 else "weekly",
                max_papers=rng.choice((5, 10, 15, 20)),
                topics=rng.sample(TOPICS, rng.randint(0, 3)),
                categories=rng.sample(CATEGORIES, rng.randint(1, 2)) if rng.random() < 0.33 else [],
            )
        )
    Subscriber.objects.bulk_create(rows, batch_size=1000)
    shelves = Collection.objects.bulk_create(
        [Collection(owner=u, name="Saved", is_default=True) for u in users], batch_size=1000
    )
    if any(c.pk is None for c in shelves):
        shelves = list(Collection.objects.filter(is_default=True).order_by("owner_id"))
    papers = list(Paper.objects.values_list("pk", flat=True))
    authored = list(Paper.objects.filter(listed_on=DAY).values_list("authors__key", "authors__name")[:2000])
    now = timezone.now()
    items, states, follows = [], [], []
    for account, shelf in zip(users, shelves):
        saved = rng.sample(papers, rng.choice((1, 5, 20, 100)))
        items += [
            CollectionItem(collection=shelf, paper_id=pid, position=n, added_at=now)
            for n, pid in enumerate(saved)
        ]
        states += [
            PaperState(user=account, paper_id=pid, dismissed_at=now)
            for pid in rng.sample(papers, rng.randint(0, 5))
            if pid not in saved
        ]
        if rng.random() < 0.2:
            key, name = rng.choice(authored)
            follows.append(Follow(user=account, kind=Follow.AUTHOR, value=key, label=name))
    CollectionItem.objects.bulk_create(items, batch_size=2000)
    PaperState.objects.bulk_create(states, batch_size=2000)
    Follow.objects.bulk_create(follows, batch_size=2000)


def baseline(period, subscribers) -> tuple[float, int, int]:
    """Seconds for a plain render_to_string loop over the digests' templates, the number of
    digests and how many of them have a "For you" section."""
    from django.template.loader import render_to_string
    from django.utils import timezone

    from paperroute.digest import render
    from paperroute.digest.compose import Composer

    composer = Composer(period, now=timezone.now())
    digests = []
    composer.prepare(subscribers)
    for subscriber in subscribers:
        digest = composer.digest(subscriber)
        if digest.papers:
            digests.append((subscriber, digest))
    started = time.perf_counter()
    for subscriber, digest in digests:
        html_sections, text_sections = [], []
        for section in digest.sections:
            for card in section.cards:
                card.html = render_to_string("email/digest_paper.html", {"card": card})
                card.text = render_to_string("email/digest_paper.txt", {"card": card})
            html_sections.append(
                render_to_string(
                    "email/digest_section.html",
                    {"section": section, "cards_html": "".join(card.html for card in section.cards)},
                )
            )
            text_sections.append(render_to_string("email/digest_section.txt", {"section": section}))
        context = {
            "subject": "",
            "heading": "",
            "intro": "",
            "preheader": "",
            "sections_html": "".join(html_sections),
            "sections_text": "".join(text_sections),
            "notes": digest.notes,
            "frequency": period.frequency,
            "email": subscriber.email,
            "site_url": render.site_url(),
            "site_name": "",
            "media_css": "",
            "preferences_url": render.preferences_url(subscriber.token),
            "unsubscribe_url": render.unsubscribe_url(subscriber.token),
        }
        render_to_string("email/digest.html", context)
        render_to_string("email/digest.txt", context)
    seconds = time.perf_counter() - started
    for_you = sum(any(s.title == "For you" for s in digest.sections) for _, digest in digests)
    return seconds, len(digests), for_you


def run_one(subscribers: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperroute.settings")
    import django

    from paperroute import conf

    conf.prepare()  # the data directory, secret key and SQLite file
    django.setup()
    from paperroute import search

    # As `paperroute digest send` and the worker do: one BLAS thread. Left at one per core, the
    # For-you ranking's matrix products spin threads against the sender and the mail server on
    # the same cores (compose ran at 45/s instead of 72/s in a profile beside a test run).
    search.configure_threads("cli")
    from django.conf import settings
    from django.core.management import call_command

    from paperroute import demo
    from paperroute.digest import runs
    from paperroute.digest.compose import eligible
    from paperroute.digest.models import DigestRun, Outbox
    from paperroute.digest.periods import daily
    from paperroute.digest.sender import send_pass
    from paperroute.progress import counter

    call_command("migrate", interactive=False, verbosity=0)
    for _ in demo.load():
        pass
    search.sync(progress=lambda label, **kw: counter(label, enabled=False, **kw))
    make_subscribers(subscribers)
    period = daily(DAY)
    recipients = list(eligible("daily").order_by("pk"))

    base_seconds, base_digests, with_for_you = baseline(period, recipients)

    run = runs.get_run(period)
    started = time.perf_counter()
    runs.compose_run(run)
    compose_seconds = time.perf_counter() - started
    composed = Outbox.objects.filter(run=run, status=Outbox.PENDING).count()

    with Sink() as sink:
        started = time.perf_counter()
        while not runs.finish_if_done(run):
            send_pass(run.pk, messenger_factory=sink.messenger)
        send_seconds = time.perf_counter() - started
    assert run.status == DigestRun.COMPLETE and sink.accepted == composed, (sink.accepted, composed)

    # End to end as `paperroute digest send` does it (sending while composing), from scratch.
    run.delete()
    with Sink() as sink:
        started = time.perf_counter()
        report = runs.send(period, messenger_factory=sink.messenger)
        end_to_end_seconds = time.perf_counter() - started
    assert report.complete and sink.accepted == composed, (sink.accepted, composed)

    return {
        "database": "postgres" if "postgresql" in settings.DATABASES["default"]["ENGINE"] else "sqlite",
        "subscribers": subscribers,
        "daily_recipients": len(recipients),
        "digests": composed,
        "topics_searched": len({t.lower() for s in recipients for t in s.topics}),
        "compose_s": round(compose_seconds, 2),
        "send_s": round(send_seconds, 2),
        "compose_per_s": round(composed / compose_seconds, 1),
        "send_per_s": round(composed / send_seconds, 1),
        "compose_then_send_per_s": round(composed / (compose_seconds + send_seconds), 1),
        "end_to_end_s": round(end_to_end_seconds, 2),
        "end_to_end_per_s": round(composed / end_to_end_seconds, 1),
        "baseline_render_s": round(base_seconds, 2),
        "baseline_digests": base_digests,
        "digests_with_for_you": with_for_you,
        "compose_to_render_loop_ratio": round(compose_seconds / base_seconds, 2),
        # End to end as a share of the bare render loop's rate on the same machine in the same
        # run: a figure to compare across machines of different speeds.
        "render_loop_per_s": round(base_digests / base_seconds, 1),
        "end_to_end_to_render_loop_rate": round(
            base_seconds * composed / (end_to_end_seconds * base_digests), 3
        ),
        "connections": settings.CONFIG.digest_concurrency,
    }


# -- the parent: a fresh database per measurement ----------------------------------------------


def _postgres_available() -> bool:
    try:
        import psycopg

        psycopg.connect(f"{PG_SERVER}/postgres", connect_timeout=3).close()
        return True
    except Exception:
        return False


def measure(database: str, subscribers: int) -> dict | None:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="paperroute-bench-") as data_dir:
        env["PAPERROUTE_DATA_DIR"] = data_dir
        name = f"paperroute_digest_bench_{os.getpid()}"
        if database == "postgres":
            if not _postgres_available():
                print(f"PostgreSQL: skipped (no server at {PG_SERVER}; set PAPERROUTE_BENCH_POSTGRES)")
                return None
            import psycopg

            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {name}")
            env["PAPERROUTE_DATABASE_URL"] = f"{PG_SERVER}/{name}"
        else:
            env["PAPERROUTE_DATABASE_URL"] = ""
        try:
            out = subprocess.run(
                [sys.executable, __file__, "--child", "--subscribers", str(subscribers)],
                env=env,
                capture_output=True,
                text=True,
            )
            if out.returncode != 0:
                raise SystemExit(f"{database}: the measurement failed:\n{out.stderr[-3000:]}")
        finally:
            if database == "postgres":
                import psycopg

                with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
                    conn.execute(f"DROP DATABASE IF EXISTS {name}")
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        asyncio.set_event_loop(asyncio.new_event_loop())
        run_sink(args.sink)
        return 0
    if args.child:
        print(json.dumps(run_one(args.subscribers)))
        return 0
    results = [
        r
        for db in (("sqlite", "postgres") if args.db == "both" else (args.db,))
        if (r := measure(db, args.subscribers))
    ]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"digest benchmark: {args.subscribers:,} subscribers on the demo data, daily digest of {DAY}")
    print(
        f"{'database':<10}{'digests':>8}{'topics':>7}{'compose/s':>11}{'send/s':>9}"
        f"{'end-to-end/s':>14}{'render loop/s':>15}{'compose time vs loop':>22}"
        f"{'end-to-end rate vs loop':>25}"
    )
    for r in results:
        print(
            f"{r['database']:<10}{r['digests']:>8}{r['topics_searched']:>7}{r['compose_per_s']:>11,.0f}"
            f"{r['send_per_s']:>9,.0f}{r['end_to_end_per_s']:>14,.0f}{r['render_loop_per_s']:>15,.0f}"
            f"{r['compose_to_render_loop_ratio']:>21.2f}x{r['end_to_end_to_render_loop_rate']:>24.2f}x"
        )
    for r in results:
        print(
            f"{r['database']}: {r['digests_with_for_you']:,} of {r['baseline_digests']:,} digests "
            "have a For-you section"
        )
    print(
        "end-to-end: `paperroute digest send` from an empty outbox (it sends while composing); "
        f"{results[0]['connections'] if results else 4} SMTP connections; load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
