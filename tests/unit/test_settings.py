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
    assert result.stdout.split() == ["True", "diplomacy_crm.mailfiles.EmlFileBackend", "filesystem"]


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
               EMBEDDED_DEFAULTS="1", DJANGO_SETTINGS_MODULE="diplomacy_crm.settings")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "31536000"]


# --- production backends: given, or embedded on purpose ------------------------------

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k" * 50,
    "ALLOWED_HOSTS": "crm.example.org",
    "DATABASE_URL": "postgres://crm:pw@db.internal:5432/crm",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "EMAIL_URL": "smtp+tls://crm:pw@smtp.example.org:587",
}


def manage_check(**env):
    """`manage.py check` in a fresh interpreter: what an operator's start-up runs first."""
    clean = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "diplomacy_crm.settings"
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("DATABASE_URL", "DATABASE_URL is not set"),
        ("REDIS_URL", "REDIS_URL is not set"),
        ("EMAIL_URL", "EMAIL_URL (or EMAIL_HOST) is not set"),
    ],
)
def test_production_refuses_to_start_without_each_backend(tmp_path, missing, message):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage_check(VAR_DIR=str(tmp_path), **env)
    assert result.returncode != 0
    assert message in result.stderr
    assert "ImproperlyConfigured" in result.stderr
    # The message names the way out, for this backend only.
    name = {"DATABASE_URL": "database", "REDIS_URL": "broker", "EMAIL_URL": "mail"}[missing]
    assert f"EMBEDDED_DEFAULTS={name} " in result.stderr
    # Nothing was created in the embedded default's place.
    assert not (tmp_path / "db.sqlite3").exists()


def test_production_lists_every_missing_backend_at_once(tmp_path):
    result = load_settings(DEBUG="0", SECRET_KEY="k" * 50, ALLOWED_HOSTS="crm.example.org", VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    for message in ("DATABASE_URL is not set", "REDIS_URL is not set", "EMAIL_URL (or EMAIL_HOST) is not set"):
        assert message in result.stderr
    assert "EMBEDDED_DEFAULTS=database,broker,mail" in result.stderr


def test_email_host_counts_as_mail_settings(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k not in {"EMAIL_URL", "DATABASE_URL"}}
    result = load_settings(VAR_DIR=str(tmp_path), EMBEDDED_DEFAULTS="database", EMAIL_HOST="smtp.example.org", **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "django.core.mail.backends.smtp.EmailBackend", "redis"]


def test_embedded_defaults_opt_in_starts_and_says_what_is_embedded(tmp_path):
    code = "import django; django.setup(); from diplomacy_crm.health import embedded_backends; print(','.join(embedded_backends()))"
    clean = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    clean.update(DEBUG="0", SECRET_KEY="k" * 50, ALLOWED_HOSTS="crm.example.org", VAR_DIR=str(tmp_path),
                 DJANGO_SETTINGS_MODULE="diplomacy_crm.settings")
    run = lambda **env: subprocess.run(  # noqa: E731
        [sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60
    )
    every = run(EMBEDDED_DEFAULTS="1")
    assert every.returncode == 0, every.stderr
    assert every.stdout.strip() == "database,broker,mail"
    mail_only = run(EMBEDDED_DEFAULTS="mail", DATABASE_URL=PRODUCTION["DATABASE_URL"], REDIS_URL=PRODUCTION["REDIS_URL"])
    assert mail_only.returncode == 0, mail_only.stderr
    assert mail_only.stdout.strip() == "mail"
    # Opting into one backend does not excuse another.
    partial = run(EMBEDDED_DEFAULTS="mail", DATABASE_URL=PRODUCTION["DATABASE_URL"])
    assert partial.returncode != 0 and "REDIS_URL is not set" in partial.stderr
    assert "EMBEDDED_DEFAULTS=broker " in partial.stderr


def test_manage_check_passes_with_every_production_backend(tmp_path):
    result = manage_check(VAR_DIR=str(tmp_path), **PRODUCTION)
    assert result.returncode == 0, result.stderr


def test_an_unknown_embedded_backend_is_an_error(tmp_path):
    result = load_settings(DEBUG="0", SECRET_KEY="k" * 50, ALLOWED_HOSTS="crm.example.org", VAR_DIR=str(tmp_path),
                           EMBEDDED_DEFAULTS="database,smtp")
    assert result.returncode != 0
    assert "EMBEDDED_DEFAULTS='database,smtp'" in result.stderr


def test_the_broker_hands_a_task_out_again_only_after_the_longest_task_could_have_finished(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "from diplomacy_crm.celery import app; app.loader.import_default_modules(); "
        "limits = [t.time_limit or s.CELERY_TASK_TIME_LIMIT for n, t in app.tasks.items() if not n.startswith('celery.')]; "
        "print(max(limits), s.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'])"
    )
    clean = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    clean.update(PRODUCTION, VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="diplomacy_crm.settings")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    longest, visibility = map(int, result.stdout.split())
    assert longest == 1860
    assert longest < visibility <= longest + 120


def test_attachments_go_to_a_directory_or_to_the_bucket_the_environment_names(tmp_path, monkeypatch):
    import environ

    from diplomacy_crm.envconfig import attachment_storage

    for name in ("ATTACHMENT_STORAGE_BACKEND", "ATTACHMENT_ROOT", "AWS_STORAGE_BUCKET_NAME", "AWS_S3_ENDPOINT_URL", "AWS_S3_REGION_NAME"):
        monkeypatch.delenv(name, raising=False)
    assert attachment_storage(environ.Env(), var_dir=tmp_path) == {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "attachments")}}
    monkeypatch.setenv("ATTACHMENT_ROOT", "/srv/crm-files")
    assert attachment_storage(environ.Env(), var_dir=tmp_path)["OPTIONS"] == {"location": "/srv/crm-files"}
    monkeypatch.setenv("ATTACHMENT_STORAGE_BACKEND", "storages.backends.s3.S3Storage")
    monkeypatch.setenv("AWS_STORAGE_BUCKET_NAME", "crm-files")
    monkeypatch.setenv("AWS_S3_REGION_NAME", "eu-central-1")
    assert attachment_storage(environ.Env(), var_dir=tmp_path) == {
        "BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {"bucket_name": "crm-files", "region_name": "eu-central-1"}}
