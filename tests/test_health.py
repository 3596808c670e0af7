"""/healthz and `paperroute status` say whether the site is well, and what is wrong when it is not."""

import json
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from paperroute import health, search
from paperroute.catalog.models import Paper
from paperroute.digest.models import DigestRun, Outbox
from tests.digest.conftest import subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    """Each test its own data directory: its own index, heartbeat and ingest records."""
    settings.DATA_DIR = tmp_path
    return tmp_path


def paper(key: str, changed_ago: timedelta = timedelta(0)) -> Paper:
    return Paper.objects.create(
        key=key, title_key=key, title=f"Paper {key}", changed_at=timezone.now() - changed_ago
    )


def healthz(client) -> tuple[int, dict]:
    response = client.get("/healthz")
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"] and "X-Page-Cache" not in response
    return response.status_code, response.json()


def test_a_fresh_site_is_well(client):
    status, body = healthz(client)
    assert status == 200 and body["ok"] is True
    assert set(body["checks"]) == {"database", "index", "worker", "outbox", "ingest"}
    assert body["checks"]["worker"] == {"ok": True, "running": False}
    assert body["checks"]["outbox"]["backlog"] == 0


def test_a_fresh_site_says_never_rather_than_none():
    search.sync(embed=False)  # the worker's first sync, of no papers
    text = "\n".join(health.lines(health.report()))  # what `paperroute status` prints
    assert "None" not in text, text
    assert "no papers indexed yet" in text and "catalogue changed never" in text, text


def test_papers_without_an_index_fail_until_it_is_synced(client):
    paper("2411.00001")
    status, body = healthz(client)
    assert status == 503 and "paperroute index sync" in body["checks"]["index"]["error"]
    search.sync(embed=False)
    status, body = healthz(client)
    assert status == 200 and body["checks"]["index"]["lag"] == 0


def test_index_lag_fails_only_once_the_papers_have_waited_too_long(client):
    paper("2411.00001", timedelta(hours=2))
    search.sync(embed=False)
    paper("2411.00002")  # just ingested: the worker syncs within minutes
    status, body = healthz(client)
    assert status == 200 and body["checks"]["index"]["lag"] == 1
    paper("2411.00003", timedelta(hours=1))
    status, body = healthz(client)
    index = body["checks"]["index"]
    assert status == 503 and index["lag"] == 2 and "not in the search index" in index["error"]


def test_the_worker_heartbeat(client, data_dir):
    beat = health.Heartbeat(data_dir / "status")
    beat.tick_started()
    status, body = healthz(client)
    worker = body["checks"]["worker"]
    assert status == 200 and worker["running"] and worker["busy_since"] == worker["beat"]
    beat.tick_finished()
    assert healthz(client)[1]["checks"]["worker"]["busy_since"] is None
    # A worker killed without a chance to say so leaves its last beat behind.
    stale = json.loads(beat.path.read_text())
    stale["beat"] = (timezone.now() - timedelta(minutes=10)).isoformat()
    beat.path.write_text(json.dumps(stale))
    status, body = healthz(client)
    assert status == 503 and "no heartbeat" in body["checks"]["worker"]["error"]
    beat.clear()  # stopped on purpose
    assert healthz(client)[0] == 200


def test_the_outbox_backlog_and_overdue_messages(client):
    run = DigestRun.objects.create(
        frequency="daily",
        period_start=date(2024, 11, 28),
        period_end=date(2024, 11, 28),
        status=DigestRun.SENDING,
    )
    for n, due in enumerate([timedelta(minutes=-5), timedelta(minutes=5)]):
        who = subscriber(f"r{n}@example.org")
        Outbox.objects.create(
            run=run,
            subscriber=who,
            email=who.email,
            message_id=f"<{n}@x>",
            subject="s",
            message=b"",
            next_attempt_at=timezone.now() + due,
        )
    status, body = healthz(client)
    outbox = body["checks"]["outbox"]
    assert status == 200 and outbox["backlog"] == 2 and outbox["overdue"] == 0
    assert outbox["open_runs"] == [
        {"run": "daily-2024-11-28", "status": "sending", "waiting": 2, "overdue": 0}
    ]
    Outbox.objects.filter(email="r0@example.org").update(next_attempt_at=timezone.now() - timedelta(hours=2))
    status, body = healthz(client)
    assert status == 503 and body["checks"]["outbox"]["overdue"] == 1


def test_a_scheduled_source_that_stops_ingesting_fails(client, settings, data_dir):
    settings.CONFIG = settings.CONFIG.replace(worker_ingest=("arxiv-rss",), worker_ingest_minutes=60)
    status, body = healthz(client)
    assert status == 200 and body["checks"]["ingest"]["sources"]["arxiv-rss"]["ok"]  # not yet tried
    health.record_ingest("arxiv-rss", ok=True, line="arxiv-rss: 3 records: 3 new")
    health.record_ingest("jsonl", ok=False, line="not JSON")  # by hand: not the worker's business
    status, body = healthz(client)
    sources = body["checks"]["ingest"]["sources"]
    assert status == 200 and sources["arxiv-rss"]["line"] == "arxiv-rss: 3 records: 3 new"
    assert sources["jsonl"]["ok"] is False
    record = data_dir / "status" / "ingest-arxiv-rss.json"
    old = json.loads(record.read_text())
    old["success"] = (timezone.now() - timedelta(days=1)).isoformat()
    record.write_text(json.dumps(old))
    health.record_ingest("arxiv-rss", ok=False, line="arXiv is down")
    status, body = healthz(client)
    assert status == 503 and "arxiv-rss" in body["checks"]["ingest"]["error"]


def test_healthz_is_never_served_from_the_page_cache(client, settings):
    settings.CONFIG = settings.CONFIG.replace(page_cache_seconds=300)
    first = client.get("/healthz").json()["time"]
    DigestRun.objects.create(
        frequency="daily",
        period_start=date(2024, 11, 28),
        period_end=date(2024, 11, 28),
        status=DigestRun.SENDING,
    )
    second = client.get("/healthz").json()
    assert second["checks"]["outbox"]["open_runs"] and second["time"] >= first


@pytest.mark.slow
def test_status_command(cli, cli_env):
    result = cli("status")
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode()
    assert out.startswith("ok") and "no worker runs on this host" in out
    as_json = cli("status", "--json")
    assert as_json.returncode == 0 and json.loads(as_json.stdout)["checks"]["database"]["ok"]
    cli("ingest", "jsonl", str(Path(__file__).parent / "fixtures" / "seed-papers.jsonl"))
    ingested = cli("status", "--json")
    assert json.loads(ingested.stdout)["checks"]["ingest"]["sources"]["jsonl"]["ok"] is True
    # A run by hand that failed says when, and why, beside the last success (it read "jsonl:
    # never (failed)", under "ingest ok").
    cli("ingest", "jsonl", str(Path(cli_env["PAPERROUTE_DATA_DIR"]) / "missing.jsonl"))
    (line,) = [row for row in cli("status").stdout.decode().splitlines() if row.startswith("ingest")]
    assert re.search(r"jsonl: the run at \S+ failed \(.*missing\.jsonl.*\); last success \S+", line), line
    shutil.rmtree(Path(cli_env["PAPERROUTE_DATA_DIR"]) / "search")  # the index is lost
    failing = cli("status")
    assert failing.returncode == 1 and "FAIL" in failing.stdout.decode()
    assert "there is no search index" in failing.stdout.decode()


def test_an_https_site_answers_health_checks_and_scrapes_over_plain_http(client, settings):
    """A load balancer or Prometheus asks a web process directly, over http; on an https site
    both got a redirect, which HAProxy counts as up whatever the site's health."""
    settings.SECURE_SSL_REDIRECT = True  # what an https PAPERROUTE_SITE_URL sets
    settings.CONFIG = settings.CONFIG.replace(metrics_networks=("127.0.0.0/8",))
    status, body = healthz(client)
    assert status == 200 and body["ok"] is True
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    page = client.get("/trending")
    assert page.status_code == 301 and page["Location"].startswith("https://")


def test_an_index_this_version_cannot_read_fails_and_says_so(client, data_dir):
    """After an upgrade, an index an older version wrote (another schema) could not be opened:
    searches found nothing and said the index "has not been built yet", while /healthz said the
    index was well."""
    import tantivy

    from paperroute.search.index import current_generation, root_dir

    paper("2411.00001")
    search.sync(embed=False)
    lexical = current_generation(root_dir(Path(data_dir))) / "lexical"
    shutil.rmtree(lexical)
    lexical.mkdir()
    older = tantivy.SchemaBuilder()
    older.add_text_field("old_field", stored=True)
    tantivy.Index(older.build(), path=str(lexical))
    status, body = healthz(client)
    assert status == 503 and "cannot be read" in body["checks"]["index"]["error"], body
    found = search.search("paper")
    assert found.hits == [] and "cannot be read" in found.message and "not been built" not in found.message
    shutil.rmtree(root_dir(Path(data_dir)))  # an operator removes it: now it is missing
    assert "not been built" in search.search("paper").message
    search.rebuild(embed=False)
    assert healthz(client)[0] == 200 and search.search("paper").hits


def test_tables_an_upgrade_has_not_migrated_fail_the_database_check(client):
    """Every page failed on the missing columns while /healthz answered 200."""
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    # As if the new version's latest migration had not run (a gap below an applied one is not
    # what an upgrade leaves, and Django's plan does not look for it).
    (latest,) = [name for app, name in MigrationLoader(None).graph.leaf_nodes() if app == "digest"]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'digest' AND name = %s", [latest])
    status, body = healthz(client)
    assert status == 503 and body["ok"] is False
    assert body["checks"]["database"]["error"] == (
        "the database is not up to date with this version: run `paperroute migrate`"
    )


def test_migrations_a_newer_version_applied_leave_the_database_well(client):
    """While hosts are upgraded one at a time, those still on the older version keep serving."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) VALUES ('digest', '0099_newer', %s)",
            [timezone.now()],
        )
    status, body = healthz(client)
    assert status == 200 and body["checks"]["database"]["ok"] is True


def test_an_index_an_older_version_made_is_said_until_the_worker_rebuilt_it(data_dir):
    """After an upgrade, docs/deploying.md says `paperroute status` shows when the rebuild is
    done; its line read the same before and after."""
    from paperroute.search.index import SCHEMA, current_generation, read_manifest, root_dir

    paper("2411.00001")
    search.sync(embed=False)
    manifest_path = current_generation(root_dir(Path(data_dir))) / "manifest.json"
    manifest = read_manifest(manifest_path.parent)
    manifest_path.write_text(json.dumps({**manifest, "schema": SCHEMA - 1}))  # as an older version wrote it
    result = health.report()
    assert result["ok"] is True  # it is served meanwhile
    (line,) = [line for line in health.lines(result) if line.startswith("index")]
    assert "made by an older version: the worker rebuilds it" in line, line
    search.sync(embed=False)  # the worker's sync, which rebuilds it
    (line,) = [line for line in health.lines(health.report()) if line.startswith("index")]
    assert "older version" not in line, line


def test_a_failing_check_is_not_logged_at_every_poll(client, capsys):
    """Each 503 wrote "ERROR serve: Service Unavailable: /healthz": a line every few seconds for
    each load balancer, for as long as a check failed. The page's body says which one."""
    paper("2411.00001")  # papers and no index: the index check fails
    for _ in range(3):
        assert healthz(client)[0] == 503
    assert "/healthz" not in capsys.readouterr().err
    assert client.get("/no-such-page").status_code == 404
    assert "WARNING serve: Not Found: /no-such-page" in capsys.readouterr().err  # the others stay
