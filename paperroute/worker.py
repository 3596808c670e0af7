"""The worker: ingest (when configured), search index sync and digests, on a schedule.

Every minute it
- ingests PAPERROUTE_WORKER_INGEST's sources every PAPERROUTE_WORKER_INGEST_MINUTES, then syncs
  the search index; it also syncs it whenever the catalogue has moved past it (papers submitted
  on the site, an ingest that did not sync, a fresh install) and every 10 minutes regardless:
  web processes only read the index, they never build it;
- after each sync, groups the days, weeks and months whose papers changed into themes;
- carries on with digest runs that are not complete (messages deferred after 4xx replies);
- from PAPERROUTE_DIGEST_HOUR (UTC), sends the daily digest of the newest listing day before
  today, once, if that day is recent: a day is complete once it is over (Hugging Face lists
  papers all day, and they gather votes); from Monday, the weekly digest of the week before
  (on any later day of that week when the worker was down on Monday).

Several workers (one per `paperroute serve` host) may run at once: runs and the outbox make
sending safe to share. Ingest only on one host: set WORKER_INGEST there alone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from paperroute import stopping

log = logging.getLogger(__name__)
# Each step logs as its component, so that an operator can follow ingests, syncs and digests.
ingest_log = logging.getLogger("paperroute.ingest")
index_log = logging.getLogger("paperroute.index")
digest_log = logging.getLogger("paperroute.digest")
Say = Callable[[str], None]
TICK_SECONDS = 60
SYNC_MINUTES = 10
RECENT_DAYS = 4  # a daily digest is for a day at most this old (a long weekend), never older


@dataclass
class State:
    last_ingest: float = 0.0
    last_sync: float = 0.0
    # Themes are refreshed for papers changed since then; None at start: every recent period.
    themes_since: datetime | None = None
    # Why the database cannot be used (as the commands say it), logged when it changes.
    database_problem: str | None = None


def daily_due(now: datetime, hour: int) -> bool:
    """Whether the daily digest of the day before is due. Every day: arXiv's Friday papers go out
    on Saturday morning, and a Saturday of Hugging Face picks on Sunday morning."""
    return now.hour >= hour


def weekly_due(now: datetime, hour: int) -> bool:
    """Whether last week's digest is due: from Monday's DIGEST_HOUR on, all week, so that a worker
    that was down on Monday (a deploy, a reboot) still sends it when it comes back."""
    return now.weekday() > 0 or now.hour >= hour


def _quiet(label, **kwargs):
    from paperroute.progress import counter

    return counter(label, enabled=False, **kwargs)


def ingest(source: str, say: Say | None = None) -> None:
    """Fetch one source's live service into the catalogue."""
    from django.conf import settings
    from django.utils import timezone

    from paperroute import health, metrics
    from paperroute.catalog.harvest import Request, oai_since, run
    from paperroute.catalog.ingest import Importer
    from paperroute.catalog.records import UnusableInput
    from paperroute.catalog.sources.fetch import PoliteClient
    from paperroute.catalog.taxonomy import oai_sets

    say = say or ingest_log.info
    config = settings.CONFIG
    client = PoliteClient(
        delay=config.arxiv_delay,
        timeout=config.http_timeout,
        max_bytes=config.max_input_mb << 20,
        contact=config.contact_email,
        log=say,
    )
    categories = list(config.arxiv_categories)
    requests = [Request(source=source, categories=categories)]
    if source == "arxiv-oai":
        # What changed since the last harvest, in the sets of the site's categories: without a
        # `from` day and a set, each run asked OAI-PMH for every record of arXiv again.
        since = oai_since(health.last_success(source, worker=True), timezone.now())
        requests = [
            Request(source=source, since=since, set_spec=spec, categories=categories)
            for spec in oai_sets(categories) or [""]
        ]
    importer = Importer(source)
    try:
        for request in requests:
            run(request, client=client, importer=importer, log=say)
    except stopping.Stopped as exc:
        # Neither a success nor a failure: a success would move the next harvest's `from` day
        # past the pages this one left, and its checkpoint would be lost with its query.
        say(f"stopping: {exc}")
        return
    except (UnusableInput, OSError) as exc:
        # Expected refusals (the service is down, it answered nonsense): the message says it all.
        ingest_log.error("ingest %s failed: %s", source, exc)
        health.record_ingest(source, ok=False, line=str(exc))
        metrics.count_ingest(source, ok=False)
        return
    except Exception:
        ingest_log.exception("ingest %s failed", source)
        health.record_ingest(source, ok=False, line="unexpected error (see the log)")
        metrics.count_ingest(source, ok=False)
        return
    summary = importer.summary  # of every request
    health.record_ingest(source, ok=True, line=summary.line(), worker=True)
    metrics.count_ingest(source, summary)
    say(summary.line())


def index_behind() -> bool:
    """Whether the search index is missing, older than the catalogue, or made by an older version."""
    from paperroute import search

    try:
        return search.is_behind() or search.outdated()
    except Exception:  # a broken index must not stop the digests; sync_index says what failed
        index_log.exception("cannot tell whether the search index is up to date")
        return True


def embedding_left() -> bool:
    """Whether the index holds papers without vectors (a sync cut short by a stop)."""
    from paperroute import search

    try:
        return search.unembedded() > 0
    except Exception:  # the first tick's sync says what is wrong with the index
        return False


def sync_index(say: Say | None = None) -> None:
    from paperroute import search

    say = say or index_log.info
    try:
        report = search.sync(embed=True, progress=_quiet)
    except Exception:  # a broken index must not stop the digests
        index_log.exception("search index sync failed")
        return
    if report.stopped:
        say(f"stopping: search index sync cut short, {report.pending} papers left to embed at the next start")
    elif report.indexed or report.removed or report.embedded:
        say(report.line())


def refresh_themes(state: State, say: Say | None = None) -> None:
    """Recompute the themes of the periods whose papers or vectors changed since the last time."""
    from django.utils import timezone

    from paperroute.search import themesets

    say = say or index_log.info
    began = timezone.now()
    try:
        report = themesets.refresh(since=state.themes_since)
    except Exception:  # themes are an extra; they must not stop the digests
        index_log.exception("themes refresh failed")
        return
    state.themes_since = began - timedelta(minutes=1)  # an ingest may commit a moment late
    if report.computed:
        say(report.line())


def send_due_digests(now: datetime, say: Say | None = None) -> None:
    from django.conf import settings

    from paperroute import metrics
    from paperroute.digest import periods, runs
    from paperroute.digest.errors import DigestError
    from paperroute.digest.models import DigestRun
    from paperroute.digest.smtp import messenger_factory

    say = say or digest_log.info
    factory = messenger_factory()
    for report in runs.resume_open_runs(messenger_factory=factory):
        metrics.count_digest(report)
        _say_sent(report, say)
    if stopping.requested():
        return
    hour = settings.CONFIG.digest_hour
    today = now.date()
    due = []
    try:
        if daily_due(now, hour):
            period = runs.due_period("daily", today=today)
            if period.start >= today - timedelta(days=RECENT_DAYS):
                due.append(period)
        if weekly_due(now, hour):
            due.append(periods.weekly(today - timedelta(days=7)))
    except DigestError:
        return  # no papers yet
    for period in due:
        if not DigestRun.objects.filter(frequency=period.frequency, period_start=period.start).exists():
            report = runs.send(period, messenger_factory=factory, log_line=say)
            metrics.count_digest(report)
            _say_sent(report, say)
            if stopping.requested():
                return


def _say_sent(report, say: Say) -> None:
    if report.stopped:
        say(f"stopping: {report.line()}; the next start carries on with it")
    else:
        say(report.line())


def tick(state: State, say: Say | None = None, *, now: datetime | None = None) -> None:
    """One round of the schedule."""
    from django.conf import settings
    from django.db import close_old_connections, connection
    from django.utils import timezone

    from paperroute import health

    if not connection.in_atomic_block:  # a long-lived process: drop connections that broke
        close_old_connections()
    # Without a database every step failed, each logging its traceback, every minute of an
    # outage: one line when it starts and one when it ends.
    problem = health.database_unusable()
    if problem != state.database_problem:
        if problem:
            log.error("%s; the worker tries again every minute", problem)
        else:
            log.info("the database can be used again")
        state.database_problem = problem
    if problem:
        return
    config = settings.CONFIG
    clock = time.monotonic()
    sources = list(config.worker_ingest)
    if sources and clock - state.last_ingest >= 60 * config.worker_ingest_minutes:
        state.last_ingest = clock
        for source in sources:
            if stopping.requested():
                return
            ingest(source, say)
        state.last_sync = 0.0
    # Asked to stop (SIGTERM, Ctrl-C): each step ends at its next batch, and the steps after it
    # wait for the next start (themes too: a new worker refreshes every recent period).
    if stopping.requested():
        return
    if clock - state.last_sync >= 60 * SYNC_MINUTES or index_behind():
        state.last_sync = clock
        sync_index(say)
        if stopping.requested():
            return
        refresh_themes(state, say)
    if stopping.requested():
        return
    send_due_digests(now or timezone.now(), say)


def run_forever(say: Say | None = None, *, once: bool = False) -> int:
    """Tick every minute until SIGTERM or SIGINT (or once), with a heartbeat for /healthz."""
    from paperroute import health

    die_with_server()
    # The handler (stopping.install) only notes the request, taking no lock: the long steps of
    # a tick end at their next batch, and the signal's byte on the wakeup pipe ends the wait
    # between ticks at once.
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    stopping.install()
    stop = threading.Event()
    heartbeat = health.Heartbeat()
    # Beats from a thread of its own: a tick that embeds for an hour is busy, not dead.
    beating = threading.Thread(target=heartbeat.run, args=(stop,), name="heartbeat", daemon=True)
    beating.start()
    log.info("worker started (pid %d; SIGTERM or Ctrl-C stops it)", os.getpid())
    # The first full round waits: `serve` has just started, and ingest syncs anyway. An index
    # that is missing or behind the catalogue is synced at once (index_behind, in tick), and so
    # is one whose embedding a stopped worker left unfinished.
    state = State(last_sync=0.0 if embedding_left() else time.monotonic())
    try:
        while not stopping.requested():
            heartbeat.tick_started()
            try:
                tick(state, say)
            except Exception:  # keep the schedule going; the next tick tries again
                log.exception("worker tick failed")
            heartbeat.tick_finished()
            if once:
                break
            select.select([wake_read], [], [], TICK_SECONDS)
            with contextlib.suppress(BlockingIOError):
                os.read(wake_read, 512)
    finally:
        # Stopping from here on: further signals are ignored. Left to Python, its shutdown would
        # put back the default handler, and a signal arriving then killed the worker (-15).
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_IGN)
        signal.set_wakeup_fd(-1)
        os.close(wake_read)
        os.close(wake_write)
        stop.set()
        beating.join(timeout=5)
        heartbeat.clear()  # stopped on purpose: /healthz says no worker, not a dead one
        log.info("worker stopped")
    return 0


# Set by ChildProcess for the process it starts: the server's pid, whose death ends the child.
PARENT_ENV = "PAPERROUTE_WORKER_PARENT"


class ChildProcess:
    """A command run beside the web server, restarted if it dies, and never outliving the
    server: a worker left behind kept its database sessions open after the server stopped."""

    name = "child"
    restart_seconds = 10.0
    logger = "paperroute.worker"  # its lines go under the component that runs it

    def __init__(self, command: list[str], env: dict[str, str] | None = None) -> None:
        self.command = command
        self.env = env or {}
        self.process: subprocess.Popen | None = None
        # gunicorn forks the web processes from the server, and a web process that exits unwinds
        # the server's own stack, `finally: stop()` included. Only the server may stop the
        # child: in a fork, the locks the supervisor thread held are held forever, and waiting
        # on them kept each web process alive until gunicorn killed it, 10 s after every stop.
        self.owner = os.getpid()
        self.stopping = threading.Event()
        # Starting a child and stopping the server must not interleave: a child started just
        # after stop() looked would run on with nobody to stop it.
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._supervise, name=f"{self.name}-supervisor", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stopped_itself(self, code: int) -> bool:
        """Whether an exit status means the child was asked to stop, and must stay stopped."""
        return False

    def _supervise(self) -> None:
        while True:
            with self.lock:
                if self.stopping.is_set():
                    return
                self.process = subprocess.Popen(
                    self.command, env={**os.environ, **self.env, PARENT_ENV: str(os.getpid())}
                )
            code = self.process.wait()
            if self.stopping.is_set() or self.stopped_itself(code):
                return
            if code in (0, -signal.SIGTERM, -signal.SIGINT):
                # Asked to stop from outside: a service manager stopping the unit signals every
                # process in it at once, and the server stops its children only once its web
                # processes have finished their requests. No failure, so no error line. A 0 is
                # such a stop too: gunicorn's arbiter reaps every child of the server, and a
                # status it took first reads 0 here (the query service never exits 0 itself).
                logging.getLogger(self.logger).info(
                    "the %s was stopped%s; restarting it in %g s unless the server is stopping",
                    self.name,
                    f" by {signal.Signals(-code).name}" if code else "",
                    self.restart_seconds,
                )
            else:
                logging.getLogger(self.logger).error(
                    "the %s exited with status %s; restarting it in %g s",
                    self.name,
                    code,
                    self.restart_seconds,
                )
            self.stopping.wait(self.restart_seconds)

    def stop(self) -> None:
        if os.getpid() != self.owner:
            return
        with self.lock:
            self.stopping.set()
            process = self.process
        if process and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class ChildWorker(ChildProcess):
    """`paperroute worker` beside the web server."""

    name = "worker"

    def __init__(self) -> None:
        super().__init__([sys.executable, "-m", "paperroute", "worker"])

    def stopped_itself(self, code: int) -> bool:
        # 0 is a worker that was asked to stop (SIGTERM, Ctrl-C), as when the server is
        # stopping; starting another then left it running after the server had gone.
        # (gunicorn's arbiter reaps every child, so a lost status reads 0 too.)
        return code == 0


def die_with_server() -> None:
    """In a child started by ChildProcess: have the kernel end it if the server dies without
    stopping it (SIGKILL, a crash), as PR_SET_PDEATHSIG does on Linux."""
    parent = os.environ.get(PARENT_ENV, "")
    if not parent.isdigit() or not sys.platform.startswith("linux"):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(1, signal.SIGTERM) != 0:  # 1 = PR_SET_PDEATHSIG
        log.warning("cannot ask to be stopped with the server (errno %d)", ctypes.get_errno())
    if os.getppid() != int(parent):  # the server died before the line above
        sys.exit(0)
