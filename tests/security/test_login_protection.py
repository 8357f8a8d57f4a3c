"""S5 (sign-in): lockout after repeated failures, no user enumeration, strong passwords, API token throttling.

S6 (sessions): a new session key at sign-in, sign-out ends the session on the
server, a deactivated user is out at once, and the cookies' flags.
"""

import os
import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def login(client, username, password, ip="203.0.113.7"):
    return client.post(
        "/accounts/login/", {"username": username, "password": password, "next": "/"}, REMOTE_ADDR=ip
    )


def test_a_hundred_wrong_passwords_lock_the_account_for_that_address(settings, client, officer):
    settings.AXES_ENABLED = True
    limit = settings.AXES_FAILURE_LIMIT
    real = ModelBackend.authenticate
    with mock.patch.object(ModelBackend, "authenticate", autospec=True, side_effect=real) as checked:
        statuses = [login(client, officer.username, f"wrong-{i}").status_code for i in range(100)]
        evaluated = checked.call_count
    assert evaluated <= limit, f"{evaluated} passwords were checked; the limit is {limit}"
    assert statuses[: limit - 1] == [200] * (limit - 1)  # the form again, with an error
    assert set(statuses[limit:]) == {429}
    locked = login(client, officer.username, PASSWORD)
    assert locked.status_code == 429, "the right password during the lockout must be refused too"
    body = locked.content.decode()
    assert "Too many failed sign-in attempts" in body
    assert "_auth_user_id" not in client.session
    # Another address is not locked out (the lock is per username + IP).
    assert login(Client(), officer.username, PASSWORD, ip="198.51.100.9").status_code == 302


def test_the_lockout_is_per_account_not_global(settings, client, officer, viewer):
    settings.AXES_ENABLED = True
    for i in range(settings.AXES_FAILURE_LIMIT + 2):
        login(client, officer.username, f"wrong-{i}")
    assert login(Client(), viewer.username, PASSWORD).status_code == 302


def _normalised(response) -> str:
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    body = re.sub(r'nonce="[^"]+"', "", body)
    return re.sub(r'value="[^"]*"', "", body)  # the echoed username


def test_an_unknown_user_and_a_wrong_password_look_the_same(client, officer):
    unknown = login(client, "nobody-by-this-name", "whatever-password")
    wrong = login(Client(), officer.username, "whatever-password")
    assert unknown.status_code == wrong.status_code == 200
    assert _normalised(unknown) == _normalised(wrong)


def test_the_locked_out_page_does_not_reveal_whether_the_account_exists(settings, client):
    settings.AXES_ENABLED = True
    responses = [login(client, "ghost-account", f"wrong-{i}").status_code for i in range(settings.AXES_FAILURE_LIMIT + 1)]
    assert responses[-1] == 429  # unknown names are locked the same way


@pytest.mark.parametrize(
    "weak",
    ["short1A!", "password1234", "123456789012", "omar_officer2024", "1234567890123"],
)
def test_a_weak_new_password_is_refused(client, officer, weak):
    client.force_login(officer)
    response = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": weak, "new_password2": weak},
    )
    assert response.status_code == 200
    assert "usa-error-message" in response.content.decode() or "errorlist" in response.content.decode()
    officer.refresh_from_db()
    assert officer.check_password(PASSWORD)


def test_a_strong_new_password_is_accepted(client, officer):
    client.force_login(officer)
    strong = "Tangerine-Harbour-Lantern-42"
    response = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": strong, "new_password2": strong},
    )
    assert response.status_code == 302
    officer.refresh_from_db()
    assert officer.check_password(strong)


def test_guessing_api_tokens_is_throttled(client):
    statuses = [
        client.get("/api/v1/partners/", HTTP_AUTHORIZATION=f"Token {i:040x}", REMOTE_ADDR="203.0.113.50").status_code
        for i in range(80)
    ]
    assert statuses[0] == 401
    assert 429 in statuses, statuses
    first_429 = statuses.index(429)
    assert set(statuses[:first_429]) == {401}
    assert set(statuses[first_429:]) == {429}
    assert first_429 <= 61


# --- S6 sessions ---


def test_signing_in_gives_a_new_session_key(client, officer):
    session = client.session
    session["pre_login"] = "x"
    session.save()
    before = session.session_key
    client.cookies[django_settings.SESSION_COOKIE_NAME] = before
    assert login(client, officer.username, PASSWORD).status_code == 302
    after = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert after and after != before
    assert not Session.objects.filter(session_key=before).exists()


def test_signing_out_ends_the_session_on_the_server(client, officer):
    assert login(client, officer.username, PASSWORD).status_code == 302
    key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert client.get("/").status_code == 200
    assert client.get("/accounts/logout/").status_code == 405  # a link cannot sign anyone out
    assert client.post("/accounts/logout/").status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    replay = Client()
    replay.cookies[django_settings.SESSION_COOKIE_NAME] = key
    response = replay.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_deactivated_user_is_signed_out_everywhere(client, staff_user):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=staff_user)
    client.force_login(staff_user)
    assert client.get("/engagements/").status_code == 200
    staff_user.is_active = False
    staff_user.save()
    response = client.get("/engagements/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert Client().get("/api/v1/partners/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 401


def test_session_cookie_flags_on_a_real_sign_in(client, officer):
    response = login(client, officer.username, PASSWORD)
    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_production_cookies_are_secure_httponly_and_lax(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, "
        "s.CSRF_COOKIE_SECURE, s.CSRF_COOKIE_SAMESITE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0, "
        "s.SESSION_COOKIE_AGE <= 86400, len(s.AUTH_PASSWORD_VALIDATORS) >= 3, s.AXES_ENABLED, s.DEBUG)"
    )
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    env.update(
        DEBUG="0", SECRET_KEY="k" * 50, ALLOWED_HOSTS="crm.example.org", VAR_DIR=str(tmp_path), EMBEDDED_DEFAULTS="1",
        DJANGO_SETTINGS_MODULE="diplomacy_crm.settings",
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "Lax", "True", "Lax", "True", "True", "True", "True", "True", "False"]
