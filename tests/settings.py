"""Django settings for the test suite: the project's own, with a private data directory.

pytest-django starts Django before any conftest runs, so this is the place to make sure that a
run nobody gave a data directory (a plain `pytest`) never uses ./paperroute-data, and that two
runs at once never share a test database or search index.
"""

import os
import tempfile

os.environ.setdefault("PAPERROUTE_DATA_DIR", tempfile.mkdtemp(prefix="paperroute-test-"))

from paperroute import conf  # noqa: E402

# What `paperroute` does before starting Django: the data directory, secret key and SQLite file.
conf.prepare()

from paperroute.settings import *  # noqa: E402,F401,F403
