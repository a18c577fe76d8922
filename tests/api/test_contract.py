"""Contract: schemathesis generates requests from the OpenAPI document and checks every answer
against it (status codes, content types, bodies), with bounded examples, as a token of community A.

Schema-valid and schema-invalid requests both must get a documented answer and never a 500.
"""

import pytest
import schemathesis
import time_machine
from django.core import signals
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from tests.api import rest

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())

CHECKS = [checks.not_a_server_error, openapi_checks.status_code_conformance,
          openapi_checks.content_type_conformance, openapi_checks.response_schema_conformance,
          openapi_checks.response_headers_conformance]


@pytest.fixture
def contract_world(settings):
    """As Django's test client does: the WSGI app must not close the test's connection after each request."""
    settings.ARREARS_API_RATE_LIMIT = (100000, 60)
    cache.clear()
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        with time_machine.travel(rest.NOW, tick=False):
            yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_every_operation_answers_as_documented(case, contract_world, request):
    world = request.getfixturevalue("world_for_contract")
    who = "finance" if case.method == "POST" and case.path.endswith("/payments") else "manager"
    case.call_and_validate(headers={"Authorization": f"Bearer {world.tokens[who]}"}, checks=CHECKS)


@pytest.fixture
def world_for_contract(db):
    return rest.build()
