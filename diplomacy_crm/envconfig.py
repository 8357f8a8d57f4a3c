"""Reading the environment for the settings: strict booleans, the embedded defaults' rule, the mailer.

Kept out of settings.py so that module reads as the list of settings; each
function here takes the `environ.Env` to read and raises ImproperlyConfigured
with a message saying what to set.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

EMBEDDABLE_BACKENDS = ("database", "broker", "mail")
MISSING_SETTING_HELP = {
    "database": (
        "DATABASE_URL is not set (for example postgres://crm:password@db.internal:5432/crm). "
        "Without it the app would run on SQLite under VAR_DIR."
    ),
    "broker": (
        "REDIS_URL is not set (for example redis://redis.internal:6379/0). "
        "Without it tasks would queue in a folder under VAR_DIR that only workers on this machine read, "
        "and the cache would be per process."
    ),
    "mail": (
        "EMAIL_URL (or EMAIL_HOST) is not set (for example smtp+tls://user:password@smtp.example.org:587). "
        "Without it every email would be written to files under VAR_DIR and marked sent: nobody would get mail."
    ),
}


def env_bool(name: str, default: bool) -> bool:
    """A strict boolean: '1/true/yes/on' or '0/false/no/off', anything else is an error."""
    raw = env.str(name, default="")
    if raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use 1/0, true/false, yes/no or on/off.")


def embedded_defaults_allowed(env: environ.Env, *, debug: bool) -> set[str]:
    """The backends EMBEDDED_DEFAULTS lets fall back to their embedded default; raises when one is refused."""
    raw = env.str("EMBEDDED_DEFAULTS", default="").strip().lower()
    if raw in {"", "0", "false", "no", "off"}:
        allowed = set(EMBEDDABLE_BACKENDS) if debug else set()
    elif raw in {"1", "true", "yes", "on", "all"}:
        allowed = set(EMBEDDABLE_BACKENDS)
    else:
        allowed = {part.strip() for part in raw.split(",") if part.strip()}
        if allowed - set(EMBEDDABLE_BACKENDS):
            raise ImproperlyConfigured(
                f"EMBEDDED_DEFAULTS={raw!r}: use 1 (all), 0 (none) or a list of {', '.join(EMBEDDABLE_BACKENDS)}."
            )
    configured = {
        "database": bool(env.str("DATABASE_URL", default="")),
        "broker": bool(env.str("REDIS_URL", default="")),
        "mail": bool(env.str("EMAIL_URL", default="") or env.str("EMAIL_HOST", default="")),
    }
    refused = [name for name in EMBEDDABLE_BACKENDS if not configured[name] and name not in allowed]
    if refused:
        raise ImproperlyConfigured(
            "DEBUG is off and production settings are missing:\n"
            + "\n".join(f"- {MISSING_SETTING_HELP[name]}" for name in refused)
            + "\nSet them, or opt into the embedded default on purpose for a one-machine install with "
            + f"EMBEDDED_DEFAULTS={','.join(refused)} (or EMBEDDED_DEFAULTS=1 for all)."
        )
    return allowed


def mailer_from_env(env: environ.Env, *, mail_dir: Path) -> dict:
    """MAILERS["default"] from EMAIL_URL or the EMAIL_HOST family; neither: one .eml file per message in mail_dir."""
    if env.str("EMAIL_URL", default=""):
        cfg = env.email_url("EMAIL_URL")
        backend = cfg["EMAIL_BACKEND"]
        if backend.endswith("filebased.EmailBackend"):
            return {"BACKEND": backend, "OPTIONS": {"file_path": cfg.get("EMAIL_FILE_PATH") or str(mail_dir)}}
        if backend.endswith("smtp.EmailBackend"):
            return {
                "BACKEND": backend,
                "OPTIONS": {
                    "host": cfg.get("EMAIL_HOST", "localhost"),
                    "port": cfg.get("EMAIL_PORT", 25),
                    "username": cfg.get("EMAIL_HOST_USER", ""),
                    "password": cfg.get("EMAIL_HOST_PASSWORD", ""),
                    "use_tls": bool(cfg.get("EMAIL_USE_TLS", False)),
                    "use_ssl": bool(cfg.get("EMAIL_USE_SSL", False)),
                    "timeout": 30,
                },
            }
        return {"BACKEND": backend}
    if env.str("EMAIL_HOST", default=""):
        return {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": env.str("EMAIL_HOST"),
                "port": env.int("EMAIL_PORT", default=25),
                "username": env.str("EMAIL_HOST_USER", default=""),
                "password": env.str("EMAIL_HOST_PASSWORD", default=""),
                "use_tls": env_bool("EMAIL_USE_TLS", default=False),
                "use_ssl": env_bool("EMAIL_USE_SSL", default=False),
                "timeout": env.int("EMAIL_TIMEOUT", default=30),
            },
        }
    # One .eml file per message (diplomacy_crm/mailfiles.py), for a mail client to open.
    return {
        "BACKEND": "diplomacy_crm.mailfiles.EmlFileBackend",
        "OPTIONS": {"file_path": str(mail_dir)},
    }


def beat_schedule(env: environ.Env) -> dict:
    """Celery beat's schedule (CELERY_BEAT_SCHEDULE), in TIME_ZONE."""
    return {
        # Every hour on the hour: commitments due, follow-ups reached, agreements
        # nearing expiry or notice, and a sweep of outbox rows left pending.
        "send-due-reminders-hourly": {"task": "send_due_reminders", "schedule": crontab(minute=0)},
        # Monday 07:00 in TIME_ZONE: the weekly digest.
        "send-weekly-digests-monday": {
            "task": "send_weekly_digests",
            "schedule": crontab(minute=0, hour=7, day_of_week="mon"),
        },
        # Every 30 s: deliver outbox rows whose send failed or whose worker died
        # (a dead worker's rows go out at most lease + this interval after its claim).
        "flush-outbox": {"task": "flush_outbox", "schedule": float(env.int("OUTBOX_FLUSH_INTERVAL_SECONDS", default=30))},
        # Every minute: deliver webhooks whose try failed or whose worker died.
        "deliver-webhooks": {"task": "deliver_webhooks", "schedule": 60.0},
        # Every minute: queue again the import jobs whose worker died (a dead
        # worker's job runs again at most IMPORT_LEASE_SECONDS + this interval,
        # 90 + 60 s, after its last renewal; imports/services.py).
        "resume-import-jobs": {
            "task": "resume_import_jobs",
            "schedule": float(env.int("IMPORT_RESUME_INTERVAL_SECONDS", default=60)),
        },
        # Every 5 minutes: queue the text extraction of attachments still pending
        # (files from before text search, a broker down at upload, a dead worker).
        "queue-pending-attachment-texts": {
            "task": "queue_pending_attachment_texts",
            "schedule": float(env.int("ATTACHMENT_EXTRACT_SWEEP_SECONDS", default=300)),
        },
        # Every minute: read the email capture mailbox (a no-op without MAIL_CAPTURE_URL; mailcapture/poll.py).
        "poll-mail-capture": {
            "task": "poll_mail_capture",
            "schedule": float(env.int("MAIL_CAPTURE_POLL_SECONDS", default=60)),
        },
    }


def attachment_storage(env: environ.Env, *, var_dir: Path) -> dict:
    """STORAGES["attachments"]: a directory (ATTACHMENT_ROOT, var/attachments/ by default), or any storage class.

    For django-storages' S3Storage the bucket, endpoint and region come from the environment here
    (django-storages itself reads only its credentials from the environment, the rest from settings).
    """
    backend = env.str("ATTACHMENT_STORAGE_BACKEND", default="") or "django.core.files.storage.FileSystemStorage"
    if backend.endswith("FileSystemStorage"):
        return {"BACKEND": backend, "OPTIONS": {"location": env.str("ATTACHMENT_ROOT", default=str(var_dir / "attachments"))}}
    names = {"bucket_name": "AWS_STORAGE_BUCKET_NAME", "endpoint_url": "AWS_S3_ENDPOINT_URL", "region_name": "AWS_S3_REGION_NAME"}
    options = {option: env.str(name) for option, name in names.items() if env.str(name, default="")}
    return {"BACKEND": backend, "OPTIONS": options}


def mail_capture(env: environ.Env) -> tuple:
    """The email capture settings (mailcapture/, docs/mail_capture.md), in settings.py's order."""
    return (
        # The capture mailbox: imaps://user:password@host[:993]/INBOX (imap:// for a loopback
        # server; ?auth=xoauth2 for OAuth2). Empty: the feature is off, and the triage page says so.
        env.str("MAIL_CAPTURE_URL", default=""),
        # OAuth2 (auth=xoauth2): the access token, or a file holding it (read again at each poll).
        env.str("MAIL_CAPTURE_OAUTH2_TOKEN", default=""),
        env.str("MAIL_CAPTURE_OAUTH2_TOKEN_FILE", default=""),
        # Where processed messages are moved; empty: flagged \Deleted and expunged (after their commit).
        env.str("MAIL_CAPTURE_DONE_FOLDER", default=""),
        # Who may read captured mail whose subject carries no [restricted] / [internal] / [public]:
        # one of the engagement's levels; empty: restricted (checked by mailcapture/apps.py).
        env.str("MAIL_CAPTURE_DEFAULT_CONFIDENTIALITY", default=""),
        env.int("MAIL_CAPTURE_BATCH", default=50),  # messages read per poll
        env.int("MAIL_CAPTURE_TIMEOUT_SECONDS", default=30),  # the IMAP connection's timeout
        # imaps://: a CA bundle (PEM) to trust instead of the system's, for a server with a private CA.
        env.str("MAIL_CAPTURE_CA_FILE", default=""),
    )
