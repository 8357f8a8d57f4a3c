"""A Python client generated from the served schema (openapi-python-client) runs a real scenario.

The client is generated once per session from `/api/v1/schema/` as served by a
live server (read without credentials: the schema is public), into a temporary
directory, and imported. The scenario then goes through it over HTTP, as an
officer with a token: create a partner and an engagement, list with filters
and follow the pages, patch with `If-Match` (and a stale one: 412, typed), a
delete refused with 409 (typed, saying what is in the way), deletes allowed
(204). Every answer is parsed into the generated models, never read as raw
JSON, so a schema that lies about a status or a body fails here.
"""

import datetime as dt
import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from engagements.models import Engagement
from partners.models import Partner
from tests.world import make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PACKAGE = "crm_api_client"
OPENAPI_PYTHON_CLIENT = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture(scope="session")
def generated(django_db_setup, django_db_blocker, live_server, tmp_path_factory):
    """The generated package, imported (once per session)."""
    # django_db_setup first: the live server stops before the test database is dropped.
    if not OPENAPI_PYTHON_CLIENT.exists():
        pytest.fail("openapi-python-client is not installed (requirements-dev.txt)")
    root = tmp_path_factory.mktemp("generated_client")
    config = root / "config.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run: nothing to gain in a test
    with django_db_blocker.unblock():
        result = subprocess.run(
            [
                str(OPENAPI_PYTHON_CLIENT), "generate",
                "--url", f"{live_server.url}/api/v1/schema/?format=json",
                "--meta", "none",
                "--output-path", str(root / PACKAGE),
                "--config", str(config),
            ],  # fmt: skip
            capture_output=True,
            text=True,
            timeout=120,
        )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Warning" not in output and "Error" not in output, output  # every part of the schema was understood
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _api(generated, resource: str, action: str):
    return importlib.import_module(f"{generated.__name__}.api.{resource}.{resource}_{action}")


def _models(generated):
    return importlib.import_module(f"{generated.__name__}.models")


@pytest.fixture
def officer_client(generated, live_server, django_user_model):
    officer = make_user(django_user_model, "omar_officer", "officer")
    token = Token.objects.create(user=officer)
    # Closed after the test: a kept-alive HTTP connection keeps its server thread, and that
    # thread's database connection, alive.
    with generated.AuthenticatedClient(
        base_url=live_server.url, token=token.key, prefix="Token", raise_on_unexpected_status=True
    ) as client:
        yield client


def test_a_generated_client_runs_the_integrators_scenario(generated, officer_client):
    m = _models(generated)
    client = officer_client
    partners = lambda action: _api(generated, "partners", action)  # noqa: E731
    engagements = lambda action: _api(generated, "engagements", action)  # noqa: E731

    # Create partners (three in Japan, one in Mexico) and an engagement with one of them.
    created = []
    for name, country in [("Consulate General of Japan", "JP"), ("JETRO", "JP"), ("City of Kobe", "JP"),
                          ("Consulate General of Mexico", "MX")]:  # fmt: skip
        body = m.PartnerRequest(name=name, kind=m.PartnerKindEnum.DIPLOMATIC_MISSION, country=m.CountryCode(country))
        response = partners("create").sync_detailed(client=client, body=body)
        assert response.status_code == 201 and isinstance(response.parsed, m.Partner)
        assert response.headers["ETag"] == 'W/"1"'
        created.append(response.parsed)
    consulate = created[0]
    assert consulate.country == m.CountryCode.JP and consulate.priority == m.PriorityEnum.VALUE_2  # the default
    assert Partner.objects.get(pk=consulate.id).name == "Consulate General of Japan"

    starts = dt.datetime(2027, 5, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=-7)))
    meeting = engagements("create").sync(
        client=client,
        body=m.EngagementRequest(
            title="Call with the consul", kind=m.EngagementKindEnum.CALL, starts_at=starts, partners=[consulate.id]
        ),
    )
    assert isinstance(meeting, m.Engagement)
    assert meeting.partners == [consulate.id] and meeting.owner == "omar_officer"
    assert meeting.starts_at == starts and meeting.status == m.EngagementStatusEnum.PLANNED
    assert Engagement.objects.get(pk=meeting.id).starts_at == starts

    # A time in the repeated hour of the clocks going back: a typed 400 naming both offsets.
    refused = engagements("create").sync_detailed(
        client=client,
        body=m.EngagementRequest(title="Ambiguous", kind=m.EngagementKindEnum.CALL, starts_at=dt.datetime(2027, 11, 7, 1, 30)),
    )
    assert refused.status_code == 400 and isinstance(refused.parsed, m.ValidationError)
    assert "-07:00 or -08:00" in refused.parsed["starts_at"][0]

    # List with filters, and follow the pages.
    first = partners("list").sync(client=client, country=m.PartnersListCountry.JP, page_size=2, ordering=[m.PartnersListOrderingItem.NAME])
    assert isinstance(first, m.PaginatedPartnerList) and first.count == 3
    assert [p.name for p in first.results] == ["City of Kobe", "Consulate General of Japan"]
    assert first.next_ is not None and first.previous is None
    second = partners("list").sync(client=client, country=m.PartnersListCountry.JP, page_size=2, page=2, ordering=[m.PartnersListOrderingItem.NAME])
    assert [p.name for p in second.results] == ["JETRO"] and second.next_ is None and second.previous is not None
    met = engagements("list").sync(client=client, partner=consulate.id, kind=m.EngagementsListKind.CALL)
    assert [e.id for e in met.results] == [meeting.id]
    assert engagements("list").sync(client=client, partner=consulate.id, kind=m.EngagementsListKind.VISIT_ABROAD).count == 0

    # Read, then patch with If-Match; a stale If-Match is a typed 412 and changes nothing.
    read = partners("retrieve").sync_detailed(client=client, id=consulate.id)
    version = read.headers["ETag"]
    patched = partners("partial_update").sync_detailed(
        client=client, id=consulate.id, body=m.PatchedPartnerRequest(city="Osaka"), if_match=version
    )
    assert patched.status_code == 200 and patched.parsed.city == "Osaka" and patched.headers["ETag"] == 'W/"2"'
    stale = partners("partial_update").sync_detailed(
        client=client, id=consulate.id, body=m.PatchedPartnerRequest(city="Kyoto"), if_match=version
    )
    assert stale.status_code == 412 and isinstance(stale.parsed, m.Error) and "If-Match" in stale.parsed.detail
    assert Partner.objects.get(pk=consulate.id).city == "Osaka"

    # A partner an engagement refers to: delete refused with a typed 409 saying what is in the way.
    in_use = partners("destroy").sync_detailed(client=client, id=consulate.id)
    assert in_use.status_code == 409 and isinstance(in_use.parsed, m.RecordInUse)
    assert in_use.parsed.blocking == ["engagements"]
    assert [(r.kind, r.count) for r in in_use.parsed.references] == [("engagements", 1)]
    assert Partner.objects.filter(pk=consulate.id).exists()

    # Deletes allowed: the engagement, then the partner no longer in use.
    assert engagements("destroy").sync_detailed(client=client, id=meeting.id).status_code == 204
    assert partners("destroy").sync_detailed(client=client, id=consulate.id, if_match='W/"2"').status_code == 204
    assert not Partner.objects.filter(pk=consulate.id).exists() and not Engagement.objects.filter(pk=meeting.id).exists()
    gone = partners("retrieve").sync_detailed(client=client, id=consulate.id)
    assert gone.status_code == 404 and isinstance(gone.parsed, m.Error)


def test_a_generated_client_gets_typed_refusals_without_credentials_or_rights(generated, live_server, django_user_model):
    m = _models(generated)
    partners_list = _api(generated, "partners", "list")
    with generated.Client(base_url=live_server.url, raise_on_unexpected_status=True) as anonymous:
        response = partners_list.sync_detailed(client=anonymous)  # type: ignore[arg-type]
    assert response.status_code == 401 and isinstance(response.parsed, m.Error)
    assert response.headers["WWW-Authenticate"] == "Token"

    viewer = make_user(django_user_model, "vera_viewer", "viewer")
    token = Token.objects.create(user=viewer)
    with generated.AuthenticatedClient(base_url=live_server.url, token=token.key, prefix="Token") as client:
        refused = _api(generated, "topics", "create").sync_detailed(
            client=client, body=m.TopicRequest(name="Water", slug="water")
        )
    assert refused.status_code == 403 and isinstance(refused.parsed, m.Error)
    assert "permission" in refused.parsed.detail
