"""Optional TOTP two-factor sign-in (django-otp): enrol, verify, remove.

A user enrols an authenticator app on their preferences page: the secret is
kept in the session until they confirm it with a valid code, and only then
becomes a (confirmed) TOTPDevice. From then on, signing in takes the password
and then a 6-digit code: `user_logged_in` marks the session with the step it
still owes (SESSION_KEY), and TwoFactorMiddleware lets such a session reach
nothing but that step until django-otp's `user.is_verified()` is true.

Deciding at sign-in (one query) keeps pages free of an extra query for the
many users without a device. A verified session costs one query per request
(OTPMiddleware loads the device it was verified with).

Wrong codes are throttled twice: django-otp's device throttling (a growing
delay after each failure, stored on the device, so a new sign-in does not
reset it) and django-axes (each wrong code is a failed login for the user
and address; at the limit the session is signed out and locked out).
"""

import base64
import secrets
import time
from dataclasses import dataclass

import segno
from django.conf import settings
from django.contrib.auth import signals as auth_signals
from django.db import transaction
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from .roles import is_officer

SESSION_KEY = "crm_two_factor"  # the step the session still owes: VERIFY or ENROL
VERIFY = "verify"  # the user has a device: enter its code
ENROL = "enrol"  # OTP_REQUIRED_FOR_OFFICERS and an officer without a device: add one
PENDING_SECRET_KEY = "crm_totp_pending_key"  # hex key shown on the enrol page, not yet confirmed
DEVICE_NAME = "Authenticator app"


def device_of(user) -> TOTPDevice | None:
    """The user's confirmed TOTP device, if they enrolled one."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def step_owed_at_login(user) -> str | None:
    """What a fresh sign-in of `user` must still do before reaching anything."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return VERIFY
    if getattr(settings, "OTP_REQUIRED_FOR_OFFICERS", False) and is_officer(user):
        return ENROL
    return None


def step_owed(request) -> str | None:
    """The step this session still owes, or None once verified (or when the user has no device)."""
    state = request.session.get(SESSION_KEY)
    if not state or not request.user.is_authenticated or request.user.is_verified():
        return None
    return state


# --- enrolment ---


@dataclass
class Enrolment:
    secret: str  # base32, grouped by four, for typing into the app by hand
    qr_data_uri: str  # the otpauth:// URI as an SVG image (data: URI: no request leaves the page)


def pending_enrolment(request) -> Enrolment:
    """The secret being enrolled in this session (made on first call), as QR code and text."""
    key = request.session.get(PENDING_SECRET_KEY)
    if not key:
        key = secrets.token_hex(20)  # 160 bits, as TOTPDevice's default key
        request.session[PENDING_SECRET_KEY] = key
    device = TOTPDevice(user=request.user, key=key, name=DEVICE_NAME)  # unsaved: only for its config URL
    b32 = base64.b32encode(device.bin_key).decode()
    qr = segno.make(device.config_url, error="m")
    return Enrolment(
        secret=" ".join(b32[i : i + 4] for i in range(0, len(b32), 4)),
        qr_data_uri=qr.svg_data_uri(scale=5, border=2, dark="#1b1b1b", light="#ffffff"),
    )


def confirm_enrolment(request, token: str) -> TOTPDevice | None:
    """Activate the pending secret if `token` is a current code for it; the session counts as verified."""
    key = request.session.get(PENDING_SECRET_KEY)
    if not key:
        return None
    totp = TOTP(bytes.fromhex(key), step=30, t0=0, digits=6, drift=0)
    totp.time = time.time()
    if not totp.verify(int(token), tolerance=1):
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=request.user).delete()  # one device per user; drops stale ones
        # last_t: the code just used cannot be replayed at the next sign-in.
        device = TOTPDevice.objects.create(
            user=request.user, key=key, name=DEVICE_NAME, confirmed=True, last_t=totp.t()
        )
    del request.session[PENDING_SECRET_KEY]
    otp_login(request, device)
    request.session[SESSION_KEY] = VERIFY  # from now on this session must stay verified
    return device


# --- the sign-in step and removal ---


class Refused(Exception):
    """A code was not accepted; the message says why, for the form."""


def check_code(request, device: TOTPDevice, token: str) -> None:
    """Accept a current code of `device` or raise Refused. Counts wrong codes (django-otp, axes)."""
    allowed, info = device.verify_is_allowed()
    if not allowed:
        wait = ""
        if info and info.get("locked_until"):
            seconds = max(1, int((info["locked_until"] - timezone.now()).total_seconds()) + 1)
            wait = f" Try again in {seconds} second{'s' if seconds != 1 else ''}."
        raise Refused("Too many wrong codes." + wait)
    if verify_token(request.user, device.persistent_id, token) is None:
        # A failed login for django-axes (and the crm.audit log), by user name and address.
        auth_signals.user_login_failed.send(
            sender=__name__, credentials={"username": request.user.get_username()}, request=request
        )
        raise Refused("That code is not right. Enter the current 6-digit code from your authenticator app.")


def verify_sign_in(request, device: TOTPDevice, token: str) -> None:
    """The second step of signing in: raise Refused, or mark the session verified."""
    check_code(request, device, token)
    otp_login(request, device)


def remove_device(request, device: TOTPDevice, token: str) -> None:
    """Turn two-factor sign-in off, proven by a current code. Raise Refused otherwise."""
    check_code(request, device, token)
    TOTPDevice.objects.filter(user=request.user).delete()
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    request.user.otp_device = None
    if step_owed_at_login(request.user) == ENROL:
        request.session[SESSION_KEY] = ENROL  # officers must add a new device before going on
    else:
        request.session.pop(SESSION_KEY, None)
