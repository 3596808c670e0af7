"""Hugging Face's own client, huggingface_hub, reads this site's API as it reads huggingface.co:
`HfApi(endpoint=<this site>)` against a live `paperroute serve`, and every value it parses equals
what the site itself shows."""

import subprocess
import sys
import time
import urllib.request
from datetime import UTC, date, datetime

import pytest

from paperroute.community import comments, listings, submissions
from paperroute.community.models import Submission
from tests.community.helpers import add_paper, user
from tests.conftest import ROOT, module_database, stop_server, subprocess_env
from tests.support import free_port

pytestmark = pytest.mark.slow

hub = pytest.importorskip("huggingface_hub")


def _catalogue() -> None:
    """A few papers, one submitted and commented on."""
    add_paper(
        "2411.00801",
        "Speculative decoding for fast inference",
        listed=date(2024, 11, 28),
        hf_upvotes=7,
        abstract="We accelerate inference with speculative decoding.",
        code="https://github.com/a/spec",
        published=datetime(2024, 11, 26, 9, tzinfo=UTC),
    )
    add_paper(
        "2411.00802",
        "Graph networks for molecules",
        listed=date(2024, 11, 28),
        abstract="Molecular property prediction with graph networks.",
        published=datetime(2024, 11, 26, 15, tzinfo=UTC),
    )
    third = add_paper(
        "2411.00803",
        "Decoding with a tiny draft model",
        listed=date(2024, 11, 20),
        hf_upvotes=2,
        published=datetime(2024, 11, 18, 12, tzinfo=UTC),
    )
    Submission.objects.create(paper=third, user=user("alice"))
    comments.add(user("bob"), third, "Nice paper")


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker, tmp_path_factory):
    """A live server over the catalogue, with the keyword search index built: one for the module,
    whose tests only read (a server and a catalogue for each took 5 s a test)."""
    data_dir = tmp_path_factory.mktemp("hf") / "data"
    with module_database(django_db_blocker):
        _catalogue()
        env = subprocess_env(data_dir)
        index = [sys.executable, "-m", "paperroute", "index", "sync", "--no-embed", "--quiet"]
        assert subprocess.run(index, cwd=ROOT, env=env, capture_output=True, timeout=120).returncode == 0
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "paperroute", "serve", "--port", str(port), "--workers", "1"],
            cwd=ROOT,
            env={**env, "PAPERROUTE_SITE_URL": url},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/openapi.json", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    stop_server(server)
                    raise
                time.sleep(0.3)
        try:
            yield url
        finally:
            # The client keeps its connection to the server open, and a stopping server waits
            # 2 s for a request on a kept-alive connection before it closes it.
            hub.close_session()
            stop_server(server)


@pytest.fixture
def api(site, monkeypatch, tmp_path):
    """HfApi pointed at the site; no token, no telemetry, nothing sent to huggingface.co."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    # Offline mode refuses every request, even to another endpoint: it has to be off.
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    return hub.HfApi(endpoint=site, token=False)


def shown(key: str):
    """The paper as the site shows it: counts and submitter as on its page."""
    return listings.annotated(listings.Paper.objects.filter(key=key)).get()


def assert_matches_site(info, key: str) -> None:
    paper = shown(key)
    assert info.id == key and info.title == paper.title and info.summary == paper.abstract
    assert [a.name for a in info.authors] == paper.author_names
    # huggingface_hub turns 0 upvotes into None (it falls back with `or`).
    assert (info.upvotes or 0) == paper.upvotes
    assert info.published_at == paper.published
    assert info.discussion_id == str(paper.pk)
    assert info.comments == paper.num_comments
    who = submissions.submitter(paper)
    assert (info.submitted_by.username if info.submitted_by else "") == who


def test_list_daily_papers_with_every_parameter(api):
    day = list(api.list_daily_papers(date="2024-11-28"))
    # Hugging Face's default order: newest first.
    assert [p.id for p in day] == ["2411.00802", "2411.00801"]
    for info in day:
        assert_matches_site(info, info.id)
    assert [p.id for p in api.list_daily_papers(week="2024-W48", sort="publishedAt")] == [
        "2411.00802",
        "2411.00801",
    ]
    assert [p.id for p in api.list_daily_papers(month="2024-11", sort="trending")][0] == "2411.00801"
    assert [p.id for p in api.list_daily_papers(month="2024-11", p=1, limit=2)] == ["2411.00803"]
    mine = list(api.list_daily_papers(submitter="alice"))
    assert [p.id for p in mine] == ["2411.00803"] and mine[0].submitted_by.username == "alice"
    assert_matches_site(mine[0], "2411.00803")
    assert len(list(api.list_daily_papers(sort="trending", limit=1))) == 1


def test_an_endpoint_written_with_a_trailing_slash(api, site):
    """The client joins the endpoint and its paths as they are: //api/daily_papers."""
    slashed = hub.HfApi(endpoint=site + "/", token=False)
    assert [p.id for p in slashed.list_daily_papers(date="2024-11-28")] == ["2411.00802", "2411.00801"]
    assert slashed.paper_info("2411.00801").title == "Speculative decoding for fast inference"
    assert slashed.read_paper("2411.00801").startswith("# Speculative decoding for fast inference")
    assert [p.id for p in slashed.list_papers(query="molecules")] == ["2411.00802"]
    with pytest.raises(hub.errors.HfHubHTTPError) as missing:
        slashed.paper_info("2411.99999")
    assert "2411.99999" in (missing.value.server_message or "")


def test_a_mistyped_parameter_is_told_once_in_words(api):
    with pytest.raises(hub.errors.BadRequestError) as refused:
        list(api.list_daily_papers(week="2024-W9"))
    # What to write, once: not the regular expression, not the same words twice.
    assert refused.value.server_message == "week: use YYYY-Www (an ISO week), such as 2024-W48"
    with pytest.raises(hub.errors.BadRequestError) as refused:
        list(api.list_daily_papers(date="28.11.2024", limit=500))
    assert refused.value.server_message.splitlines()[0] == (
        "date: use YYYY-MM-DD, such as 2024-11-28; limit: Input should be less than or equal to 100"
    )


def test_paper_info_and_read_paper(api, site):
    info = api.paper_info("2411.00801")
    assert_matches_site(info, "2411.00801")
    paper = shown("2411.00801")
    assert info.submitted_at == datetime(2024, 11, 28, tzinfo=UTC)
    assert info.github_repo == paper.code_link == "https://github.com/a/spec"
    assert info.project_page is None and info.ai_summary is None
    page = urllib.request.urlopen(f"{site}/papers/2411.00801").read().decode()
    assert paper.title in page
    text = api.read_paper("2411.00801")
    assert text.startswith("# Speculative decoding for fast inference")
    with pytest.raises(hub.errors.HfHubHTTPError) as missing:
        api.paper_info("2411.99999")
    assert missing.value.response.status_code == 404
    # The client shows the server's own words, read from where Hugging Face puts them.
    assert "2411.99999" in (missing.value.server_message or "")
    with pytest.raises(hub.errors.HfHubHTTPError) as unread:
        api.read_paper("2411.99999")
    # In text, which the client shows (an HTML page it drops).
    assert unread.value.response.status_code == 404
    assert "no paper with the id '2411.99999'" in (unread.value.server_message or "")


def test_list_papers_searches(api):
    found = list(api.list_papers(query="decoding"))
    assert {p.id for p in found} == {"2411.00801", "2411.00803"}
    for info in found:
        assert_matches_site(info, info.id)
    assert len(list(api.list_papers(query="decoding", limit=1))) == 1
    # Without a query the client sends no q: the newest papers.
    assert [p.id for p in api.list_papers()] == ["2411.00802", "2411.00801", "2411.00803"]
    assert [p.id for p in api.list_papers(limit=1)] == ["2411.00802"]
    with pytest.raises(hub.errors.BadRequestError) as refused:
        list(api.list_papers(query="decoding", limit=500))
    assert "limit" in (refused.value.server_message or "")


def test_offline_mode_stops_the_client_before_it_sends_anything(api, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(hub.errors.OfflineModeIsEnabled):
        api.paper_info("2411.00801")
