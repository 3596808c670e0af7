"""Every PAPERROUTE_* setting, declared once with its default and help text."""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import math
import os
import secrets
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from paperroute.logs import parse_format, parse_level


class ConfigError(Exception):
    """A PAPERROUTE_* setting has a value that cannot be used."""


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _str(value: str) -> str:
    return value


def _hosts(value: str) -> tuple[str, ...]:
    hosts = _csv(value)
    for host in hosts:
        if "/" in host:
            raise ValueError(f"expected host names such as papers.example.org, not a URL, got {host!r}")
    return hosts


def _networks(value: str) -> tuple[str, ...]:
    networks: list[str] = []
    for part in _csv(value):
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ValueError(
                f"expected IP addresses or networks such as 127.0.0.1 or 10.0.0.0/8, got {part!r}"
            ) from None
    return tuple(networks)


def _site_url(value: str) -> str:
    from urllib.parse import urlsplit

    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
        raise ValueError(f"expected the site's address such as https://papers.example.org, got {value!r}")
    return url


def _int_from(least: int) -> Callable[[str], int]:
    """A parser of whole numbers of at least `least`."""
    return _whole_number(f"of at least {least}", lambda number: number >= least)


def _int_between(least: int, most: int) -> Callable[[str], int]:
    """A parser of whole numbers from `least` to `most`, both included."""
    return _whole_number(f"from {least} to {most}", lambda number: least <= number <= most)


def _whole_number(bounds: str, fits: Callable[[int], bool]) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number: int | None = int(value)
        except ValueError:
            number = None
        if number is None or not fits(number):
            raise ValueError(f"expected a whole number {bounds}, got {value!r}")
        return number

    return parse


def _float_from(least: float, *, exclusive: bool = False) -> Callable[[str], float]:
    """A parser of (finite) numbers of at least `least`, or more than it when exclusive."""
    bounds = f"more than {least:g}" if exclusive else f"of at least {least:g}"

    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or number < least or (exclusive and number == least):
            raise ValueError(f"expected a number {bounds}, got {value!r}")
        return number

    return parse


_positive_int = _int_from(1)
_non_negative_int = _int_from(0)
_positive_float = _float_from(0, exclusive=True)
_non_negative_float = _float_from(0)


RATE_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def parse_rate(value: str) -> tuple[int, int]:
    """A rate limit such as "10/hour" as (count, seconds)."""
    count, _, period = value.strip().partition("/")
    if not (count.strip().isascii() and count.strip().isdigit()) or period.strip() not in RATE_PERIODS:
        raise ValueError(f"expected COUNT/second|minute|hour|day such as 10/hour, got {value!r}")
    return int(count), RATE_PERIODS[period.strip()]


def _rate(value: str) -> str:
    parse_rate(value)
    return value.strip()


def _optional_rate(value: str) -> str:
    if value.strip() and parse_rate(value)[0] == 0:
        raise ValueError(f"expected a COUNT of at least 1 such as 14/second, or nothing, got {value!r}")
    return value.strip()


# The sources with a live service, which the worker ingests from when no input is given: the keys
# of paperroute.catalog.harvest.DEFAULT_URLS (jsonl reads files only). Not imported from there:
# harvest imports the models, which cannot be loaded while Django reads its settings.
WORKER_SOURCES = ("arxiv-oai", "arxiv-api", "arxiv-rss", "hf-daily")


def _worker_sources(value: str) -> tuple[str, ...]:
    sources = _csv(value)
    for source in sources:
        if source not in WORKER_SOURCES:
            raise ValueError(f"expected sources among {', '.join(WORKER_SOURCES)}, got {source!r}")
    return sources


def _seconds_list(value: str) -> tuple[int, ...]:
    parts = _csv(value)
    if not parts or not all(p.isascii() and p.isdigit() for p in parts):
        raise ValueError(f"expected comma-separated whole seconds such as 60,300,1800, got {value!r}")
    return tuple(int(p) for p in parts)


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str
    parse: Callable[[str], object] = _str
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATA_DIR",
        "./paperroute-data",
        "Directory for the SQLite database, the search index and generated secrets.",
    ),
    Setting(
        "DATABASE_URL",
        "",
        "Database to use: empty means SQLite at DATA_DIR/paperroute.sqlite3, "
        "`postgres://user:password@host:5432/name` selects PostgreSQL, and "
        "`sqlite:////absolute/path.sqlite3` another SQLite file.",
        secret=True,  # it often holds the database's password
    ),
    Setting(
        "SECRET_KEY",
        "",
        "Django secret key for sessions and signed links. Empty means one is generated once "
        "and kept in DATA_DIR/secret_key. PAPERROUTE_SECRET_KEY_FILE reads it from a file.",
        secret=True,
    ),
    Setting(
        "ALLOWED_HOSTS",
        "localhost,127.0.0.1,[::1]",
        "Comma-separated host names the site may be served under. SITE_URL's host is always "
        "allowed too, so empty means that host alone.",
        _hosts,
    ),
    Setting("DEBUG", "false", "Django debug mode; never enable it on a public server.", _bool),
    Setting(
        "EMBED_THREADS",
        "0",
        "CPU threads the embedding model uses in each process; 0 means one per core, and at "
        "most 4 in the query service of `paperroute serve`, whose queries are a few words.",
        _non_negative_int,
    ),
    Setting(
        "EMBED_BATCH",
        "8",
        "Passages the embedding model runs at once while indexing, at least 1 (8 measured "
        "fastest on 2 cores; see BENCHMARKS.md).",
        _positive_int,
    ),
    Setting(
        "QUERY_RUNS",
        "0",
        "Queries the query service of `paperroute serve` runs through the embedding model at "
        "once; 0 means one per core up to 2, or one for every 4 cores on a larger host.",
        _non_negative_int,
    ),
    Setting(
        "QUERY_CACHE",
        "4096",
        "Distinct search texts whose vectors the embedding model keeps (about 1.7 KB each), so "
        "that the next page of a search, a change of its filters and a followed topic do not "
        "run the model again; 0 keeps none.",
        _non_negative_int,
    ),
    Setting(
        "EMBED_ON_INGEST",
        "true",
        "Whether `paperroute ingest` embeds new papers for semantic search right away; when "
        "false it updates the keyword index only and `paperroute index sync` embeds later.",
        _bool,
    ),
    Setting(
        "ARXIV_CATEGORIES",
        "cs.AI,cs.CL,cs.CV,cs.LG,stat.ML",
        "Comma-separated arXiv categories or archives followed by default: the RSS feed and "
        "query the fetchers use when no URL is given.",
        _csv,
    ),
    Setting(
        "ARXIV_DELAY",
        "3",
        "Seconds between requests to arXiv, 0 or more (arXiv asks for one request every 3 seconds).",
        _non_negative_float,
    ),
    Setting(
        "HTTP_TIMEOUT",
        "60",
        "Seconds (more than 0) before an HTTP request to a source gives up.",
        _positive_float,
    ),
    Setting(
        "CONTACT_EMAIL",
        "",
        "Contact address sent in the User-Agent to arXiv and Hugging Face, as arXiv asks of harvesters.",
    ),
    Setting(
        "WEB_WORKERS",
        "0",
        "Web server processes for `paperroute serve`; 0 means two per CPU core.",
        _non_negative_int,
    ),
    Setting(
        "SITE_URL",
        "http://127.0.0.1:8000",
        "The site's public address, used for absolute links in emails, feeds and link "
        "previews. Its host is always allowed; when it is https, cookies are Secure, HSTS is "
        "sent and forms are accepted from that origin. Unset, `paperroute serve` and `paperroute "
        "demo` use the address they listen on.",
        _site_url,
    ),
    Setting(
        "TRUSTED_PROXIES",
        "",
        "Comma-separated addresses or networks (CIDR) of the reverse proxies in front of the "
        "site. Only requests from them may set the client's address (X-Forwarded-For) and "
        "scheme (X-Forwarded-Proto); empty means no proxy is trusted.",
        _networks,
    ),
    Setting(
        "HSTS_SECONDS",
        "31536000",
        "Seconds browsers keep to HTTPS once they saw the site over it (Strict-Transport-"
        "Security), when SITE_URL is https. Try HTTPS out with a small value such as 300; 0 "
        "sends no such header.",
        _non_negative_int,
    ),
    Setting(
        "MAX_INPUT_MB",
        "256",
        "Most megabytes an ingest reads from one file, response or standard input, after "
        "decompression; a larger input is refused (exit status 2).",
        _positive_int,
    ),
    Setting(
        "SMTP_URL",
        "",
        "Mail server: `smtp://user:password@host:587?starttls=1`, `smtps://user:password@host:465` "
        "or `smtp://host:25`. Empty means mails are printed to the server's console (the demo's "
        "sign-in links appear there).",
        secret=True,
    ),
    Setting("FROM_EMAIL", "paperroute <noreply@localhost>", "The From address of every mail the site sends."),
    Setting(
        "ARXIV_API_URL",
        "https://export.arxiv.org/api/query",
        "The arXiv query API that `/submit` fetches submitted papers from.",
    ),
    Setting(
        "SIGNIN_LINK_MINUTES",
        "30",
        "Minutes a sign-in link stays valid (each link works once): at least 2, and more than "
        "SIGNIN_MAIL_MINUTES.",
        _int_from(2),
    ),
    Setting(
        "RATE_SIGNIN",
        "20/hour",
        "Sign-in requests per client (IP address): COUNT/second|minute|hour|day.",
        _rate,
    ),
    Setting(
        "SIGNIN_MAIL_MINUTES",
        "10",
        "An address gets at most one sign-in mail per this many minutes, however many times "
        "it is asked for; the link already sent keeps working. At most 10, and less than "
        "SIGNIN_LINK_MINUTES, so that its owner always has a working link.",
        _positive_int,
    ),
    Setting("RATE_VOTES", "120/hour", "Upvotes and un-votes per user: COUNT/PERIOD.", _rate),
    Setting("RATE_COMMENTS", "20/hour", "Comments, and comment edits, per user: COUNT/PERIOD.", _rate),
    Setting("RATE_SUBMISSIONS", "10/day", "Paper submissions per user: COUNT/PERIOD.", _rate),
    Setting(
        "RATE_LIBRARY",
        "600/hour",
        "Changes to a reader's library per user (saves, collections, notes, read and not "
        "interested, follows): COUNT/PERIOD.",
        _rate,
    ),
    Setting(
        "RATE_IMPORTS", "20/day", "Library imports (files or lists of ids) per user: COUNT/PERIOD.", _rate
    ),
    Setting(
        "RATE_MCP",
        "600/hour",
        "MCP tool calls over HTTP (/mcp and `paperroute mcp --http`) per reader account (all of "
        "its tokens together) or, without a valid token, per client address: COUNT/PERIOD. "
        "Calls over stdio are not counted.",
        _rate,
    ),
    Setting(
        "TRENDING_HALF_LIFE",
        "24",
        "Hours (more than 0) after which a vote counts half as much in the trending ranking.",
        _positive_float,
    ),
    Setting(
        "PAGE_CACHE_SECONDS",
        "300",
        "Seconds an anonymous visitor's listing or paper page may be served from the page "
        "cache; any vote, comment or ingest invalidates it at once. 0 turns the cache off.",
        _non_negative_int,
    ),
    Setting(
        "DIGEST_HOUR",
        "6",
        "Hour of the day (UTC, 0-23) from which the worker sends the daily digest of the day before "
        "and, from Monday on (a missed one any later day of the week), the weekly digest; arXiv "
        "announces at 00:00 UTC in summer and 01:00 in winter.",
        _int_between(0, 23),
    ),
    Setting(
        "DIGEST_CONCURRENCY",
        "4",
        "SMTP connections each `digest send` process (or the worker) sends over at once, at least 1.",
        _positive_int,
    ),
    Setting(
        "DIGEST_RATE",
        "",
        "Most digest messages one sending process hands to the SMTP server: COUNT/second|minute|"
        "hour|day with a COUNT of at least 1, such as 14/second for a relay's quota. Empty means "
        "as fast as it accepts.",
        _optional_rate,
    ),
    Setting(
        "DIGEST_RETRY_SCHEDULE",
        "60,300,1800,7200,21600",
        "Seconds to wait before each retry of a message after a 4xx reply or a connection "
        "error; after the last one the message counts as failed.",
        _seconds_list,
    ),
    Setting(
        "DIGEST_SUPPRESS_AFTER",
        "3",
        "Permanent failures in a row (5xx replies to the recipient, hard bounces) after which "
        "an address is suppressed: no more mail goes to it. At least 1.",
        _positive_int,
    ),
    Setting(
        "DIGEST_LEASE_SECONDS",
        "300",
        "Seconds a sending process holds a claimed message before a process on another host "
        "may take it over (a dead process on the same host is noticed at once). At least 1.",
        _positive_int,
    ),
    Setting(
        "DIGEST_CONFIRM_HOURS",
        "72",
        "Hours a subscription's confirmation link stays valid, at least 1.",
        _positive_int,
    ),
    Setting(
        "RATE_SUBSCRIBE",
        "10/hour",
        "Subscribe-form submissions per IP address: COUNT/second|minute|hour|day. Each address "
        "also gets at most one confirmation mail per 24 hours.",
        _rate,
    ),
    Setting(
        "UNSUBSCRIBE_EMAIL",
        "",
        "The mailto address in every digest's List-Unsubscribe header. Empty means the From "
        "address; route mail to it into the bounce webhook (type unsubscribe).",
    ),
    Setting(
        "BOUNCE_WEBHOOK",
        "",
        "Secret that switches on the bounce webhook at /hooks/bounce; senders authenticate with "
        "`Authorization: Bearer SECRET`. Empty means the webhook is off.",
        secret=True,
    ),
    Setting(
        "WORKER_INGEST",
        "",
        "Comma-separated sources the worker ingests from their live services before each "
        f"digest and every WORKER_INGEST_MINUTES, among {', '.join(WORKER_SOURCES)}. Empty "
        "means the worker does not ingest (the demo has no network). arxiv-oai harvests what "
        "changed since its last harvest (the last 3 days at first) in the OAI sets of "
        "ARXIV_CATEGORIES; load a backlog with `paperroute ingest`.",
        _worker_sources,
    ),
    Setting(
        "WORKER_INGEST_MINUTES",
        "60",
        "Minutes between the worker's ingests (when WORKER_INGEST is set), at least 1.",
        _positive_int,
    ),
    Setting(
        "LOG_LEVEL",
        "INFO",
        "Least important log lines written to standard error by serve, the worker and the "
        "commands: DEBUG, INFO, WARNING, ERROR or CRITICAL.",
        parse_level,
    ),
    Setting(
        "LOG_FORMAT",
        "text",
        "`text` (a time, level and component, then the message) or `json` (one JSON object "
        "a line, for a log collector).",
        parse_format,
    ),
    Setting(
        "METRICS_TOKEN",
        "",
        "Secret that switches on /metrics (Prometheus format) for scrapers that send "
        "`Authorization: Bearer SECRET`. Empty, with METRICS_NETWORKS empty, means /metrics "
        "is off.",
        secret=True,
    ),
    Setting(
        "METRICS_NETWORKS",
        "",
        "Comma-separated addresses or networks (CIDR) that may read /metrics without the "
        "token, such as 127.0.0.1 for a scraper on the same host.",
        _networks,
    ),
)

PREFIX = "PAPERROUTE_"

# PAPERROUTE_* variables that are read but are not settings: set by `paperroute serve` for the
# processes it starts (search/queryserver.py, worker.py), and read by the test suite (tests/run.py,
# tests/browser, tests/digest/test_crash.py) and the benchmarks (bench/).
NOT_SETTINGS = frozenset(
    PREFIX + name
    for name in (
        "QUERY_SERVICE_SOCKET",
        "QUERY_SERVICE_KEY",
        "WORKER_PARENT",
        "TEST_DATABASE_URL",
        "TEST_SERIAL",
        "TEST_DB_ONLY",
        "REQUIRE_POSTGRES",
        "REQUIRE_BROWSER",
        "CRASH_SEED",
        "BENCH_POSTGRES",
        "BENCH_DATA",
    )
)


@dataclass(frozen=True, slots=True)
class Config:
    """The parsed PAPERROUTE_* settings: one attribute per entry of SETTINGS, named in lower case.

    Frozen, with tuples for lists, so that nothing changes it behind the code's back; a test
    that needs other values builds a new one with `replace`.
    """

    data_dir: str
    database_url: str
    secret_key: str
    allowed_hosts: tuple[str, ...]
    debug: bool
    embed_threads: int
    embed_batch: int
    query_runs: int
    query_cache: int
    embed_on_ingest: bool
    arxiv_categories: tuple[str, ...]
    arxiv_delay: float
    http_timeout: float
    contact_email: str
    web_workers: int
    site_url: str
    trusted_proxies: tuple[str, ...]
    hsts_seconds: int
    max_input_mb: int
    smtp_url: str
    from_email: str
    arxiv_api_url: str
    signin_link_minutes: int
    rate_signin: str
    signin_mail_minutes: int
    rate_votes: str
    rate_comments: str
    rate_submissions: str
    rate_library: str
    rate_imports: str
    rate_mcp: str
    trending_half_life: float
    page_cache_seconds: int
    digest_hour: int
    digest_concurrency: int
    digest_rate: str
    digest_retry_schedule: tuple[int, ...]
    digest_suppress_after: int
    digest_lease_seconds: int
    digest_confirm_hours: int
    rate_subscribe: str
    unsubscribe_email: str
    bounce_webhook: str
    worker_ingest: tuple[str, ...]
    worker_ingest_minutes: int
    log_level: str
    log_format: str
    metrics_token: str
    metrics_networks: tuple[str, ...]

    def replace(self, **changes: object) -> Config:
        """A copy with some settings changed (lower-case names), such as rate_votes="2/hour"."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def read(env: Mapping[str, str] | None = None) -> Config:
    """Parse every declared setting from the environment, with `_FILE` variants for secrets."""
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    for setting in SETTINGS:
        raw = env.get(PREFIX + setting.name)
        file_path = env.get(PREFIX + setting.name + "_FILE") if setting.secret else None
        if raw is None and file_path:
            try:
                raw = Path(file_path).read_text().strip()
            except OSError as exc:
                raise ConfigError(
                    f"{PREFIX}{setting.name}_FILE: cannot read {file_path}: {exc.strerror}"
                ) from exc
        try:
            values[setting.name.lower()] = setting.parse(setting.default if raw is None else raw)
        except ValueError as exc:
            raise ConfigError(f"{PREFIX}{setting.name}: {exc}") from None
    config = Config(**values)  # type: ignore[arg-type]
    _check_signin(config)
    return config


def unknown_variables(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """The PAPERROUTE_* variables nothing reads (a typo, a setting that was removed), each with
    the setting whose name is closest to it, or "" when none is close."""
    names = {PREFIX + s.name for s in SETTINGS} | {PREFIX + s.name + "_FILE" for s in SETTINGS if s.secret}
    unknown = sorted(name for name in env if name.startswith(PREFIX) and name not in names | NOT_SETTINGS)
    return [(name, _closest(name, names)) for name in unknown]


def _closest(name: str, names: set[str]) -> str:
    if name.removesuffix("_FILE") in names:  # _FILE after a setting that is not a secret
        return name.removesuffix("_FILE")
    return next(iter(difflib.get_close_matches(name, names, n=1, cutoff=0.8)), "")


def _check_signin(config: Config) -> None:
    # The promise that nobody can lock a person out rests on this: a link mailed at most
    # SIGNIN_MAIL_MINUTES ago is still valid, and the owner never waits more than 10 minutes.
    every, valid = config.signin_mail_minutes, config.signin_link_minutes
    if every > 10 or every >= valid:
        raise ConfigError(
            f"{PREFIX}SIGNIN_MAIL_MINUTES: must be at most 10 and less than "
            f"{PREFIX}SIGNIN_LINK_MINUTES ({valid}), got {every}"
        )


def data_dir(config: Config) -> Path:
    """The data directory's absolute path (`prepare` creates it)."""
    return Path(config.data_dir).expanduser().resolve()


def sqlite_path(config: Config) -> Path | None:
    """The SQLite database file, or None when PAPERROUTE_DATABASE_URL names another database."""
    url = config.database_url
    if not url:
        return data_dir(config) / "paperroute.sqlite3"
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).expanduser().resolve()
    return None


def prepare(config: Config | None = None) -> None:
    """Create the data directory, the secret key and the SQLite file, all private to their owner.

    An explicit step, run before Django starts by every entry point (the `paperroute` command,
    `paperroute.wsgi`, the test settings), so that importing the settings writes nothing.
    """
    config = read() if config is None else config
    path = data_dir(config)
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        # It holds the database, sessions, tokens and the secret key; an older version made it 0755.
        make_private(path, 0o700)
        make_private(path / "secret_key", 0o600)
        if not config.secret_key:
            _create_secret_key(path / "secret_key")
        # WhiteNoise serves from the package's static files and from what `collectstatic` puts in
        # DATA_DIR/static; it warns on every start while the directory is missing.
        (path / "static").mkdir(exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"{PREFIX}DATA_DIR: cannot use {path} as this user: {exc.strerror or exc}"
        ) from None
    database = sqlite_path(config)
    if database is not None:
        try:
            # Sessions and API tokens live in this file: created readable by its owner only.
            # SQLite gives its -wal and -shm files the database file's permissions.
            database.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
            for name in (database.name, database.name + "-wal", database.name + "-shm"):
                make_private(database.with_name(name), 0o600)
        except OSError as exc:
            raise ConfigError(
                f"{PREFIX}DATABASE_URL: cannot use {database} as this user: {exc.strerror or exc}"
            ) from None


def make_private(path: Path, mode: int) -> None:
    """Take group and other permissions away from a file or directory we own, if it exists."""
    try:
        current = path.stat()
    except FileNotFoundError:
        return
    if stat.S_IMODE(current.st_mode) & 0o077 and current.st_uid == os.geteuid():
        path.chmod(mode)


def secret_key(config: Config) -> str:
    """The configured secret key, or the one `prepare` generated in the data directory.

    Empty before `prepare` ran: reading the settings works, and Django refuses to sign anything.
    """
    if config.secret_key:
        return config.secret_key
    try:
        return (data_dir(config) / "secret_key").read_text().strip()
    except FileNotFoundError:
        return ""


def _create_secret_key(key_file: Path) -> None:
    if key_file.exists():
        return
    key = secrets.token_urlsafe(50)
    # Written to a private temporary file, then linked into place: other local users cannot read
    # it, and when several processes start at once exactly one key wins.
    tmp = key_file.with_name(f".secret_key.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    try:
        os.link(tmp, key_file)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
