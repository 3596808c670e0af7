"""`paperroute check`: the project's own checks, of the PAPERROUTE_* variables' names and (with
--deploy) of a public deployment.

Django's deployment checks cover cookies, HSTS and DEBUG; these cover what only paperroute knows:
the site's address, the proxy in front of it, the secret key and mail.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register
from django.db import DatabaseError
from django.db.models import F

from paperroute import conf
from paperroute.catalog.records import hidden_character

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


@register()
def setting_names(app_configs=None, **kwargs) -> list[Warning]:
    """A mistyped PAPERROUTE_* variable is otherwise silently ignored, and its default used."""
    found = []
    for name, closest in conf.unknown_variables(os.environ):
        if closest:
            hint = f"Did you mean {closest}?"
            if name == closest + "_FILE":
                hint = f"Set {closest} itself: only secrets are read from a file named by _FILE."
        else:
            hint = "The settings are listed in docs/reference/settings.md."
        found.append(
            Warning(f"{name} is not a paperroute setting: it is ignored.", hint=hint, id="paperroute.W008")
        )
    return found


@register(Tags.database)
def hidden_characters_in_ids(app_configs=None, **kwargs) -> list[Warning]:
    """Paper ids holding characters that ingest now refuses, stored before it did."""
    from paperroute.catalog.models import Paper

    try:
        # An arXiv paper's key is its parsed id; only the others come as a file wrote them.
        keys = [
            key
            for key in Paper.objects.exclude(key=F("arxiv_id")).values_list("key", flat=True).iterator()
            if hidden_character(key)
        ]
    except DatabaseError:
        return []  # not migrated yet: `paperroute migrate` says what is wrong, if anything
    if not keys:
        return []
    shown = ", ".join(repr(key) for key in keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
    return [
        Warning(
            f"{len(keys)} {'papers have' if len(keys) > 1 else 'paper has'} an id holding an invisible "
            f"character, which ingest now refuses: {shown}.",
            hint="Readers cannot type such an address, and the API and MCP refuse ids with control "
            "characters. Correct the id or DOI in the file the papers came from and ingest it "
            "again; then delete the old papers in the admin (/admin/catalog/paper/).",
            id="paperroute.W009",
        )
    ]


@register(Tags.security, deploy=True)
def deployment(app_configs=None, **kwargs) -> list[Warning]:
    config = settings.CONFIG
    found: list[Warning] = []
    site = urlsplit(config.site_url)
    if site.scheme != "https":
        found.append(
            Warning(
                f"PAPERROUTE_SITE_URL is {config.site_url}: sign-in links, sessions and "
                "subscription links would travel unencrypted.",
                hint="Serve the site behind a proxy that terminates TLS (deploy/nginx.conf) and set "
                "PAPERROUTE_SITE_URL=https://your.host.",
                id="paperroute.W001",
            )
        )
    if (site.hostname or "") in LOCAL_HOSTS:
        found.append(
            Warning(
                f"PAPERROUTE_SITE_URL points at this machine ({site.hostname}): links in mails and "
                "feeds would lead readers nowhere.",
                hint="Set PAPERROUTE_SITE_URL to the address readers use.",
                id="paperroute.W002",
            )
        )
    if not config.trusted_proxies:
        found.append(
            Warning(
                "PAPERROUTE_TRUSTED_PROXIES is empty: behind a proxy, every visitor has the proxy's "
                "address, so one visitor's rate limits stop everyone, and https requests look like "
                "http ones (redirected forever when the site URL is https).",
                hint="Set it to the proxy's address, such as 127.0.0.1 when nginx runs on this host.",
                id="paperroute.W003",
            )
        )
    found += _secret_key(config)
    found += _mail(config)
    found += _private_files()
    return found


def _secret_key(config) -> list[Warning]:
    if config.secret_key:
        return []
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine.endswith("postgresql"):
        return [
            Warning(
                "The secret key was generated in this host's data directory, but the database is "
                "shared: another host would sign sessions and links with a different key.",
                hint="Give every host the same key with PAPERROUTE_SECRET_KEY_FILE.",
                id="paperroute.W004",
            )
        ]
    return []


def _mail(config) -> list[Warning]:
    found = []
    if not config.smtp_url:
        found.append(
            Warning(
                "PAPERROUTE_SMTP_URL is empty: mails are printed to the server's console, so nobody "
                "can sign in or confirm a subscription.",
                hint="Set it to your relay, such as smtp://user:password@smtp.example.org:587?starttls=1 "
                "(PAPERROUTE_SMTP_URL_FILE keeps the password out of the environment).",
                id="paperroute.W005",
            )
        )
    domain = config.from_email.rsplit("@", 1)[-1].rstrip(">").strip().lower()
    if domain in LOCAL_HOSTS or "." not in domain:
        found.append(
            Warning(
                f"PAPERROUTE_FROM_EMAIL is {config.from_email}: mail providers reject mail from "
                "a domain that is not yours.",
                hint="Use an address on a domain you control, with SPF, DKIM and DMARC (docs/digests.md).",
                id="paperroute.W006",
            )
        )
    return found


def _private_files() -> list[Warning]:
    found = []
    data_dir = Path(settings.DATA_DIR)
    private = [(data_dir, 0o700), (data_dir / "secret_key", 0o600)]
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        private.append((Path(database["NAME"]), 0o600))
    for path, mode in private:
        try:
            current = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            continue
        if current & 0o077:
            found.append(
                Warning(
                    f"{path} can be read by other users of this machine (mode {current:o}); it holds "
                    "sessions, tokens or the secret key.",
                    hint=f"chmod {mode:o} {path}, or run paperroute as the user who owns it.",
                    id="paperroute.W007",
                )
            )
    found += _secret_files()
    return found


def _secret_files() -> list[Warning]:
    """The files PAPERROUTE_*_FILE name: readable by the service's group is how step by step
    shares them (root's file, the paperroute user's group); by everyone, it gives the secret away."""
    found = []
    for setting in conf.SETTINGS:
        name = f"{conf.PREFIX}{setting.name}_FILE"
        path = os.environ.get(name) if setting.secret else None
        if not path or os.environ.get(conf.PREFIX + setting.name) is not None:
            continue  # no file, or one that is not read: the variable itself wins
        try:
            current = stat.S_IMODE(os.stat(path).st_mode)
        except OSError:
            continue  # reading the settings already said so
        if current & 0o007:
            found.append(
                Warning(
                    f"{path} ({name}) can be read by every user of this machine (mode {current:o}).",
                    hint=f"chmod 600 {path}, or 640 with the group of the user paperroute runs as.",
                    id="paperroute.W007",
                )
            )
    return found
