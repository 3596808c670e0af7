"""`paperroute mcp --http` behind a reverse proxy: its per-client limit counts the client that
PAPERROUTE_TRUSTED_PROXIES says the proxy forwarded, as the site's own /mcp does."""

from datetime import date

import httpx2
import pytest

from tests.community.helpers import add_paper
from tests.conftest import start_server, stop_server
from tests.support import free_port

pytestmark = pytest.mark.slow

PROXY = "127.0.0.2"  # a proxy on another address than the server's own (loopback holds 127/8)
CALL = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {"name": "paper", "arguments": {"id": "2411.00801"}},
}


def answer(http: httpx2.Client, url: str, forwarded_for: str, **headers: str) -> str:
    """The text of a `paper` call's answer, sent with this X-Forwarded-For."""
    response = post(http, url, {"X-Forwarded-For": forwarded_for, **headers})
    assert response.status_code == 200, response.text
    return response.json()["result"]["content"][0]["text"]


def post(http: httpx2.Client, url: str, headers: dict[str, str]) -> httpx2.Response:
    return http.post(url, json=CALL, headers={"Accept": "application/json, text/event-stream", **headers})


def test_the_standalone_server_counts_the_client_a_trusted_proxy_names(cli_env):
    add_paper("2411.00801", "Speculative decoding for fast inference", listed=date(2024, 11, 28))
    env = {**cli_env, "PAPERROUTE_TRUSTED_PROXIES": PROXY, "PAPERROUTE_RATE_MCP": "2/hour"}
    port = free_port()
    server = start_server("mcp", "--http", "--port", str(port), env=env, port=port)
    try:
        url = f"http://127.0.0.1:{port}/mcp"
        via_proxy = httpx2.Client(transport=httpx2.HTTPTransport(local_address=PROXY), timeout=60)
        direct = httpx2.Client(timeout=60)
        with via_proxy, direct:
            # One client behind the proxy uses up its allowance ...
            assert '"id": "2411.00801"' in answer(via_proxy, url, "198.51.100.1")
            assert '"id": "2411.00801"' in answer(via_proxy, url, "198.51.100.1")
            assert "rate limited" in answer(via_proxy, url, "198.51.100.1")
            # ... and another, behind the same proxy, still has its own: the proxy's address is
            # not everyone's.
            assert '"id": "2411.00801"' in answer(via_proxy, url, "198.51.100.2")
            # A client that is no trusted proxy cannot claim to be someone new with each call.
            answers = [answer(direct, url, f"203.0.113.{n}") for n in range(1, 4)]
            assert "rate limited" in answers[-1]
    finally:
        stop_server(server)


def test_the_standalone_server_answers_under_the_sites_name_alone(cli_env):
    """A proxy passes a call on with the site's own name as its Host (deploy/nginx.conf does):
    the SDK's check knew only localhost and refused each one (421); a name the site does not
    answer to is still refused, as the site's own /mcp refuses it."""
    add_paper("2411.00801", "Speculative decoding for fast inference", listed=date(2024, 11, 28))
    env = {**cli_env, "PAPERROUTE_SITE_URL": "https://papers.example.org"}
    port = free_port()
    server = start_server("mcp", "--http", "--port", str(port), env=env, port=port)
    try:
        url = f"http://127.0.0.1:{port}/mcp"
        with httpx2.Client(timeout=60) as http:
            site = answer(http, url, "198.51.100.1", Host="papers.example.org")
            assert '"id": "2411.00801"' in site
            assert '"id": "2411.00801"' in answer(http, url, "198.51.100.1")  # 127.0.0.1:port
            refused = post(http, url, {"Host": "rebound.example"})
            assert refused.status_code == 400
            assert "does not answer to the name 'rebound.example'" in refused.json()["detail"]
    finally:
        stop_server(server)
