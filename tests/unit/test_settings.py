"""The settings' failure modes: production never starts on a silent default."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_settings(**env):
    """Import the real settings module in a fresh interpreter with exactly `env`."""
    clean = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "diplomacy_crm.settings"
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG, settings.MAILERS['default']['BACKEND'], settings.CELERY_BROKER_URL.split(':')[0])"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)


def test_it_refuses_to_start_without_secret_key_when_debug_is_off(tmp_path):
    result = load_settings(DEBUG="0", ALLOWED_HOSTS="crm.example.org", VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_it_refuses_to_start_without_allowed_hosts_when_debug_is_off(tmp_path):
    result = load_settings(DEBUG="0", SECRET_KEY="x" * 50, VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is not set" in result.stderr


def test_a_bad_boolean_is_an_error_not_a_guess(tmp_path):
    result = load_settings(DEBUG="maybe", VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_development_defaults_need_no_server(tmp_path):
    result = load_settings(DEBUG="1", VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "django.core.mail.backends.filebased.EmailBackend", "filesystem"]


@pytest.mark.parametrize(
    ("email_url", "backend"),
    [
        ("smtp://user:secret@mail.example.org:587", "django.core.mail.backends.smtp.EmailBackend"),
        ("consolemail://", "django.core.mail.backends.console.EmailBackend"),
    ],
)
def test_email_url_picks_the_mailer(tmp_path, email_url, backend):
    result = load_settings(DEBUG="1", VAR_DIR=str(tmp_path), EMAIL_URL=email_url, REDIS_URL="redis://127.0.0.1:6379/3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1:] == [backend, "redis"]


def test_production_settings_are_secure(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)"
    )
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME"}}
    env.update(DEBUG="0", SECRET_KEY="k" * 50, ALLOWED_HOSTS="crm.example.org", VAR_DIR=str(tmp_path),
               DJANGO_SETTINGS_MODULE="diplomacy_crm.settings")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "31536000"]
