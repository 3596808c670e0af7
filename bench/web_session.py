#!/usr/bin/env python3
"""Print a session cookie (name=value) for a signed-in reader, for the web load benchmark's signed-in pages.

Signed-in readers' pages are rendered on every request (the page cache is for anonymous
visitors), so a session cookie measures the page itself rather than the cache.
"""

import os

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperroute.settings")
    from paperroute import conf

    conf.prepare()
    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    reader, _ = get_user_model().objects.get_or_create(
        username="bench-reader", defaults={"email": "bench-reader@example.org"}
    )
    session = SessionStore()
    session[SESSION_KEY] = str(reader.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = reader.get_session_auth_hash()
    session.save()
    print(f"{settings.SESSION_COOKIE_NAME}={session.session_key}")


if __name__ == "__main__":
    main()
