"""`paperroute digest send|preview` and `paperroute worker`, as an operator runs them."""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from paperroute.digest.models import DigestRun, Outbox, SentPaper
from paperroute.worker import State, tick
from tests.conftest import ROOT, stop_server
from tests.digest.conftest import DAY, config, day_papers, subscriber
from tests.support import children, free_port, running, server_role, wait_until


@pytest.fixture
def mail_env(cli_env, sink):
    return {
        **cli_env,
        "PAPERROUTE_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
        "PAPERROUTE_FROM_EMAIL": "digest@papers.example.org",
        "PAPERROUTE_SITE_URL": "https://papers.example.org",
    }


def test_preview_prints_the_message_an_address_would_get(cli, mail_env):
    day_papers(12)
    subscriber("ada@example.org", max_papers=5)
    shown = cli(
        "digest",
        "preview",
        "--period",
        "daily",
        "--date",
        DAY.isoformat(),
        "--to",
        "ada@example.org",
        env=mail_env,
    )
    assert shown.returncode == 0, shown.stderr.decode()
    message = email.message_from_bytes(shown.stdout, policy=email.policy.default)
    assert message["To"] == "ada@example.org" and message["List-Unsubscribe-Post"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert text.count("https://papers.example.org/papers/2411.") == 5  # her preferences
    stranger = cli("digest", "preview", "--date", DAY.isoformat(), "--to", "new@example.org", env=mail_env)
    assert stranger.stdout.decode().count("https://papers.example.org/papers/2411.") >= 10  # the defaults
    assert not DigestRun.objects.exists()  # a preview records nothing


def test_dry_run_and_test_copies_leave_the_outbox_alone(cli, mail_env, sink):
    day_papers(3)
    subscriber("ada@example.org", topics=["sparse attention"])
    dry = cli("digest", "send", "--date", DAY.isoformat(), "--dry-run", env=mail_env)
    assert dry.returncode == 0
    assert b"1 confirmed subscriber(s), 1 would get a digest with 3 paper(s)" in dry.stdout
    copy = cli("digest", "send", "--date", DAY.isoformat(), "--to", "ops@example.org", env=mail_env)
    assert copy.returncode == 0 and b"sent a copy of the daily digest for 2024-11-28" in copy.stdout
    assert [m.to for m in sink.accepted] == ["ops@example.org"]
    assert not DigestRun.objects.exists() and not Outbox.objects.exists()


def test_exit_status_75_while_messages_wait_for_a_retry(cli, mail_env, sink):
    day_papers(2)
    subscriber("ada@example.org")
    subscriber("bob@example.org")
    sink.script["bob@example.org"] = ["421 4.3.2 closing, try later"]
    first = cli("digest", "send", "--date", DAY.isoformat(), env=mail_env)
    assert first.returncode == 75, first.stderr.decode()
    assert b"run still open: 1 message(s) waiting, next try at" in first.stdout
    assert b"421" in first.stderr
    Outbox.objects.filter(status=Outbox.PENDING).update(next_attempt_at=datetime.now(UTC))
    second = cli("digest", "send", "--date", DAY.isoformat(), env=mail_env)
    assert second.returncode == 0 and b"2 sent (1 by this process)" in second.stdout
    assert sorted(m.to for m in sink.accepted) == ["ada@example.org", "bob@example.org"]
    again = cli("digest", "send", "--date", DAY.isoformat(), env=mail_env)
    assert again.returncode == 0 and len(sink.accepted) == 2  # a complete run sends nothing more


def test_unusable_input_is_explained(cli, mail_env):
    empty = cli("digest", "send", env=mail_env)
    assert empty.returncode == 2 and b"there are no papers yet" in empty.stderr
    from django.utils import timezone

    from tests.community.helpers import add_paper

    add_paper("2411.40002", "Listed this morning", listed=timezone.localdate())
    early = cli("digest", "send", env=mail_env)
    assert early.returncode == 2 and b"today's papers are still coming in" in early.stderr
    bad = cli("digest", "send", "--period", "daily", "--date", "2024-13-01", env=mail_env)
    assert bad.returncode == 2 and b"expected a date as YYYY-MM-DD or a week as YYYY-Www" in bad.stderr
    # The calendar's last days gave an OverflowError's traceback and status 1.
    for period, day in (("weekly", "9999-W52"), ("daily", "9999-12-31")):
        far = cli("digest", "send", "--period", period, "--date", day, "--dry-run", env=mail_env)
        assert far.returncode == 2 and b"from 1980 to the end of next year" in far.stderr, far.stderr
        assert b"Traceback" not in far.stderr


@pytest.mark.django_db
def test_the_worker_sends_each_day_the_morning_after_and_weekly_on_mondays(smtp, settings):
    config(settings, digest_concurrency=1, digest_hour=6, worker_ingest=())
    day_papers(3)  # Thursday 2024-11-28
    day_papers(2, DAY + timedelta(days=1), prefix="2411.3")  # Friday
    subscriber("daily@example.org")
    subscriber("weekly@example.org", frequency="weekly")
    state = State(last_sync=time.monotonic())
    said = []

    def at(day_offset: int, hour: int) -> datetime:
        return datetime(2024, 11, 28, hour, tzinfo=UTC) + timedelta(days=day_offset)

    tick(state, said.append, now=at(1, 5))  # Friday before DIGEST_HOUR: nothing yet
    assert smtp.accepted == []
    tick(state, said.append, now=at(1, 7))  # Friday: the daily digest of Thursday's papers
    tick(state, said.append, now=at(1, 8))  # an hour later: not again
    assert [m.to for m in smtp.accepted] == ["daily@example.org"]
    assert DigestRun.objects.filter(frequency="daily", period_start=DAY).exists()
    tick(state, said.append, now=at(2, 9))  # Saturday: Friday's, once the day is over
    assert len(smtp.accepted) == 2
    assert DigestRun.objects.filter(frequency="daily", period_start=DAY + timedelta(days=1)).exists()
    tick(state, said.append, now=at(3, 9))  # Sunday: no papers on Saturday, nothing
    assert len(smtp.accepted) == 2
    tick(state, said.append, now=at(4, 7))  # Monday: the weekly digest of the week before
    assert sorted(m.to for m in smtp.accepted) == ["daily@example.org"] * 2 + ["weekly@example.org"]
    assert DigestRun.objects.filter(frequency="weekly", period_start=DAY - timedelta(days=3)).exists()
    assert any("weekly digest for 2024-W48" in line for line in said)
    weekly = next(m for m in smtp.accepted if m.to == "weekly@example.org")
    # Sent the Monday after: "Trending this week" was said of the week before.
    assert "trending in the week of november 25" in smtp.text(weekly).lower()
    tick(state, said.append, now=at(5, 7))  # Tuesday: that week's digest is not sent again
    assert len(smtp.accepted) == 3


@pytest.mark.django_db
def test_a_paper_listed_after_the_digest_hour_is_in_the_daily_digest(smtp, settings):
    """Hugging Face lists papers all day: the digest went out at DIGEST_HOUR on the day itself,
    and a pick listed at noon (the kind that gets the most votes) never reached a subscriber."""
    config(settings, digest_concurrency=1, digest_hour=6, worker_ingest=())
    day_papers(3)  # Thursday 2024-11-28, announced at 01:00 UTC
    subscriber("daily@example.org")
    state = State(last_sync=time.monotonic())
    tick(state, lambda line: None, now=datetime(2024, 11, 28, 7, tzinfo=UTC))
    from tests.community.helpers import add_paper

    add_paper("2411.40001", "The noon pick", listed=DAY, hf_upvotes=80)
    for day in (29, 30):
        tick(state, lambda line: None, now=datetime(2024, 11, day, 7, tzinfo=UTC))
    assert "2411.40001" in SentPaper.objects.values_list("paper__key", flat=True)
    assert [m.to for m in smtp.accepted] == ["daily@example.org"]
    assert "The noon pick" in smtp.text(smtp.accepted[0])


@pytest.mark.django_db
def test_a_worker_down_on_monday_sends_the_weekly_digest_when_it_comes_back(smtp, settings):
    config(settings, digest_concurrency=1, digest_hour=6, worker_ingest=())
    day_papers(3)  # Thursday 2024-11-28
    subscriber("weekly@example.org", frequency="weekly")
    tick(State(last_sync=time.monotonic()), lambda line: None, now=datetime(2024, 12, 3, 7, tzinfo=UTC))
    assert [m.to for m in smtp.accepted] == ["weekly@example.org"]  # Tuesday, not Monday
    assert DigestRun.objects.filter(frequency="weekly", period_start=DAY - timedelta(days=3)).exists()


@pytest.mark.slow
@pytest.mark.parametrize("flag", ["", "--no-worker"])
def test_serve_runs_the_worker_beside_the_web_server_unless_told_not_to(cli_env, flag):
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "paperroute",
            "serve",
            "--port",
            str(port),
            "--workers",
            "1",
            *([flag] if flag else []),
        ],
        cwd=ROOT,
        env=cli_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    expected = 0 if flag else 1

    def up() -> list[list[int]]:
        """[the worker processes] once the web process is up and the workers are as many as expected."""
        assert server.poll() is None, "the server exited"
        roles = {pid: server_role(pid) for pid in children(server.pid)}
        workers = [pid for pid, role in roles.items() if role == "worker"]
        web = [pid for pid, role in roles.items() if role == "web"]
        return [workers] if web and len(workers) == expected else []

    try:
        # The server starts its worker once (a restart waits for the old one to exit), so the
        # expected count beside the web process is final; a second worker, or one despite
        # --no-worker, would never match.
        [workers] = wait_until(up, 30, f"the web process and {expected} worker(s)")
    finally:
        stop_server(server, timeout=30)
    for pid in workers:  # stopped with the server, not left behind
        wait_until(lambda pid=pid: not running(pid), 10, f"worker {pid} to end with the server")
    assert os.environ.get("PAPERROUTE_DATA_DIR")  # the test never touched the real data directory


@pytest.mark.django_db
def test_a_dry_run_of_a_composed_period_does_not_promise_digests_to_later_subscribers(smtp, settings):
    """A run takes the subscribers confirmed when it is composed; one who joins (or switches to
    weekly) afterwards waits for the next period. The dry run said they "would get a digest",
    and the send that followed mailed nobody."""
    from paperroute.digest import runs
    from paperroute.digest.periods import Period
    from paperroute.digest.smtp import messenger_factory

    config(settings, digest_concurrency=1)  # other threads cannot see the test's transaction
    day_papers(3)
    subscriber("ada@example.org")
    period = Period("daily", DAY, DAY)
    assert "1 would get a digest" in runs.dry_run(period).line()
    assert runs.send(period, messenger_factory=messenger_factory()).complete
    subscriber("bob@example.org")
    line = runs.dry_run(period).line()
    again = runs.send(period, messenger_factory=messenger_factory())
    assert [m.to for m in smtp.accepted] == ["ada@example.org"]  # bob waits for the next day
    assert "would get a digest" not in line, line
    assert "already composed" in line and "1 subscriber(s) who joined since" in line, line
    assert again.line().startswith("daily digest for 2024-11-28: 1 sent (0 by this process)")
