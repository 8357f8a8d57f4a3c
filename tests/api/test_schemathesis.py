"""Property-based run of the API against its own OpenAPI schema (schemathesis).

Every operation gets valid (positive) and invalid (negative) requests
generated from the schema, sent in-process to Django's WSGI application with
a role's token; no response may be a 5xx (`not_a_server_error`). The number
of generated cases is printed. API_FUZZ_EXAMPLES (default 12) sets the
examples per operation and mode; raise it for a longer local run.
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
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode

from tests import factories

from .conftest import REPORT

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "12"))


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
def test_no_generated_request_is_a_server_error(role, cast, wsgi_app, some_records):
    from rest_framework.authtoken.models import Token

    token = Token.objects.get_or_create(user=cast[role])[0].key
    auth = {"Authorization": f"Token {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", wsgi_app, headers=auth)
    counts = Counter()
    examples = EXAMPLES if role == "officer" else max(2, EXAMPLES // 3)
    operations = [result.ok() for result in schema.get_all_operations()]
    # list, create, retrieve, update, partial_update, destroy of 8 resources and of webhooks; the delivery log's 3
    assert len(operations) == 9 * 6 + 3

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
                case.validate_response(response, checks=[not_a_server_error], headers=auth)

            run()

    REPORT[f"schemathesis-{role}"] = (
        f"schemathesis ({role}): {len(operations)} operations x 2 modes, {counts['cases']} generated requests; "
        f"2xx={counts['2xx']} 4xx={counts['4xx']} 5xx={counts['5xx']}"
    )
    assert counts["5xx"] == 0
    assert counts["2xx"] > 0 and counts["4xx"] > 0
