"""Property-based run of the API against its own OpenAPI schema (schemathesis).

Every operation gets valid (positive) and invalid (negative) requests
generated from the schema, sent in-process to Django's WSGI application with
a role's token (viewer, staff, officer), and every answer must pass the five
standard checks: not a server error, a status the schema documents for the
operation, its content type, a body matching the documented schema (error
bodies included) and the documented headers (ETag, WWW-Authenticate…). The
number of generated cases is printed. API_FUZZ_EXAMPLES (default 8) sets the
officer's examples per operation and mode (the other roles get a third);
raise it for a longer local run.
"""

import os
from collections import Counter

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.modes import GenerationMode

from tests import factories

from .conftest import REPORT

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture
def wsgi_app(monkeypatch):
    """Django's WSGI app, in this thread, on the test database.

    Like Django's test client, keep the connection open between requests: the
    test's transaction lives on it. And no throttling: thousands of requests.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    monkeypatch.setattr(UserRateThrottle, "rate", "1000000/min", raising=False)
    monkeypatch.setattr(AnonRateThrottle, "rate", "1000000/min", raising=False)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def some_records(cast):
    """A few records with small ids, so that generated ids hit real rows too."""
    partner = factories.PartnerFactory()
    contact = factories.ContactFactory(partner=partner)
    topic = factories.TopicFactory(slug="trade")
    mission = factories.TradeMissionFactory()
    engagement = factories.EngagementFactory(partners=[partner], contacts=[contact], topics=[topic])
    factories.EngagementFactory(confidentiality="restricted", staff=[cast["staff"]])
    factories.CommitmentFactory(partner=partner, engagement=engagement)
    factories.GiftFactory(partner=partner, engagement=engagement)
    factories.AgreementFactory(partners=[partner])
    return mission


@pytest.mark.parametrize("role", ["officer", "staff", "viewer"])
def test_every_generated_request_is_answered_as_the_schema_says(role, cast, wsgi_app, some_records):
    from rest_framework.authtoken.models import Token

    token = Token.objects.get_or_create(user=cast[role])[0].key
    auth = {"Authorization": f"Token {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", wsgi_app)
    counts = Counter()
    failures = []
    examples = EXAMPLES if role == "officer" else max(2, EXAMPLES // 3)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 8 * 6  # list, create, retrieve, update, partial_update, destroy

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=examples,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                response = case.call(headers=auth)
                counts["cases"] += 1
                counts[f"{response.status_code // 100}xx"] += 1
                try:
                    case.validate_response(response, checks=CHECKS, headers=auth)
                except FailureGroup as group:
                    for failure in group.exceptions:
                        failures.append(f"{operation.label} [{mode.value}] {response.status_code}: {failure.title}")
                except AssertionError as exc:  # a single failure
                    failures.append(f"{operation.label} [{mode.value}] {response.status_code}: {exc}")

            run()

    REPORT[f"schemathesis-{role}"] = (
        f"schemathesis ({role}): {len(operations)} operations x 2 modes, {counts['cases']} generated requests, "
        f"{len(CHECKS)} checks each; 2xx={counts['2xx']} 4xx={counts['4xx']} 5xx={counts['5xx']}; "
        f"failures={len(failures)}"
    )
    assert not failures, "\n".join(sorted(set(failures))[:60])
    assert counts["5xx"] == 0
    assert counts["2xx"] > 0 and counts["4xx"] > 0
