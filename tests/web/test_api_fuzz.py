"""Schemathesis fuzzes every API operation in-process: no input may cause a 5xx."""

from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from paperroute.wsgi import application
from tests.community.helpers import add_paper, user

SCHEMA = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("operation", [op.ok() for op in SCHEMA.get_all_operations()],
                         ids=lambda op: op.label)
def test_no_input_makes_the_api_fail(operation, client):
    add_paper("2411.00701", listed=date(2024, 11, 28), hf_upvotes=2)
    add_paper("hep-th/9901001", listed=date(1999, 1, 4))
    from paperroute.community import tokens

    _, secret = tokens.create(user("fuzzer"), "fuzz")

    @given(case=operation.as_strategy())
    @settings(max_examples=40, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {secret}"}
        response = case.call()
        assert response.status_code < 500, (case.path, case.query, response.text[:300])

    check()
