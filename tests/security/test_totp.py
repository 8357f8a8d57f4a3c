"""Optional TOTP two-factor sign-in (issue 7): enrol on the preferences page, then password + code.

Codes are computed as an authenticator app would, with django_otp.oath.totp
from the device's key; nothing about django-otp is mocked.
"""

import base64
import re

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from accounts import two_factor

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
IP = "203.0.113.44"


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()  # API throttles
    yield
    cache.clear()


def code(key_hex: str, *, drift: int = 0) -> str:
    """The 6-digit code an app shows now (drift=1: the next 30-second step's code)."""
    return f"{totp(bytes.fromhex(key_hex), step=30, t0=0, digits=6, drift=drift):06d}"


def wrong(key_hex: str) -> str:
    right = {code(key_hex, drift=d) for d in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)


def sign_in(client, user, ip=IP, next_url="/"):
    return client.post("/accounts/login/", {"username": user.username, "password": PASSWORD, "next": next_url},
                       REMOTE_ADDR=ip)


def device_for(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


# --- enrolment ---


def test_an_officer_enrols_an_app_with_the_qr_code_or_the_secret(client, officer):
    client.force_login(officer)
    assert "Turn on two-factor sign-in" in client.get("/accounts/preferences/").content.decode()
    page = client.get("/accounts/two-factor/add/")
    assert page.status_code == 200
    body = page.content.decode()
    key = client.session[two_factor.PENDING_SECRET_KEY]
    secret = base64.b32encode(bytes.fromhex(key)).decode()
    shown = re.search(r'<code class="crm-totp-secret">([A-Z2-7 ]+)</code>', body).group(1)
    assert shown.replace(" ", "") == secret  # the secret for typing in by hand
    # The QR code is an SVG image inside the page (no request leaves it), allowed by the CSP's img-src data:.
    qr = re.search(r'<img class="crm-qr" src="(data:image/svg\+xml[^"]+)"', body)
    assert qr, "no QR code"
    assert "data:" in page["Content-Security-Policy"].split("img-src")[1].split(";")[0]
    assert "style=" not in body and "<script>" not in body
    assert not TOTPDevice.objects.filter(user=officer).exists(), "active before it was confirmed"
    # Reloading shows the same secret (the app may already hold it).
    assert client.get("/accounts/two-factor/add/").content.decode().count(shown) == 1

    refused = client.post("/accounts/two-factor/add/", {"token": wrong(key)})
    assert refused.status_code == 200
    assert "That code does not match" in refused.content.decode()
    assert not TOTPDevice.objects.filter(user=officer).exists()

    done = client.post("/accounts/two-factor/add/", {"token": code(key)})
    assert done.status_code == 302 and done["Location"] == "/accounts/preferences/"
    device = TOTPDevice.objects.get(user=officer)
    assert device.confirmed and device.key == key
    # Shown once: never again after confirmation, not on preferences, not on the enrol page.
    prefs = client.get("/accounts/preferences/").content.decode()
    assert "Two-factor sign-in is on" in prefs or "On: signing in asks" in prefs
    assert secret[:8] not in prefs.replace(" ", "")
    again = client.get("/accounts/two-factor/add/")
    assert again.status_code == 302
    # The enrolling session counts as verified: it keeps working.
    assert client.get("/").status_code == 200


def test_a_code_that_is_not_six_digits_is_a_form_error(client, officer):
    client.force_login(officer)
    client.get("/accounts/two-factor/add/")
    for bad in ("", "12345", "1234567", "abcdef", "12\x0034", "١٢٣٤٥٦"):
        response = client.post("/accounts/two-factor/add/", {"token": bad})
        assert response.status_code == 200, bad
        assert response.context["form"].errors["token"], bad
    assert not TOTPDevice.objects.filter(user=officer).exists()


# --- signing in with a device ---


def test_with_a_device_the_password_alone_opens_nothing(officer):
    device_for(officer)
    token = Token.objects.create(user=officer)
    client = Client()
    response = sign_in(client, officer)
    assert response.status_code == 302
    step = client.get("/")
    assert step.status_code == 302 and step["Location"].startswith("/accounts/login/verify/?next=/")
    assert client.get("/partners/").status_code == 302
    api = client.get("/api/v1/partners/")
    assert api.status_code == 403
    assert "Two-factor" in api.json()["detail"]
    assert client.get("/accounts/preferences/")["Location"].startswith("/accounts/login/verify/")
    # A token-authenticated API call is judged by its token alone.
    with_token = client.get("/api/v1/partners/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert with_token.status_code == 200
    page = client.get("/accounts/login/verify/?next=/partners/")
    assert page.status_code == 200 and "Enter your code" in page.content.decode()


def test_a_wrong_code_is_refused_and_the_right_one_signs_in(officer):
    device = device_for(officer)
    client = Client()
    sign_in(client, officer)
    refused = client.post("/accounts/login/verify/", {"token": wrong(device.key), "next": "/partners/"}, REMOTE_ADDR=IP)
    assert refused.status_code == 200
    assert "That code is not right" in refused.content.decode()
    assert client.get("/").status_code == 302  # still not in
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    # One code for the rest of the test: read again later, it could be the next 30-second step's (a new code).
    right = code(device.key)
    # django-otp's throttle: straight after a wrong code, even the right one waits a second.
    throttled = client.post("/accounts/login/verify/", {"token": right, "next": "/partners/"}, REMOTE_ADDR=IP)
    assert "Too many wrong codes" in throttled.content.decode()
    device.throttle_reset()
    accepted = client.post("/accounts/login/verify/", {"token": right, "next": "/partners/"}, REMOTE_ADDR=IP)
    assert accepted.status_code == 302 and accepted["Location"] == "/partners/"
    home = client.get("/")
    assert home.status_code == 200
    assert client.get("/api/v1/partners/").status_code == 200
    # The same code cannot be used twice (replay).
    other = Client()
    sign_in(other, officer)
    replay = other.post("/accounts/login/verify/", {"token": right}, REMOTE_ADDR=IP)
    assert replay.status_code == 200 and other.get("/").status_code == 302


def test_the_next_address_of_the_code_step_stays_on_this_site(officer):
    device = device_for(officer)
    client = Client()
    sign_in(client, officer)
    response = client.post("/accounts/login/verify/", {"token": code(device.key), "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_wrong_codes_count_as_failed_logins_for_axes(settings, officer):
    settings.AXES_ENABLED = True  # off in test settings, as in test_login_protection
    device = device_for(officer)
    client = Client()
    sign_in(client, officer)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        device.throttle_reset()  # past django-otp's delay, to reach axes' limit
        response = client.post("/accounts/login/verify/", {"token": wrong(device.key)}, REMOTE_ADDR=IP)
    assert AccessAttempt.objects.filter(username=officer.username).exists()
    assert response.status_code in (403, 429)  # axes' lock-out page
    assert "locked" in response.content.decode().lower()
    # The half-signed-in session is over, and the password no longer opens a new one.
    assert client.get("/").status_code == 302
    assert client.get("/").url.startswith("/accounts/login/")
    again = sign_in(client, officer)
    assert again.status_code in (403, 429)


def test_users_without_a_device_sign_in_as_before(viewer):
    client = Client()
    response = sign_in(client, viewer, next_url="/partners/")
    assert response.status_code == 302 and response["Location"] == "/partners/"
    assert client.get("/partners/").status_code == 200
    assert client.get("/api/v1/partners/").status_code == 200
    # Nothing owed: the code step just sends them on.
    assert client.get("/accounts/login/verify/?next=/partners/")["Location"] == "/partners/"


# --- turning it off, and the officers' policy ---


def test_removing_the_device_takes_a_current_code(client, officer):
    device = device_for(officer)
    client.force_login(officer)
    # force_login marks the session as owing the code step, as a password sign-in does.
    client.post("/accounts/login/verify/", {"token": code(device.key)})
    refused = client.post("/accounts/two-factor/remove/", {"token": wrong(device.key)})
    assert refused.status_code == 200
    assert refused.context["remove_form"].errors["token"]
    assert TOTPDevice.objects.filter(user=officer).exists()
    device.throttle_reset()
    removed = client.post("/accounts/two-factor/remove/", {"token": code(device.key, drift=1)})
    assert removed.status_code == 302
    assert not TOTPDevice.objects.filter(user=officer).exists()
    assert client.get("/").status_code == 200
    fresh = Client()
    sign_in(fresh, officer)
    assert fresh.get("/").status_code == 200  # password alone again


def test_officers_must_enrol_when_the_policy_requires_it(settings, officer, viewer):
    settings.OTP_REQUIRED_FOR_OFFICERS = True
    client = Client()
    sign_in(client, officer)
    blocked = client.get("/partners/")
    assert blocked.status_code == 302 and blocked["Location"].startswith("/accounts/two-factor/add/")
    assert client.get("/api/v1/partners/").status_code == 403
    page = client.get("/accounts/two-factor/add/")
    assert "Officers must use two-factor sign-in" in page.content.decode()
    key = client.session[two_factor.PENDING_SECRET_KEY]
    client.post("/accounts/two-factor/add/", {"token": code(key)})
    assert client.get("/partners/").status_code == 200
    others = Client()
    sign_in(others, viewer)
    assert others.get("/partners/").status_code == 200  # the policy is for officers


# --- no self-service password reset ---


@pytest.mark.parametrize("path", ["/accounts/password_reset/", "/accounts/password_reset/done/",
                                  "/accounts/reset/MQ/set-password/", "/accounts/reset/done/"])
def test_there_is_no_self_service_password_reset(client, path):
    assert client.get(path).status_code == 404
    assert client.post(path, {"email": "omar_officer@city.example.org"}).status_code in (403, 404)


def test_the_sign_in_page_says_whom_to_ask_and_links_no_reset(client):
    body = client.get("/accounts/login/").content.decode()
    assert "Ask the office's administrator to reset it." in body
    assert "password_reset" not in body and "/reset/" not in body
