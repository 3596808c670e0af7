"""Django settings, built from the declared PAPERROUTE_* settings in `paperroute.conf`."""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF

from paperroute import conf, logs

# Importing this module writes nothing: `conf.prepare()` creates the data directory, the secret key
# and the SQLite file, called by every entry point before Django starts.
CONFIG = conf.read()
DATA_DIR = conf.data_dir(CONFIG)
PACKAGE_DIR = Path(__file__).resolve().parent

SECRET_KEY = conf.secret_key(CONFIG)
DEBUG = CONFIG.debug

# HTTPS and the reverse proxy. The site's own host is always allowed. Behind a proxy, only the
# addresses in PAPERROUTE_TRUSTED_PROXIES may say that a request came over https
# (paperroute.web.middleware removes X-Forwarded-Proto from anyone else's requests).
_SITE = urlsplit(CONFIG.site_url)
HTTPS = _SITE.scheme == "https"
ALLOWED_HOSTS = list(dict.fromkeys([*CONFIG.allowed_hosts, _SITE.hostname]))
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [f"{_SITE.scheme}://{_SITE.netloc}"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
# Load balancers and monitors ask a web process directly, over http: a redirect is no answer
# (HAProxy counts a 3xx as up, so a sick process would stay in rotation).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = CONFIG.hsts_seconds if HTTPS else 0
SECURE_REFERRER_POLICY = "same-origin"
SILENCED_SYSTEM_CHECKS = [
    # HSTS for every subdomain, and preloading, bind the whole domain: a lab's papers.lab.org
    # must not decide that for lab.org's other hosts. Its owner can add them at the proxy.
    "security.W005",
    "security.W021",
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "paperroute.catalog",
    "paperroute.search",
    "paperroute.community",
    "paperroute.library",
    "paperroute.digest",
    "paperroute.web",
    # Serves /api/docs' Swagger UI from the package's own static files instead of a CDN.
    "ninja",
]

MIDDLEWARE = [
    # First: everything below must see the real client's address and scheme.
    "paperroute.web.middleware.TrustedProxyMiddleware",
    # Before anything reads the path: //api/… (a client's endpoint ending in /) is /api/….
    "paperroute.web.middleware.LeadingSlashesMiddleware",
    # Outside HEAD and the conditional GET, so that HEAD and a 304 get the CORS headers too.
    "paperroute.web.cors.ApiCorsMiddleware",
    # Outside every middleware that sets a header, so that HEAD gets the GET's own headers.
    "paperroute.web.middleware.HeadMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # HTML, JSON and feeds compress 5-10 times; Django pads each response against BREACH.
    "django.middleware.gzip.GZipMiddleware",
    # Inside GZip, so that the ETag is the content's: a feed reader that polls with If-None-Match
    # gets a 304 and no body while the feed is unchanged.
    "django.middleware.http.ConditionalGetMiddleware",
    # Outside the page cache, so that cached pages get the header too.
    "csp.middleware.CSPMiddleware",
    # Beside CSP, so that the 400s answered below (a NUL, a Host not allowed) get it too.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "paperroute.web.middleware.RefuseLargeBodyMiddleware",
    "paperroute.web.middleware.RefuseNulMiddleware",
    # Serves anonymous visitors' pages from the cache before sessions and CSRF are touched.
    "paperroute.web.cache.PageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Inside sessions, auth and messages: its page is the reader's own (Vary: Cookie).
    "paperroute.web.middleware.ExplainNotAllowedMiddleware",
]

ROOT_URLCONF = "paperroute.urls"
WSGI_APPLICATION = "paperroute.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "paperroute.web.context.site",
            ],
        },
    },
]


# SQLite's page cache, in KiB, for each connection: a web process has one a thread, and each
# kept what it read up to the cache's size. At 64 MiB, as bulk imports want (SQLITE_BULK_CACHE_KIB,
# which paperroute.catalog.ingest sets while it stores), 8 web processes at 1M papers grew by
# about 40 MiB each within a few hundred searches. Pages not cached are read again from the
# operating system's cache, which every process shares.
SQLITE_CACHE_KIB = 2048
SQLITE_BULK_CACHE_KIB = 65536


def _sqlite(path: Path) -> dict:
    # conf.prepare() creates the file, readable by its owner only.
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            # WAL lets readers proceed while one writer commits; IMMEDIATE transactions take
            # the write lock up front so that concurrent writers queue instead of deadlocking.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            f"PRAGMA cache_size=-{SQLITE_CACHE_KIB};",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        },
        # Tests use a file, not memory, so that the subprocesses they start see the same data.
        "TEST": {"NAME": str(path.with_name("test_" + path.name))},
        # Keep each thread's connection open between requests instead of reopening the file
        # (and re-running the PRAGMAs) for every page view.
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
    }


def _database(url: str) -> dict:
    sqlite = conf.sqlite_path(CONFIG)
    if sqlite is not None:
        return _sqlite(sqlite)
    if not url.startswith(("postgres://", "postgresql://")):
        raise conf.ConfigError(
            "PAPERROUTE_DATABASE_URL: expected postgres://user@host:port/name or sqlite:///path"
        )
    database = dict(dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True))
    # One test database per test run, so that two runs on one server do not drop each other's.
    database["TEST"] = {"NAME": f"test_{database['NAME']}_{os.getpid()}"}
    return database


DATABASES = {"default": _database(CONFIG.database_url)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# Mail: PAPERROUTE_SMTP_URL and PAPERROUTE_FROM_EMAIL, translated in one place (paperroute.mail).
from paperroute.mail import email_settings  # noqa: E402

globals().update(email_settings(CONFIG.smtp_url, CONFIG.from_email, CONFIG.http_timeout))

# Each web process keeps rendered pages in memory; entries are keyed by a stamp read from the
# database on every request, so a vote in another process or host invalidates them at once.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 2000}}
}
LOGIN_URL = "signin"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 60  # signed-in for two months: sign-in costs an email
CSRF_FAILURE_VIEW = "paperroute.web.views.errors.csrf_failure"

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# WhiteNoise serves from the package's static files (WHITENOISE_USE_FINDERS) and from what
# `collectstatic` puts here; conf.prepare() creates it, as WhiteNoise warns while it is missing.
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
# WhiteNoise serves the package's static files directly, so no `collectstatic` step is needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_MAX_AGE = 3600

# Every page gets a Content-Security-Policy: scripts and styles only from this site, no inline
# script, no plugins, no framing. Pages carry no inline script or style attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Lines with a time, a level and the component (serve, worker, ingest, index, digest, mail), or
# JSON objects: PAPERROUTE_LOG_LEVEL and PAPERROUTE_LOG_FORMAT (paperroute.logs).
LOGGING = logs.config(CONFIG.log_level, CONFIG.log_format)
