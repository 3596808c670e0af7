"""Prometheus metrics: what the processes count, and the page /metrics serves.

`paperroute serve` runs several gunicorn processes and a worker. prometheus-client's
multiprocess mode has each of them write its counts to files in one directory
(PROMETHEUS_MULTIPROC_DIR, by default DATA_DIR/metrics), and a scrape adds them up. The mode is
chosen when prometheus_client is first imported, so `configure` runs before that, and every
import of prometheus_client here is inside a function.

Index lag, the outbox backlog and the health checks are read at scrape time (paperroute.health)
rather than counted, so that every process reports the same numbers.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

ENV = "PROMETHEUS_MULTIPROC_DIR"
# Page views take milliseconds when cached and up to a second or two for a cold search.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def enabled() -> bool:
    from django.conf import settings

    return bool(settings.CONFIG.metrics_token or settings.CONFIG.metrics_networks)


def configure(*, serving: bool) -> None:
    """Point this process (and the ones it starts) at the shared metrics directory.

    `serving` (serve, demo) empties the directory, as prometheus-client asks: counts from an
    earlier run would be added to this one's, and every counter starts again from zero. But not
    while a paperroute process that counts into it still runs (a worker running as a unit of its
    own): its later counts would vanish, and clearing only the ended processes' files would make
    counters fall without reaching zero, which Prometheus reads as a reset plus a jump. Then the
    counters go on from where they were. Other commands add theirs to a running server's.
    """
    from django.conf import settings

    if not enabled() or os.environ.get(ENV):
        return
    directory = Path(settings.DATA_DIR) / "metrics"
    if serving:
        directory.mkdir(mode=0o700, exist_ok=True)
        files = list(directory.glob("*.db"))
        if not any(_running(path.stem.rpartition("_")[2]) for path in files):
            for path in files:
                path.unlink(missing_ok=True)
    elif not directory.is_dir():
        return  # no server is collecting: count in this process only
    os.environ[ENV] = str(directory)


def _running(pid: str) -> bool:
    """Whether the process a metrics file is named after still runs paperroute."""
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        return b"paperroute" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@lru_cache(maxsize=1)
def counters() -> SimpleNamespace:
    """The metrics every process counts, created once."""
    from prometheus_client import Counter, Histogram

    return SimpleNamespace(
        requests=Counter(
            "paperroute_http_requests",
            "HTTP requests answered, by route and status.",
            ["route", "method", "status"],
        ),
        latency=Histogram(
            "paperroute_http_request_duration_seconds",
            "Time to answer an HTTP request, by route.",
            ["route"],
            buckets=BUCKETS,
        ),
        papers=Counter(
            "paperroute_papers_ingested",
            "Papers stored by ingests, by source and whether they were new or updated.",
            ["source", "outcome"],
        ),
        ingests=Counter("paperroute_ingests", "Ingest runs, by source and result.", ["source", "result"]),
        composed=Counter(
            "paperroute_digests_composed", "Digest messages composed into the outbox.", ["frequency"]
        ),
        messages=Counter(
            "paperroute_digest_messages",
            "Digest messages handed to the mail server: sent, retried (deferred), failed or skipped.",
            ["frequency", "outcome"],
        ),
    )


def count_ingest(source: str, summary=None, *, ok: bool = True) -> None:
    """Count one ingest run and the papers it stored."""
    if not enabled():
        return
    c = counters()
    c.ingests.labels(source, "ok" if ok else "failed").inc()
    if summary is not None:
        c.papers.labels(source, "new").inc(summary.new)
        c.papers.labels(source, "updated").inc(summary.updated)


def count_digest(report) -> None:
    """Count what one digest run composed and sent in this process (a runs.RunReport)."""
    if not enabled():
        return
    c = counters()
    frequency = report.period.frequency
    c.composed.labels(frequency).inc(report.composed)
    for one in report.passes:
        for outcome, number in (
            ("sent", one.sent),
            ("retried", one.deferred),
            ("failed", one.failed),
            ("skipped", one.skipped),
        ):
            c.messages.labels(frequency, outcome).inc(number)


def _scraped() -> bytes:
    """Gauges read now: the health checks, index lag, outbox backlog, worker heartbeat age."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily

    from paperroute import health

    result = health.report()
    checks = result["checks"]

    class Now:
        def collect(self):
            ok = GaugeMetricFamily(
                "paperroute_health_check_ok", "1 when a /healthz check passes.", labels=["check"]
            )
            for name, check in checks.items():
                ok.add_metric([name], 1.0 if check["ok"] else 0.0)
            yield ok
            index = checks.get("index", {})
            if index.get("lag") is not None:
                yield GaugeMetricFamily(
                    "paperroute_index_lag_papers",
                    f"Papers changed since the search index's last sync (counted up to {health.COUNT_CAP}).",
                    value=index["lag"],
                )
            outbox = checks.get("outbox", {})
            if "backlog" in outbox:
                yield GaugeMetricFamily(
                    "paperroute_outbox_backlog_messages",
                    "Digest messages waiting to be sent.",
                    value=outbox["backlog"],
                )
                yield GaugeMetricFamily(
                    "paperroute_outbox_overdue_messages",
                    "Digest messages due more than an hour ago.",
                    value=outbox["overdue"],
                )
            worker = checks.get("worker", {})
            if worker.get("beat_age_seconds") is not None:
                yield GaugeMetricFamily(
                    "paperroute_worker_heartbeat_age_seconds",
                    "Seconds since this host's worker last beat.",
                    value=worker["beat_age_seconds"],
                )

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Now())
    return generate_latest(registry)


def exposition() -> tuple[bytes, str]:
    """The /metrics page: every process's counts added up, then the gauges read now."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    counters()  # so that a process that has counted nothing yet still names its metrics
    if os.environ.get(ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry) + _scraped(), CONTENT_TYPE_LATEST


def process_exited(pid: int) -> None:
    """Tell prometheus-client that a web process is gone (gunicorn's child_exit hook)."""
    if os.environ.get(ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
