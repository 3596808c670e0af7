"""The production HTTP server: gunicorn running the Django WSGI application."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import ipaddress
import logging
import os
import secrets
import shutil
import socket
import sys
import tempfile
import time

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from paperroute.worker import ChildProcess

# By name: run as `python -m paperroute.server` (the query service), __name__ is "__main__",
# outside the paperroute loggers, and its lines were dropped.
log = logging.getLogger("paperroute.server")


def address_of(host: str, port: int) -> str:
    """The http address readers reach a server on that listens on `host`:`port`."""
    if host in ("", "0.0.0.0", "::"):
        host = socket.getfqdn()  # every interface: the machine's own name is the best guess
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass
    return f"http://{host}:{port}"


class GunicornLogger(Logger):
    """gunicorn's own lines (workers started, timed out, killed) in paperroute's log format."""

    def _set_handler(self, log, output, fmt, stream=None):
        from django.conf import settings

        from paperroute.logs import formatter

        if log is self.error_log:
            fmt = formatter(settings.CONFIG.log_format)
        super()._set_handler(log, output, fmt, stream)


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        """The application, loaded once in the server before gunicorn forks the web processes
        (preload_app): the code every web process runs is then in pages they share, not in a
        copy each (about 20 MiB a process at 100k papers)."""
        from django.db import connections
        from django.urls import get_resolver

        from paperroute.search import configure_threads
        from paperroute.search import service as _search  # noqa: F401 (every search imports it)
        from paperroute.web.metrics import instrument
        from paperroute.wsgi import application

        # The web processes only query the search index: one BLAS and OpenMP thread each. (Set
        # before the fork, which keeps it; no pool has started yet.)
        configure_threads("web")
        get_resolver().url_patterns  # noqa: B018 (imports every view)
        connections.close_all()  # a connection made so far must not be shared by the forks
        # Keep the garbage collector off what was loaded, so that it does not write into (and so
        # copy) the shared pages in each web process.
        gc.collect()
        gc.freeze()
        return instrument(application)


def _web_process_exited(server, worker) -> None:
    from paperroute.metrics import process_exited

    process_exited(worker.pid)


def serve(*, host: str, port: int, workers: int, worker: bool = False) -> None:
    """Serve until interrupted; with `worker`, run `paperroute worker` beside the web processes.

    The query service runs beside them too, one for the host: each web process asks it for its
    queries' vectors and spelling corrections instead of loading the model and a dictionary
    itself (paperroute.search.queryserver).
    """
    children: list[ChildProcess] = []
    owner = os.getpid()
    _return_freed_memory()
    private = tempfile.mkdtemp(prefix="paperroute-")  # for the server's user alone
    try:
        # Started before gunicorn forks: processes of their own, so that the web processes never
        # share their threads, and stopped when the server stops.
        service = QueryService(os.path.join(private, "query-service.sock"))
        children.append(service)
        service.start()
        if worker:
            from paperroute.worker import ChildWorker

            children.append(ChildWorker())
            children[-1].start()
        service.wait_ready()
        _run_gunicorn(host, port, workers)
    finally:
        for child in children:
            child.stop()  # in the server only: see ChildProcess
        # A web process leaving unwinds this stack too, and must not take the socket with it.
        if os.getpid() == owner:
            shutil.rmtree(private, ignore_errors=True)


# glibc's malloc keeps what a process frees for reuse: in an arena per thread (gunicorn's threads
# each had one), and, for large blocks, in the heap once the adaptive mmap threshold has grown.
# A web process's searches allocate and free arrays of a few MB, so each process kept tens of MB
# it no longer used. One arena and a fixed threshold of 256 KiB (larger blocks are mapped, and
# unmapped when freed) took a web process from 74 to 43 MiB and the query service from 245 to
# 175 MiB at 100k papers (BENCHMARKS.md). An operator's MALLOC_* environment takes precedence.
MALLOC = {"MALLOC_ARENA_MAX": (-8, 1), "MALLOC_MMAP_THRESHOLD_": (-3, 256 * 1024)}  # (mallopt option, value)


def _return_freed_memory() -> None:
    """The MALLOC settings above, for this process and the web processes it forks."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        for name, (option, value) in MALLOC.items():
            if name not in os.environ:
                libc.mallopt(option, value)
    except (OSError, AttributeError):  # not glibc
        pass


class QueryService(ChildProcess):
    """The host's query service; its address and key reach the web processes by environment."""

    name = "query service"
    restart_seconds = 1.0
    logger = "paperroute.server"

    def __init__(self, address: str) -> None:
        from paperroute.search import queryserver

        key = secrets.token_hex(32)
        env = {queryserver.SOCKET_ENV: address, queryserver.KEY_ENV: key}
        # glibc reads these as the service starts (see MALLOC).
        malloc = {name: str(value) for name, (_, value) in MALLOC.items() if name not in os.environ}
        super().__init__([sys.executable, "-m", "paperroute.server"], {**env, **malloc})
        self.address = address
        # gunicorn's web processes are forks of this one, and inherit its environment.
        os.environ.update(env)

    def wait_ready(self, seconds: float = 60) -> None:
        """Until the service listens (it loads the model first), so that the first searches need
        not load it in each web process; they do if it never comes up."""
        deadline = time.monotonic() + seconds
        while not os.path.exists(self.address):
            process = self.process
            if time.monotonic() > deadline or (process is not None and process.poll() is not None):
                log.warning("the query service is not listening; each web process does its work")
                return
            time.sleep(0.05)


def _run_gunicorn(host: str, port: int, workers: int) -> None:
    from django.conf import settings

    _Gunicorn(
        {
            # gunicorn trusts X-Forwarded-Proto from 127.0.0.1 unless told otherwise; it must trust
            # exactly the proxies the site does (paperroute.web.middleware), and no one by default.
            "forwarded_allow_ips": ",".join(settings.CONFIG.trusted_proxies),
            "bind": f"{host}:{port}",
            "workers": workers,
            # Threads let a worker answer cached pages while another request waits on the database.
            "worker_class": "gthread",
            "preload_app": True,
            "threads": 4,
            "accesslog": None,
            "errorlog": "-",
            "logger_class": GunicornLogger,
            "child_exit": _web_process_exited,
            # gunicorn's INFO lines (a worker booted) come with every restart; its warnings matter.
            "loglevel": "warning"
            if settings.CONFIG.log_level in ("DEBUG", "INFO")
            else settings.CONFIG.log_level.lower(),
            "timeout": 60,
            "graceful_timeout": 10,
            "keepalive": 5,
        }
    ).run()


def run_query_service() -> int:
    """The query service's process: `python -m paperroute.server`, as serve() starts it.

    It reads the settings and logs as the server does, without setting up Django's applications
    (34 MiB it would hold for nothing: the service never touches the database)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperroute.settings")
    from django.conf import settings
    from django.utils.log import configure_logging

    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)

    from paperroute.search import configure_threads, queryserver
    from paperroute.search.embedder import Embedder
    from paperroute.worker import die_with_server

    die_with_server()
    configure_threads("web")
    address = os.environ[queryserver.SOCKET_ENV]
    key = bytes.fromhex(os.environ[queryserver.KEY_ENV])
    # A service that died left its socket behind, in the server's private directory.
    with contextlib.suppress(FileNotFoundError):
        os.unlink(address)
    threads, runs = queryserver.layout(settings.CONFIG.embed_threads, settings.CONFIG.query_runs)
    embedder = Embedder(
        threads=threads, batch_size=queryserver.MAX_TEXTS, runs=runs, kept_queries=settings.CONFIG.query_cache
    )
    server = queryserver.QueryServer(address, key, embedder, runs=runs)
    log.info("the query service listens on %s (%d model threads, %d runs at once)", address, threads, runs)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(run_query_service())
