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
    factories.EngagementFactory(partners=[partner], owner=None)  # its logger's account is gone: owner null
    factories.CommitmentFactory(partner=partner, engagement=engagement)
    factories.GiftFactory(partner=partner, engagement=engagement)
    factories.AgreementFactory(partners=[partner])
    # A file on the meeting, so that generated attachment ids hit a real one (stored in the test's directory).
    from django.core.files.uploadedfile import SimpleUploadedFile

    from attachments.services import attach_files

    attach_files(record=engagement, uploads=[SimpleUploadedFile("notes.txt", b"Agenda: ports.\n")], actor=cast["officer"])
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
    # list, create, retrieve, update, partial_update, destroy of 8 resources and of webhooks; the delivery log's 3;
    # attachments' list, read, download, upload, replace (PUT) and delete
    assert len(operations) == 9 * 6 + 3 + 6

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


def test_the_rarer_refusals_are_answered_as_the_schema_says(cast, wsgi_app, monkeypatch, settings):
    """406, 412, 413, 415, 429, 401 and 409: each answer passes the same five checks (status, body, headers)."""
    from rest_framework.authtoken.models import Token

    partner = factories.PartnerFactory()
    factories.EngagementFactory(partners=[partner])
    auth = {"Authorization": f"Token {Token.objects.get_or_create(user=cast['officer'])[0].key}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", wsgi_app)
    listing, create = schema["/api/v1/partners/"]["GET"], schema["/api/v1/partners/"]["POST"]
    patch, delete = schema["/api/v1/partners/{id}/"]["PATCH"], schema["/api/v1/partners/{id}/"]["DELETE"]
    detail = {"id": partner.pk}
    cases = {
        406: listing.Case(headers={**auth, "Accept": "text/html"}),
        412: patch.Case(path_parameters=detail, headers={**auth, "If-Match": 'W/"99"'}, body={"city": "Osaka"}),
        413: create.Case(headers=auth, body={"name": "x" * 200, "kind": "city"}),
        415: create.Case(headers=auth, body="name=Kobe", media_type="text/plain"),
        401: listing.Case(headers={"Authorization": "Token " + "0" * 40}),
        409: delete.Case(path_parameters=detail, headers=auth),
    }
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    seen = {}
    for status, case in cases.items():
        response = case.call()
        seen[status] = response.status_code
        case.validate_response(response, checks=CHECKS)
    assert seen == {status: status for status in cases}

    # The officer's history already holds more requests than this rate allows: DRF's throttle
    # then gives no wait, and the answer must still carry Retry-After (api.exceptions).
    monkeypatch.setattr(UserRateThrottle, "rate", "1/min", raising=False)
    throttled = [listing.Case(headers=auth).call() for _ in range(2)][-1]
    headers = {name.lower(): value for name, value in dict(throttled.headers).items()}
    assert throttled.status_code == 429, (throttled.status_code, headers)
    retry_after = headers["retry-after"]
    assert int(retry_after[0] if isinstance(retry_after, list) else retry_after) == 60
    listing.Case(headers=auth).validate_response(throttled, checks=CHECKS)
