"""/metrics: off by default, for the token or allowed networks only, and counting what serve does."""

import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import FIXTURES, ROOT, stop_server
from tests.support import free_port

pytestmark = pytest.mark.django_db


def with_config(settings, **values):
    settings.CONFIG = settings.CONFIG.replace(**values)


def test_metrics_are_off_unless_configured(client):
    assert client.get("/metrics").status_code == 404


def test_the_token_or_an_allowed_network_is_needed(client, settings):
    with_config(settings, metrics_token="s3cret", metrics_networks=())
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    page = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/plain")
    text = page.content.decode()
    assert 'paperroute_health_check_ok{check="database"} 1.0' in text
    assert "paperroute_outbox_backlog_messages 0.0" in text
    with_config(settings, metrics_token="", metrics_networks=("10.0.0.0/8",))
    assert client.get("/metrics").status_code == 401  # the test client comes from 127.0.0.1
    with_config(settings, metrics_networks=("127.0.0.0/8",))
    assert client.get("/metrics").status_code == 200


def get(url: str, token: str = "") -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def sample(text: str, name: str, **labels) -> float:
    """The sum of a metric's samples whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match and all(f'{k}="{v}"' in (match.group(1) or "") for k, v in labels.items()):
            total += float(match.group(2))
    return total


@pytest.mark.slow
def test_a_scrape_adds_up_every_web_process_and_the_commands(cli, cli_env):
    env = {**cli_env, "PAPERROUTE_METRICS_TOKEN": "s3cret"}
    assert cli("migrate", env=env).returncode == 0
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "paperroute", "serve", "--port", str(port), "--workers", "2", "--no-worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                get(base + "/healthz")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
        # An ingest while the site serves: its counts join the server's.
        ingest = cli("ingest", "jsonl", str(FIXTURES / "seed-papers.jsonl"), "--quiet", env=env)
        assert ingest.returncode == 0, ingest.stderr.decode()
        for _ in range(12):  # spread over both web processes by the kernel
            assert get(base + "/")[0] == 200
        assert get(base + "/no-such-page")[0] == 404
        assert get(base + "/metrics")[0] == 401
        status, text = get(base + "/metrics", token="s3cret")
    finally:
        stop_server(server)
    assert status == 200
    assert sample(text, "paperroute_http_requests_total", route="home", method="GET", status="200") == 12
    assert sample(text, "paperroute_http_requests_total", route="unmatched", status="404") == 1
    assert sample(text, "paperroute_http_request_duration_seconds_count", route="home") == 12
    assert sample(text, "paperroute_http_request_duration_seconds_bucket", route="home", le="+Inf") == 12
    assert sample(text, "paperroute_papers_ingested_total", source="jsonl", outcome="new") == 45
    assert sample(text, "paperroute_ingests_total", source="jsonl", result="ok") == 1
    assert "paperroute_index_lag_papers 0.0" in text
    assert 'paperroute_health_check_ok{check="index"} 1.0' in text


def test_digest_runs_are_counted(settings):
    from datetime import date

    from prometheus_client import REGISTRY

    from paperroute import metrics
    from paperroute.digest.periods import daily
    from paperroute.digest.runs import RunReport
    from paperroute.digest.sender import PassReport

    def value(name, **labels):
        return REGISTRY.get_sample_value(name, {"frequency": "daily", **labels}) or 0.0

    with_config(settings, metrics_token="s3cret")
    before = {o: value("paperroute_digest_messages_total", outcome=o) for o in ("sent", "retried")}
    composed = value("paperroute_digests_composed_total")
    report = RunReport(
        period=daily(date(2024, 11, 28)),
        composed=3,
        passes=[PassReport(sent=2, deferred=1), PassReport(sent=1)],
    )
    metrics.count_digest(report)
    assert value("paperroute_digests_composed_total") == composed + 3
    assert value("paperroute_digest_messages_total", outcome="sent") == before["sent"] + 3
    assert value("paperroute_digest_messages_total", outcome="retried") == before["retried"] + 1


# A worker running as its own unit (deploy/paperroute-worker.service) counts into the metrics
# directory beside `paperroute serve --no-worker`, which cleared the directory at every start.
_WORKER = """
import sys
from paperroute.cli import setup_django
setup_django()
from paperroute import metrics
metrics.configure(serving=False)  # as `paperroute worker` does
metrics.count_ingest("hf-daily", ok=False)
print("counted", flush=True)
sys.stdin.readline()  # meanwhile the web unit restarts
metrics.count_ingest("hf-daily", ok=False)
"""
_SERVE = "from paperroute.cli import setup_django; setup_django(); from paperroute import metrics; "
_SERVE += "metrics.configure(serving=True)"


@pytest.mark.slow
def test_a_restart_of_the_web_unit_keeps_the_running_workers_counts(cli_env, tmp_path):
    from prometheus_client import CollectorRegistry, generate_latest, multiprocess

    env = {**cli_env, "PAPERROUTE_DATA_DIR": str(tmp_path), "PAPERROUTE_METRICS_TOKEN": "t"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    subprocess.run([sys.executable, "-c", _SERVE], cwd=ROOT, env=env, check=True)
    worker = subprocess.Popen(
        [sys.executable, "-c", _WORKER],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout.readline() == "counted\n"
    subprocess.run([sys.executable, "-c", _SERVE], cwd=ROOT, env=env, check=True)  # the restart
    worker.communicate("go\n", timeout=60)

    def failed_ingests() -> float:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(tmp_path / "metrics"))
        return sample(generate_latest(registry).decode(), "paperroute_ingests_total", result="failed")

    assert failed_ingests() == 2
    # With no paperroute process left counting, a start empties the directory: zero again.
    subprocess.run([sys.executable, "-c", _SERVE], cwd=ROOT, env=env, check=True)
    assert failed_ingests() == 0
