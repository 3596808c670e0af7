"""Logging for every process: a time, a level and the component on each line, or JSON."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMATS = ("text", "json")

# The component a line comes from, by the longest matching logger name: an operator filters on
# these (serve, worker, ingest, index, digest, mail) rather than on module paths.
COMPONENTS = {
    "paperroute.server": "serve",
    "paperroute.search.queryserver": "serve",
    "paperroute.web": "serve",
    "paperroute.community": "serve",
    "paperroute.library": "serve",
    "django": "serve",
    "gunicorn": "serve",
    "paperroute.worker": "worker",
    "paperroute.catalog": "ingest",
    "paperroute.ingest": "ingest",
    "paperroute.search": "index",
    "paperroute.index": "index",
    "paperroute.digest": "digest",
    "paperroute.digest.smtp": "mail",
    "paperroute.digest.sender": "mail",
    "paperroute.mail": "mail",
}


def component_of(name: str) -> str:
    """The component a logger belongs to: the entry for its longest prefix in COMPONENTS."""
    while name:
        if name in COMPONENTS:
            return COMPONENTS[name]
        name = name.rpartition(".")[0]
    return "paperroute"


class NoTraceback(logging.Filter):
    """Log the message alone: for expected refusals, whose traceback says nothing new."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


class AsWarning(logging.Filter):
    """Log at WARNING what Django's security logger logs at ERROR for a client's mistake (a Host
    header the site is not served under, a tampered session): scanners send thousands, and an
    operator's ERRORs are for the site's own failures."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class OurSettingNames(logging.Filter):
    """Name the setting an operator changes where Django names its own: Django's "You may need to
    add 'host' to ALLOWED_HOSTS" means PAPERROUTE_ALLOWED_HOSTS (or PAPERROUTE_SITE_URL) here."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.endswith(" to ALLOWED_HOSTS."):
            record.msg = (
                record.msg.removesuffix("ALLOWED_HOSTS.")
                + "PAPERROUTE_ALLOWED_HOSTS, or make it PAPERROUTE_SITE_URL's host."
            )
        return True


class HealthAnswers(logging.Filter):
    """Leaves out Django's "Service Unavailable: /healthz" line: a 503 is that page's answer, not
    a failure, and load balancers ask every few seconds. What fails is logged where it fails (the
    worker, an ingest), and /healthz's body says which check."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        return not (
            record.name == "django.request"
            and getattr(record, "status_code", None) == 503
            and getattr(request, "path_info", None) == "/healthz"
        )


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    """`2024-11-28T06:00:01.250Z INFO worker: message`, then the traceback if there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = (
            f"{_timestamp(record)} {record.levelname} "
            f"{getattr(record, 'component', None) or component_of(record.name)}: "
            f"{record.getMessage()}"
        )
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + record.exc_text
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, component, logger, message and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": _timestamp(record),
            "level": record.levelname,
            "component": getattr(record, "component", None) or component_of(record.name),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["traceback"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time, so that a redirected stderr gets the lines."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass  # always the current sys.stderr


def formatter(fmt: str) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else TextFormatter()


def config(level: str = "INFO", fmt: str = "text") -> dict:
    """The LOGGING dictionary: paperroute's loggers at `level`, everything else from WARNING."""
    formatter_class = "paperroute.logs.JsonFormatter" if fmt == "json" else "paperroute.logs.TextFormatter"
    others = max(logging.WARNING, logging.getLevelName(level))
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "no_traceback": {"()": "paperroute.logs.NoTraceback"},
            "as_warning": {"()": "paperroute.logs.AsWarning"},
            "our_setting_names": {"()": "paperroute.logs.OurSettingNames"},
            "health_answers": {"()": "paperroute.logs.HealthAnswers"},
        },
        "formatters": {"line": {"()": formatter_class}},
        "handlers": {
            "console": {
                "()": "paperroute.logs.StderrHandler",
                "formatter": "line",
                "filters": ["health_answers"],
            },
            "console_short": {
                "()": "paperroute.logs.StderrHandler",
                "formatter": "line",
                "filters": ["no_traceback", "as_warning", "our_setting_names"],
            },
        },
        # Libraries speak from WARNING on: their INFO lines are for their own developers.
        "root": {"handlers": ["console"], "level": logging.getLevelName(others)},
        "loggers": {
            # Records propagate to the root's handler; the root's level does not apply to them.
            "paperroute": {"level": level},
            # bibtexparser warns once per malformed block, two lines each: an upload of "@a{"
            # repeated would write megabytes. Paperroute reports such entries to the reader.
            "bibtexparser": {"level": logging.getLevelName(max(logging.ERROR, others))},
            # A request for a host the site is not served under is the client's mistake (or a
            # scanner's): one WARNING line says which host, a traceback would say nothing more.
            "django.security": {"handlers": ["console_short"], "level": "WARNING", "propagate": False},
        },
    }


def parse_level(value: str) -> str:
    level = value.strip().upper()
    if level not in LEVELS:
        raise ValueError(f"expected one of {', '.join(LEVELS)}, got {value!r}")
    return level


def parse_format(value: str) -> str:
    fmt = value.strip().lower()
    if fmt not in FORMATS:
        raise ValueError(f"expected text or json, got {value!r}")
    return fmt
