"""WSGI entry point for production servers."""

import os

from django.core.wsgi import get_wsgi_application

from paperroute import conf

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperroute.settings")
conf.prepare()
application = get_wsgi_application()
