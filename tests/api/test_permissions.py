"""The permission matrix: every resource x role x verb, with status and effect on the data.

Expected: anonymous 401 everywhere; every role reads; writes follow the
role's Django model permissions (accounts/roles.py); a refusal changes nothing.
"""

import pytest

from .conftest import ROLES, db_snapshot
from .resources import RESOURCES

pytestmark = pytest.mark.django_db

VERBS = ("list", "retrieve", "create", "patch", "delete")
PERM_OF_VERB = {"list": "view", "retrieve": "view", "create": "add", "patch": "change", "delete": "delete"}
SUCCESS = {"list": 200, "retrieve": 200, "create": 201, "patch": 200, "delete": 204}


def allowed(role: str, resource, verb: str) -> bool:
    perm = PERM_OF_VERB[verb]
    if role in ("officer", "superuser") or perm == "view":
        return True
    if role == "staff":
        return perm in resource.staff_can
    return False


def expected_status(role, resource, verb) -> int:
    if role == "anonymous":
        return 401
    return SUCCESS[verb] if allowed(role, resource, verb) else 403


CASES = [
    pytest.param(resource, role, verb, id=f"{resource.name}-{role}-{verb}")
    for resource in RESOURCES
    for role in ROLES
    for verb in VERBS
]


def test_the_matrix_covers_every_resource_role_and_verb():
    assert len(CASES) == 8 * 5 * 5
    print(f"\npermission matrix: {len(CASES)} cases")


@pytest.mark.parametrize(("resource", "role", "verb"), CASES)
def test_permission_matrix(resource, role, verb, client_as, cast, api_world):
    record = resource.make(api_world)
    client = client_as(role)
    before = db_snapshot()
    model = resource.model
    count_before = model.objects.count()

    if verb == "list":
        response = client.get(resource.url)
    elif verb == "retrieve":
        response = client.get(resource.detail(record.pk))
    elif verb == "create":
        response = client.post(resource.url, resource.create(api_world), format="json")
    elif verb == "patch":
        response = client.patch(resource.detail(record.pk), resource.patch, format="json")
    else:
        response = client.delete(resource.detail(record.pk))

    expected = expected_status(role, resource, verb)
    assert response.status_code == expected, response.content
    if expected == 401:
        assert response["WWW-Authenticate"] == "Token"
    if expected in (401, 403):
        assert "detail" in response.json()
        assert db_snapshot() == before, "a refused request changed the data"
        return

    body = response.json() if verb != "delete" else None
    if verb == "list":
        assert record.pk in [row["id"] for row in body["results"]]
        assert db_snapshot() == before
    elif verb == "retrieve":
        assert body["id"] == record.pk
        assert db_snapshot() == before
    elif verb == "create":
        created = model.objects.get(pk=body["id"])
        assert model.objects.count() == count_before + 1
        for key, value in resource.create(api_world).items():
            assert body[key] == value, key
        # The history row names the API user: the services receive the actor.
        assert created.history.latest().history_user == cast[role]
    elif verb == "patch":
        record.refresh_from_db()
        for key, value in resource.patch.items():
            assert body[key] == value
            assert getattr(record, key) == value
        assert record.history.latest().history_user == cast[role]
    else:
        assert response.status_code == 204
        assert not model.objects.filter(pk=record.pk).exists()
        deleted = model.history.filter(id=record.pk).latest()
        assert (deleted.history_type, deleted.history_user) == ("-", cast[role])
