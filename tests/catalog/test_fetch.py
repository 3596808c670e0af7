"""The live-service fetchers, against a local server replaying recorded responses."""

import pytest

from paperroute.catalog.harvest import HarvestStopped, Request, run
from paperroute.catalog.ingest import Importer
from paperroute.catalog.models import HarvestCheckpoint, Paper
from paperroute.catalog.records import UnusableInput
from paperroute.catalog.sources.fetch import FetchError, PoliteClient, retry_after_seconds
from tests.conftest import fixture_bytes
from tests.replay import ReplayServer, Reply

pytestmark = pytest.mark.django_db
OAI_PAGES = {
    "": "arxiv_oai_pmh/listrecords_oai_dc_cs_2024-01-27_with_resumptionToken.xml",
    "6960524|1001": "arxiv_oai_pmh/listrecords_arXiv_condmat_2015-03-26_resumed_with_resumptionToken.xml",
    "788421|43001": "arxiv_oai_pmh/listrecords_arXiv_hep-th_no_token.xml",
}
DELAY = 0.3


def client(**kwargs):
    return PoliteClient(delay=DELAY, timeout=10, contact="lab@example.org", **kwargs)


def harvest(url, **kwargs):
    importer = Importer("arxiv-oai")
    return run(
        Request(source="arxiv-oai", input=url, **kwargs),
        client=client(),
        importer=importer,
        log=lambda m: None,
    )


def test_oai_follows_tokens_honours_retry_after_and_waits_between_requests():
    first_try = {"6960524|1001": True}

    def respond(path, params):
        token = params.get("resumptionToken", "")
        if first_try.pop(token, False):
            return Reply(b"busy", status=503, headers={"Retry-After": "1"})
        return Reply(fixture_bytes(OAI_PAGES[token]))

    with ReplayServer(respond) as server:
        summary = harvest(server.url + "/oai", since="2024-01-25", set_spec="cs", metadata_prefix="oai_dc")
    assert summary.new == 10 and Paper.objects.count() == 10
    seen = server.requests
    assert [r.params.get("resumptionToken", "") for r in seen] == [
        "",
        "6960524|1001",
        "6960524|1001",
        "788421|43001",
    ]
    assert seen[0].params == {
        "verb": "ListRecords",
        "metadataPrefix": "oai_dc",
        "from": "2024-01-25",
        "set": "cs",
    }
    assert seen[1].params == {"verb": "ListRecords", "resumptionToken": "6960524|1001"}
    gaps = [b.at - a.at for a, b in zip(seen, seen[1:])]
    assert gaps[1] >= 1.0  # Retry-After: 1
    assert min(gaps) >= DELAY - 0.01
    assert "paperroute/" in seen[0].user_agent and "mailto:lab@example.org" in seen[0].user_agent
    checkpoint = HarvestCheckpoint.objects.get()
    assert checkpoint.finished and checkpoint.pages == 3


def test_interrupted_harvest_resumes_from_its_last_token():
    broken = {"on": True}

    def respond(path, params):
        token = params.get("resumptionToken", "")
        if token == "788421|43001" and broken["on"]:
            return Reply(b"<html>Internal error</html>", status=404, content_type="text/html")
        return Reply(fixture_bytes(OAI_PAGES[token]))

    with ReplayServer(respond) as server:
        with pytest.raises(HarvestStopped, match="page 3 could not be used .*HTTP 404.* 2 page"):
            harvest(server.url + "/oai", metadata_prefix="oai_dc")
        assert Paper.objects.count() == 7
        assert HarvestCheckpoint.objects.get().token == "788421|43001"
        broken["on"] = False
        server.requests.clear()
        summary = harvest(server.url + "/oai", metadata_prefix="oai_dc")
    assert [r.params.get("resumptionToken") for r in server.requests] == ["788421|43001"]
    assert summary.new == 3 and Paper.objects.count() == 10
    assert HarvestCheckpoint.objects.get().finished


def test_a_later_page_that_is_not_xml_stops_the_harvest_after_storing_the_pages_before_it():
    # Later pages are parsed in a worker process while the previous one is stored; what goes
    # wrong there must surface exactly as it would in-process.
    def respond(path, params):
        token = params.get("resumptionToken", "")
        if token == "788421|43001":
            return Reply(b"<html><body>Service temporarily unavailable", content_type="text/html")
        return Reply(fixture_bytes(OAI_PAGES[token]))

    with (
        ReplayServer(respond) as server,
        pytest.raises(HarvestStopped, match="page 3 could not be used .*2 page"),
    ):
        harvest(server.url + "/oai", metadata_prefix="oai_dc")
    assert Paper.objects.count() == 7
    assert HarvestCheckpoint.objects.get().token == "788421|43001"


def test_explicit_resume_token():
    with ReplayServer(lambda p, params: Reply(fixture_bytes(OAI_PAGES[params["resumptionToken"]]))) as server:
        summary = harvest(server.url + "/oai", resume="788421|43001")
    assert summary.new == 3


def test_api_pages_by_100_from_where_the_last_page_ended_until_the_requested_maximum():
    # The first page holds 25 entries where 100 were asked for: the next starts at the 26th.
    files = {
        "0": "arxiv_atom_api/query_newapi_cs.AI-LG-CL_2026-08-02_25entries.xml",
        "25": "arxiv_atom_api/query_newapi_transformer_cs.LG_2026-06-14_5entries.xml",
    }
    with ReplayServer(lambda p, params: Reply(fixture_bytes(files[params["start"]]))) as server:
        summary = run(
            Request(
                source="arxiv-api", input=server.url + "/api/query?search_query=cat:cs.AI", max_results=30
            ),
            client=client(),
            importer=Importer("arxiv-api"),
            log=lambda m: None,
        )
    assert summary.new == 30
    assert [(r.params["start"], r.params["max_results"]) for r in server.requests] == [
        ("0", "100"),
        ("25", "100"),
    ]


def test_hf_daily_pages_until_an_empty_page():
    pages = {"0": fixture_bytes("hf_daily_papers/daily_papers_2026-07-31_30entries.json"), "1": b"[]"}
    with ReplayServer(lambda p, params: Reply(pages[params["p"]], content_type="application/json")) as server:
        summary = run(
            Request(source="hf-daily", input=server.url + "/api/daily_papers?date=2026-07-31"),
            client=client(),
            importer=Importer("hf-daily"),
            log=lambda m: None,
        )
    assert summary.new == 30
    assert [(r.params["date"], r.params["p"]) for r in server.requests] == [
        ("2026-07-31", "0"),
        ("2026-07-31", "1"),
    ]


def test_rss_error_feed_over_http_is_unusable():
    error = fixture_bytes("arxiv_rss/rss2_error_feed_bad-archive_2024-11-28.xml")
    with (
        ReplayServer(lambda p, params: Reply(error)) as server,
        pytest.raises(UnusableInput, match="Bad archive"),
    ):
        run(
            Request(source="arxiv-rss", input=server.url + "/rss/astroph"),
            client=client(),
            importer=Importer("arxiv-rss"),
            log=lambda m: None,
        )
    assert Paper.objects.count() == 0


def test_retry_after_forms():
    assert retry_after_seconds("7", 5) == 7
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", 5) == 0
    assert retry_after_seconds("soon", 5) == 5
    assert retry_after_seconds("100000", 5) == 600


def test_a_page_cut_short_stops_the_harvest_so_that_it_resumes_there():
    """A page cut short loses its resumption token, at the end: read as the last page, it ended
    the harvest as complete, and the pages after it were never fetched."""
    cut = {"on": True}

    def respond(path, params):
        token = params.get("resumptionToken", "")
        body = fixture_bytes(OAI_PAGES[token])
        if token == "6960524|1001" and cut["on"]:
            body = body[: len(body) * 3 // 5]
        return Reply(body)

    with ReplayServer(respond) as server:
        with pytest.raises(HarvestStopped, match="page 2 could not be used \\(the response was cut short\\)"):
            harvest(server.url + "/oai", metadata_prefix="oai_dc")
        checkpoint = HarvestCheckpoint.objects.get()
        assert checkpoint.token == "6960524|1001" and not checkpoint.finished
        cut["on"] = False
        server.requests.clear()
        harvest(server.url + "/oai", metadata_prefix="oai_dc")
    assert [r.params.get("resumptionToken") for r in server.requests] == ["6960524|1001", "788421|43001"]
    assert Paper.objects.count() == 10 and HarvestCheckpoint.objects.get().finished


def test_a_response_shorter_than_its_content_length_is_retried_then_refused():
    """http.client returns what came when the connection closes early; the cut body was used."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    served = []

    def serve():
        for _ in range(2):
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"<a>" * 30)
                served.append(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    polite = PoliteClient(delay=0, timeout=5, retries=1, sleep=lambda seconds: None)
    with pytest.raises(FetchError, match="the response ended after 90 of 1000 bytes"):
        polite.get(f"http://127.0.0.1:{port}/oai")
    thread.join(5)
    listener.close()
    assert len(served) == 2  # tried again before giving up


def test_a_stop_asked_during_a_retry_after_wait_ends_the_harvest_in_seconds():
    """arXiv may answer 503 with Retry-After of several minutes. A worker stopped then (systemd
    sends SIGTERM and kills after 90 s) waited out the whole delay before it looked again."""
    import os
    import signal
    import threading
    import time

    from paperroute import stopping

    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    stopping.install()
    try:
        with ReplayServer(
            lambda path, params: Reply(b"busy", status=503, headers={"Retry-After": "20"})
        ) as server:
            threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM)).start()
            started = time.monotonic()
            with pytest.raises(stopping.Stopped, match="stopped by SIGTERM"):
                run(
                    Request(source="arxiv-oai", input=server.url + "/oai", since="2024-01-25", set_spec="cs"),
                    client=client(retries=1),
                    importer=Importer("arxiv-oai"),
                    log=lambda m: None,
                )
            assert time.monotonic() - started < 5
        assert len(server.requests) == 1  # no request after the stop
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
        stopping._asked.clear()
