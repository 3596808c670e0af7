"""The production HTTP server: gunicorn running the Django WSGI application."""

from __future__ import annotations

import ipaddress
import socket

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger


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
        from paperroute.search import configure_threads
        from paperroute.web.metrics import instrument
        from paperroute.wsgi import application

        # Each web process, after gunicorn forked it: it only queries the search index.
        configure_threads("web")

        return instrument(application)


def _web_process_exited(server, worker) -> None:
    from paperroute.metrics import process_exited

    process_exited(worker.pid)


def serve(*, host: str, port: int, workers: int, worker: bool = False) -> None:
    """Serve until interrupted; with `worker`, run `paperroute worker` beside the web processes."""
    child = None
    if worker:
        from paperroute.worker import ChildWorker

        # Started before gunicorn forks: a child process of its own, so that the web processes
        # never share its threads, and stopped when the server stops.
        child = ChildWorker()
        child.start()
    try:
        _run_gunicorn(host, port, workers)
    finally:
        if child is not None:
            child.stop()


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
