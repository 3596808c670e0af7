"""Django settings, built from the declared PAPERROUTE_* settings in `paperroute.conf`."""

import os
from pathlib import Path

import dj_database_url

from paperroute import conf

CONFIG = conf.read()
DATA_DIR = conf.data_dir(CONFIG)
PACKAGE_DIR = Path(__file__).resolve().parent

SECRET_KEY = conf.secret_key(CONFIG)
DEBUG = CONFIG["DEBUG"]
ALLOWED_HOSTS = CONFIG["ALLOWED_HOSTS"]

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
    "paperroute.digest",
    "paperroute.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Serves anonymous visitors' pages from the cache before sessions and CSRF are touched.
    "paperroute.web.cache.PageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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


def _sqlite(path: Path) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            # WAL lets readers proceed while one writer commits; IMMEDIATE transactions take
            # the write lock up front so that concurrent writers queue instead of deadlocking.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;",
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
    if not url:
        return _sqlite(DATA_DIR / "paperroute.sqlite3")
    if url.startswith("sqlite:///"):
        return _sqlite(Path(url.removeprefix("sqlite:///")).expanduser().resolve())
    if not url.startswith(("postgres://", "postgresql://")):
        raise conf.ConfigError(
            "PAPERROUTE_DATABASE_URL: expected postgres://user@host:port/name or sqlite:///path"
        )
    database = dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)
    # One test database per test run, so that two runs on one server do not drop each other's.
    database["TEST"] = {"NAME": f"test_{database['NAME']}_{os.getpid()}"}
    return database


DATABASES = {"default": _database(str(CONFIG["DATABASE_URL"]))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# Mail: PAPERROUTE_SMTP_URL and PAPERROUTE_FROM_EMAIL, translated in one place (paperroute.mail).
from paperroute.mail import email_settings  # noqa: E402

globals().update(email_settings(str(CONFIG["SMTP_URL"]), str(CONFIG["FROM_EMAIL"]),
                                float(CONFIG["HTTP_TIMEOUT"])))

# Each web process keeps rendered pages in memory; entries are keyed by a stamp read from the
# database on every request, so a vote in another process or host invalidates them at once.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                      "OPTIONS": {"MAX_ENTRIES": 2000}}}
LOGIN_URL = "signin"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 60  # signed-in for two months: sign-in costs an email
CSRF_FAILURE_VIEW = "paperroute.web.views.errors.csrf_failure"

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# WhiteNoise serves from the package's static files (WHITENOISE_USE_FINDERS) and from what
# `collectstatic` puts here; it warns on every start while the directory is missing.
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
# WhiteNoise serves the package's static files directly, so no `collectstatic` step is needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_MAX_AGE = 3600

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
