"""Settings for the test suite: the real settings, with test-only defaults.

The environment still decides the database (DATABASE_URL) and the broker
(REDIS_URL), so the same suite runs on SQLite and on PostgreSQL.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("HTTPS_ONLY", "0")
os.environ.setdefault("SITE_URL", "https://crm.example.org")
# The suite runs with DEBUG off on whatever DATABASE_URL / REDIS_URL / EMAIL_*
# it is given, and on the embedded defaults for the rest (SQLite, a folder broker, mail to files).
os.environ.setdefault("EMBEDDED_DEFAULTS", "1")
os.environ.setdefault("VAR_DIR", os.path.join(tempfile.gettempdir(), "diplomacy_crm_test_var"))

from .settings import *  # noqa: E402,F403
from .settings import STORAGES  # noqa: E402

# Fast hashing: tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The test client and live server serve unhashed static files.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# Lockout is tested on its own (override_settings(AXES_ENABLED=True)).
AXES_ENABLED = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    # No wait for the WAL flush at each commit: the transactional tests (flushes,
    # Celery workers, imports) commit thousands of times. Only a crash of the
    # PostgreSQL server itself could lose a commit, and a test database does not care.
    _options = DATABASES["default"].setdefault("OPTIONS", {})  # noqa: F405
    _options["options"] = (_options.get("options", "") + " -c synchronous_commit=off").strip()
