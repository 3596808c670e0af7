"""Schemathesis fuzzes every API operation in-process with all its checks: no input may cause a
5xx, and every answer must match the published schema (status codes, content types, bodies,
headers), refuse invalid input and accept valid input."""

from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS, load_all_checks

from paperroute.wsgi import application
from tests.community.arxiv_replay import respond
from tests.community.helpers import add_paper, user
from tests.replay import ReplayServer

SCHEMA = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
load_all_checks()
# Every check but ignored_auth: each case below carries a valid token in its header, so a request
# it sends "with invalid auth" (a made-up session cookie) is still rightly accepted. Refusing
# requests without a valid token is tested in test_api.py.
ALL_CHECKS = [check for check in CHECKS.get_all() if check.__name__ != "ignored_auth"]


def test_all_checks_are_many():
    names = set(CHECKS.get_all_names())
    assert {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
        "negative_data_rejection",
        "positive_data_acceptance",
    } <= names


@pytest.fixture
def arxiv(settings):
    """POST /api/papers/index asks a replay of arXiv's API, never arXiv itself."""
    with ReplayServer(respond) as server:
        settings.CONFIG = settings.CONFIG.replace(arxiv_api_url=server.url + "/api/query")
        yield server


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "operation", [op.ok() for op in SCHEMA.get_all_operations()], ids=lambda op: op.label
)
def test_no_input_makes_the_api_fail(operation, client, arxiv):
    paper = add_paper("2411.00701", listed=date(2024, 11, 28), hf_upvotes=2)
    add_paper("hep-th/9901001", listed=date(1999, 1, 4))
    from paperroute.community import authors, tokens

    _, secret = tokens.create(user("fuzzer"), "fuzz")
    # A verified author of the first paper, so that setting its links gets past the permission.
    authors.approve(user("moderator", staff=True), authors.claim(user("fuzzer"), paper, 0))

    @given(case=operation.as_strategy())
    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(case):
        # The in-process transport hands the body over as sent; a real client would gunzip it.
        case.headers = {
            **(case.headers or {}),
            "Authorization": f"Bearer {secret}",
            "Accept-Encoding": "identity",
        }
        case.call_and_validate(checks=ALL_CHECKS)

    check()
