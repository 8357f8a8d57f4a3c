"""Authentication (token, session), the token command, and throttling."""

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from .conftest import token_client

pytestmark = pytest.mark.django_db


def test_create_api_token_prints_the_same_token_every_time(viewer, capsys):
    call_command("create_api_token", "vera_viewer")
    first = capsys.readouterr().out.strip()
    call_command("create_api_token", "vera_viewer")
    assert capsys.readouterr().out.strip() == first == Token.objects.get(user=viewer).key
    assert APIClient().get("/api/v1/topics/", HTTP_AUTHORIZATION=f"Token {first}").status_code == 200


def test_create_api_token_rotates_on_request(viewer, capsys):
    call_command("create_api_token", "vera_viewer")
    old = capsys.readouterr().out.strip()
    call_command("create_api_token", "vera_viewer", "--rotate")
    new = capsys.readouterr().out.strip()
    assert new != old
    assert APIClient().get("/api/v1/topics/", HTTP_AUTHORIZATION=f"Token {old}").status_code == 401


def test_create_api_token_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match='No user named "ghost"'):
        call_command("create_api_token", "ghost")
    assert Token.objects.count() == 0


def test_create_api_token_exits_non_zero_for_an_unknown_user(db):
    # The command line: CommandError -> message on stderr, exit status 1.
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["manage.py", "create_api_token", "ghost"]).execute()
    assert exit_info.value.code == 1


def test_an_inactive_users_token_is_refused(viewer):
    client = token_client(viewer)
    viewer.is_active = False
    viewer.save()
    response = client.get("/api/v1/topics/")
    assert response.status_code == 401


@pytest.mark.parametrize(
    "header", ["Token nope", "Token ", "Token a b", "Bearer x", "Token \x00", "Token " + "0" * 39 + "\x00", "Token " + "a" * 5000]
)
def test_a_bad_token_is_a_401(header, db):
    response = APIClient().get("/api/v1/partners/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_session_works_and_writes_need_the_csrf_token(staff_user, api_world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(staff_user)
    assert client.get("/api/v1/partners/").status_code == 200
    response = client.post("/api/v1/commitments/", {"description": "x"}, format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]


def test_the_api_root_lists_the_resources(client_as):
    assert client_as("anonymous").get("/api/v1/").status_code == 401
    body = client_as("viewer").get("/api/v1/").json()
    assert set(body) == {"topics", "partners", "contacts", "engagements", "trade-missions", "commitments",
                         "agreements", "gifts", "webhooks", "webhooks/deliveries", "attachments"}  # fmt: skip


def test_token_clients_are_throttled(viewer, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "rate", "5/min", raising=False)
    client = token_client(viewer)
    statuses = [client.get("/api/v1/topics/").status_code for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    response = client.get("/api/v1/topics/")
    assert int(response["Retry-After"]) > 0
    assert "throttled" in response.json()["detail"].lower()


def test_guessing_tokens_is_throttled_like_anonymous_requests(db, monkeypatch):
    # DRF alone authenticates first, so a bad token would never reach a throttle.
    monkeypatch.setattr(AnonRateThrottle, "rate", "3/min", raising=False)
    client = APIClient()
    statuses = [
        client.get("/api/v1/partners/", HTTP_AUTHORIZATION=f"Token guess{i}").status_code for i in range(5)
    ]
    assert statuses == [401, 401, 401, 429, 429]
