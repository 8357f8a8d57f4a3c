"""Client addresses you can trust: one setting, TRUSTED_PROXY_COUNT, for the API throttle, axes and the log.

The finding (issue 13): the API's throttle keyed on the raw X-Forwarded-For
header, so 65 wrong-token requests with a fresh header each got 65 × 401 and
no 429; and behind a proxy, axes and the security log would see every client
as the proxy.
"""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings
from rest_framework.test import APIClient

from diplomacy_crm.audit import client_ip

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"
PROXY = "10.0.0.2"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def behind_proxies(count: int):
    """What TRUSTED_PROXY_COUNT=<count> in the environment sets (see test_the_one_variable_drives_every_reader)."""
    return override_settings(TRUSTED_PROXY_COUNT=count, REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": count})


def guess_tokens(n: int, forwarded) -> list[int]:
    client = APIClient()
    return [
        client.get("/api/v1/partners/", HTTP_AUTHORIZATION=f"Token {i:040x}", REMOTE_ADDR=PROXY,
                   HTTP_X_FORWARDED_FOR=forwarded(i)).status_code
        for i in range(n)
    ]


class TestWithoutATrustedProxy:
    def test_65_wrong_tokens_with_a_fresh_forwarded_header_each_are_throttled(self):
        statuses = guess_tokens(65, lambda i: f"198.51.100.{i}")
        assert statuses[:60] == [401] * 60
        assert statuses[60:] == [429] * 5

    def test_the_log_and_axes_take_the_connections_address(self, viewer, caplog, settings):
        settings.AXES_ENABLED = True  # off in test settings, as in test_login_protection
        caplog.set_level(logging.INFO, logger="crm.audit")
        Client().post("/accounts/login/", {"username": viewer.username, "password": "wrong"},
                      REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="6.6.6.6")
        assert f"event=login_failed user={viewer.username} ip=203.0.113.7" in caplog.text
        assert "6.6.6.6" not in caplog.text
        assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.7"]


class TestBehindOneTrustedProxy:
    def test_the_throttle_keys_on_the_address_the_proxy_saw(self):
        with behind_proxies(1):
            # The client may prepend anything; the proxy appends the address it saw, the one that counts.
            statuses = guess_tokens(62, lambda i: f"192.0.2.{i}, 203.0.113.9")
            assert statuses[60:] == [429, 429]
            # Another client behind the same proxy is not held back.
            assert guess_tokens(1, lambda i: "203.0.113.10") == [401]

    def test_the_log_and_axes_take_the_forwarded_client_not_the_proxy(self, viewer, caplog, settings):
        settings.AXES_ENABLED = True
        caplog.set_level(logging.INFO, logger="crm.audit")
        with behind_proxies(1), override_settings(AXES_FAILURE_LIMIT=2):
            for _ in range(2):
                Client().post("/accounts/login/", {"username": viewer.username, "password": "wrong"},
                              REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
            assert f"event=login_failed user={viewer.username} ip=203.0.113.9" in caplog.text
            assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}
            # Locked out from 203.0.113.9 only: the same user through the same proxy from elsewhere signs in.
            locked = Client().post("/accounts/login/", {"username": viewer.username, "password": PASSWORD},
                                   REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.9")
            assert locked.status_code == 429
            elsewhere = Client().post("/accounts/login/", {"username": viewer.username, "password": PASSWORD},
                                      REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.20")
            assert elsewhere.status_code == 302

    def test_a_forged_or_malformed_address_falls_back_to_the_connection(self, rf):
        with behind_proxies(1):
            assert client_ip(rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="not-an-ip\nevent=forged")) == PROXY
            assert client_ip(rf.get("/", REMOTE_ADDR=PROXY)) == PROXY
        with behind_proxies(2):
            assert client_ip(rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.1")) == "203.0.113.9"


@pytest.mark.parametrize(("value", "expected"), [(None, 0), ("1", 1), ("2", 2)])
def test_the_one_variable_drives_every_reader(value, expected):
    env = {k: v for k, v in os.environ.items() if k != "TRUSTED_PROXY_COUNT"}
    if value is not None:
        env["TRUSTED_PROXY_COUNT"] = value
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.TRUSTED_PROXY_COUNT, s.REST_FRAMEWORK['NUM_PROXIES'], s.AXES_CLIENT_IP_CALLABLE)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "diplomacy_crm.test_settings"},
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == [str(expected), str(expected), "diplomacy_crm.audit.client_address"]


def test_a_negative_count_stops_start_up():
    env = {**os.environ, "TRUSTED_PROXY_COUNT": "-1", "DJANGO_SETTINGS_MODULE": "diplomacy_crm.test_settings"}
    done = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert done.returncode != 0 and "TRUSTED_PROXY_COUNT" in done.stderr
