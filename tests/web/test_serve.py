"""`paperroute demo` loads the sample once, and `paperroute serve` serves it with gunicorn."""

import html
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from paperroute.catalog.models import Paper
from tests.conftest import ROOT, stop_server

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_demo_loads_once_and_the_server_shows_the_papers(cli, cli_env):
    first = cli("demo", "--no-serve")
    assert first.returncode == 0, first.stderr
    assert "arxiv-rss: 1504 records: 1504 new" in first.stdout.decode()
    count = Paper.objects.count()
    second = cli("demo", "--no-serve")
    out = second.stdout.decode()
    assert "0 new, 0 updated, 1504 unchanged" in out and "0 new, 0 updated, 45 unchanged" in out
    assert Paper.objects.count() == count

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "paperroute", "serve", "--port", str(port),
                               "--workers", "1"], cwd=ROOT, env=cli_env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    page = response.read().decode()
                    server_header = response.headers.get("Server", "")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
    finally:
        stop_server(server)
    assert "gunicorn" in server_header.lower()
    top = Paper.objects.filter(listed_on__isnull=False).order_by("-listed_on", "-hf_upvotes").first()
    assert html.escape(top.title) in page
