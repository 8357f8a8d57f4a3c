"""Settings for the diplomacy CRM.

Everything comes from the environment (the contract's variables, see README).
Unset in development means an embedded default: SQLite under var/, a
filesystem Celery broker, mail written to var/mail/. With DEBUG off the
secrets and hosts must be given: a missing one stops start-up with a clear
message instead of falling back to a placeholder.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from .envconfig import EMBEDDABLE_BACKENDS, beat_schedule, embedded_defaults_allowed, env_bool, mailer_from_env
from .envconfig import attachment_storage, mail_capture

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env_bool("DEBUG", default=False)
# Tests and `make run` set DEBUG explicitly; production leaves it off.

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off a secret key must come from the environment "
            "(for example: export SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(50))')). "
            "For development on embedded defaults set DEBUG=1 instead, as `make run` does."
        )
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105 (DEBUG only)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS is not set. With DEBUG off list the host names this site answers to, "
            "for example ALLOWED_HOSTS=crm.example.org."
        )
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]

# --- Embedded defaults: allowed in development, opted into in production ---
# Unset DATABASE_URL / REDIS_URL / EMAIL_URL mean SQLite under var/, a folder
# broker with a per-process cache, and mail written to files. With DEBUG on that
# is the point (`make run`). With DEBUG off it would be silent data loss (mail
# "sent" into a folder), so start-up stops unless EMBEDDED_DEFAULTS opts in:
# "1" for all three (a one-machine install), or a list of "database",
# "broker", "mail". /healthz lists the backends that are embedded.
EMBEDDABLE = EMBEDDABLE_BACKENDS
EMBEDDED_DEFAULTS_ALLOWED = embedded_defaults_allowed(env, debug=DEBUG)

SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The right-hand side of calendar event UIDs: not SITE_URL's host, so that moving
# the site keeps every event's identity in the calendars that subscribed to it.
CALENDAR_UID_DOMAIN = env.str("CALENDAR_UID_DOMAIN", default="diplomacy-crm.invalid")
HTTPS_ONLY = env_bool("HTTPS_ONLY", default=not DEBUG)

INSTALLED_APPS = [
    "diplomacy_crm.apps.BackOfficeAdminConfig",  # django.contrib.admin, superusers only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_filters",
    "django_countries",
    "django_htmx",
    "simple_history",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served by the app, no CDN
    "axes",
    # Optional TOTP second step at sign-in (accounts/ enrols and verifies).
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Ours, bottom layer first.
    "diplomacy_crm",
    "accounts",
    "partners",
    "engagements",
    "gifts",
    "notifications",
    "api",
    "dashboard",
    "imports",
    "history",
    "devdata",
    "attachments",
    "webhooks",
    "mailcapture",
]

MIDDLEWARE = [
    # First: every log line of the request, and the tasks it queues, carry its id.
    "diplomacy_crm.logging.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): has this session passed its TOTP step?
    "django_otp.middleware.OTPMiddleware",
    "diplomacy_crm.middleware.ConfidentialResponseMiddleware",
    # A user with a TOTP device who only gave the password reaches nothing
    # but the code step (pages redirect there, session API calls get 403).
    "accounts.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # A signed-in user without a role gets a 403 "no role yet" page (JSON under /api/);
    # after the header middleware above, so that page carries the same headers as any other.
    "accounts.middleware.RoleRequiredMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns lockouts into responses.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "diplomacy_crm.urls"
WSGI_APPLICATION = "diplomacy_crm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "diplomacy_crm.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Persistent connections: a request should not pay a TCP + auth handshake.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # An unreachable database host fails a request (and /healthz) after this
    # many seconds instead of hanging on libpq's unbounded connect.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5))
    # Short OLTP queries on a few cores: no JIT compilation (it re-compiled every costly plan on
    # each run, +0.1-1.4 s) and no parallel workers (a 2-worker Gather doubled the partner
    # timeline's time on 2 cores while the other web workers wait). docs/benchmarks.md has the figures.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", env("DB_SESSION_OPTIONS", default="-c jit=off -c max_parallel_workers_per_gather=0")
    )
else:
    # SQLite: wait for the worker's write lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (Index(include=...)) are a PostgreSQL optimisation; SQLite, the
# development default, builds the same index without the extra columns. Nothing to warn about.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --- Auth -----------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# django-axes: 5 failures per user+IP lock the pair for 30 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)

# Client addresses: how many reverse proxies in front of the app append to
# X-Forwarded-For. 0 (default): the header is ignored and the connection's
# address counts; N: the Nth address from the right, the one the outermost
# trusted proxy saw. One number for the API throttle (DRF's NUM_PROXIES, in
# REST_FRAMEWORK below), django-axes and the security log (both through
# diplomacy_crm.audit.client_address; django-ipware is not installed, so
# axes's AXES_IPWARE_* settings would have no effect).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more (the number of proxies in front of the app).")
AXES_CLIENT_IP_CALLABLE = "diplomacy_crm.audit.client_address"

# Two-factor sign-in (django-otp, TOTP): optional for everyone, enrolled on
# the preferences page. OTP_REQUIRED_FOR_OFFICERS=1 makes officers (and
# superusers) without a device enrol before they reach anything else.
OTP_REQUIRED_FOR_OFFICERS = env_bool("OTP_REQUIRED_FOR_OFFICERS", default=False)
OTP_TOTP_ISSUER = "Diplomacy CRM"

# --- Sessions, cookies, security headers ----------------------------------
SESSION_COOKIE_AGE = 60 * 60 * 12  # absolute lifetime: one working day
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
SECURE_SSL_REDIRECT = HTTPS_ONLY
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS_ONLY else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS_ONLY
SECURE_HSTS_PRELOAD = HTTPS_ONLY
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

from django.utils.csp import CSP  # noqa: E402

# No inline script anywhere: every script is a static file.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# Request bodies above 10 MB are refused (413/400), uploads included.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000

# --- Time and language ----------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="America/Los_Angeles")
USE_I18N = True
USE_TZ = True

# Kosovo (XK) and the former countries of ISO 3166-3 (SU, YU, CS, DD, YD, AN)
# join django-countries' list everywhere; see diplomacy_crm/country_codes.py.
from diplomacy_crm.country_codes import COUNTRIES_OVERRIDE  # noqa: F401

# --- Static files ---------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# whitenoise warns at every start while collectstatic has not run yet.
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"

# --- Attachments (docs/attachments.md) --------------------------------------
# Files kept with records, in their own storage: a directory under var/ by
# default, or any storage class (envconfig.attachment_storage; S3 through django-storages).
STORAGES["attachments"] = attachment_storage(env, var_dir=VAR_DIR)
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=25 * 1024 * 1024)
ATTACHMENT_MAX_FILES = env.int("ATTACHMENT_MAX_FILES", default=20)  # per upload
# Content types (as libmagic detects them) that may be attached, with the name a user knows them by.
ATTACHMENT_ALLOWED_TYPES = {
    "application/pdf": "PDF",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PPTX",
    "application/vnd.oasis.opendocument.text": "ODT",
    "application/vnd.oasis.opendocument.spreadsheet": "ODS",
    "application/msword": "DOC",
    "application/vnd.ms-excel": "XLS",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "text/plain": "plain text",
    "text/csv": "CSV",
    "message/rfc822": "EML",
}
# Text of PDF, DOCX, XLSX and plain-text attachments for search (attachments/extract.py, in a Celery task).
ATTACHMENT_TEXT_MAX_CHARS = env.int("ATTACHMENT_TEXT_MAX_CHARS", default=200_000)  # kept per file
ATTACHMENT_EXTRACT_TIMEOUT_SECONDS = env.int("ATTACHMENT_EXTRACT_TIMEOUT_SECONDS", default=60)  # per file
ATTACHMENT_EXTRACT_MAX_EXPANDED_BYTES = env.int("ATTACHMENT_EXTRACT_MAX_EXPANDED_BYTES", default=100 * 1024 * 1024)
ATTACHMENT_EXTRACT_MAX_CELLS = env.int("ATTACHMENT_EXTRACT_MAX_CELLS", default=200_000)  # per workbook

# --- Mail -----------------------------------------------------------------
# Django 6.1's MAILERS replaces EMAIL_BACKEND/EMAIL_HOST. EMAIL_URL (smtp://,
# smtp+tls://, smtps://, file://, console://) or the EMAIL_HOST family pick
# SMTP; unset means one .eml file per message under var/mail/.
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="International Affairs CRM <crm@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
MAIL_DIR = VAR_DIR / "mail"


MAILERS = {"default": mailer_from_env(env, mail_dir=MAIL_DIR)}

# --- Celery ---------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# The longest task's hard time limit (run_import_job, 1860 s): the visibility timeout must outlast it.
# Correctness never depends on redelivery: leases and their scans retry a dead worker's work (docs/operations.md).
LONGEST_TASK_SECONDS = 1860
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=LONGEST_TASK_SECONDS + 60),
        "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=60),
        "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=1),
        # A web request queuing a task while Redis is unreachable gives up in
        # about a second (and the periodic scans pick the work up), instead of
        # hanging on a dead host.
        "socket_connect_timeout": 1,
        "socket_timeout": 5,
    }
    CELERY_BROKER_CONNECTION_TIMEOUT = 1
    CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
else:
    # Embedded broker for `make run`: files under var/celery/, no server.
    _celery_dir = VAR_DIR / "celery"
    for _sub in ("queue", "processed", "control"):
        (_celery_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        "control_folder": str(_celery_dir / "control"),  # else kombu writes control/ wherever the process runs
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
# Acknowledged after it ran: a worker lost mid-task means it runs again (the outbox's keys and leases make that harmless).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = beat_schedule(env)  # diplomacy_crm/envconfig.py: what runs when, and why

# --- REST framework -------------------------------------------------------
# django-filter: the empty choice of every filter reads "Any" (diplomacy_crm/filters.py).
FILTERS_EMPTY_CHOICE_LABEL = "Any"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.HasRole", "rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.StandardPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
        "user": env.str("API_THROTTLE_USER", default="600/min"),
    },
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,  # throttles key on the client's address (see TRUSTED_PROXY_COUNT)
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Diplomacy CRM API",
    "DESCRIPTION": "Partners, engagements, trade missions, commitments and agreements of a city's international affairs office.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.describe_api"],
}

# --- Caches ---------------------------------------------------------------
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if REDIS_URL:
    # Fails open: with Redis unreachable every read is a miss and every write a
    # no-op (logged, rate-limited), so pages and the API keep working.
    CACHES = {
        "default": {
            "BACKEND": "diplomacy_crm.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
        }
    }

# --- Logging --------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"()": "diplomacy_crm.logging.PlainFormatter"},
        "json": {"()": "diplomacy_crm.logging.JsonFormatter"},
    },
    # The request id (and, in a worker, the task) on every line: diplomacy_crm/logging.py.
    "filters": {"context": {"()": "diplomacy_crm.logging.ContextFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env.str("LOG_FORMAT", default="plain"),
            "filters": ["context"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# --- Webhooks (webhooks/; README "Webhooks") -------------------------------
# Host names endpoints may point at (exact, or "*.example.org"); empty: none.
WEBHOOK_ALLOWED_HOSTS = env.list("WEBHOOK_ALLOWED_HOSTS", default=[])
# Internal networks (CIDR) that are nevertheless allowed; by default every
# private, loopback, link-local or reserved address is refused.
WEBHOOK_ALLOWED_NETWORKS = env.list("WEBHOOK_ALLOWED_NETWORKS", default=[])
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
WEBHOOK_LEASE_SECONDS = env.int("WEBHOOK_LEASE_SECONDS", default=60)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=10)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=30)
WEBHOOK_RETRY_MAX_SECONDS = env.float("WEBHOOK_RETRY_MAX_SECONDS", default=3600)

# --- Imports: what one file may hold (imports/reader.py; stated on the import page) ---
# Data rows, columns, filled cells, and what an XLSX workbook may expand to.
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=100_000)
IMPORT_MAX_COLUMNS = env.int("IMPORT_MAX_COLUMNS", default=200)
IMPORT_MAX_CELLS = env.int("IMPORT_MAX_CELLS", default=2_000_000)
IMPORT_MAX_UNCOMPRESSED_BYTES = env.int("IMPORT_MAX_UNCOMPRESSED_BYTES", default=100 * 1024 * 1024)

# --- Product settings -----------------------------------------------------
CRM = {
    # How long a sender holds a claimed outbox row before another may retry it.
    # Renewed every third of itself while the sender works, so it only has to
    # outlast one SMTP send (EMAIL_TIMEOUT, 30 s); a dead sender's rows are
    # taken again at most lease + flush interval (60 + 30 s) after its claim.
    "OUTBOX_LEASE_SECONDS": env.int("OUTBOX_LEASE_SECONDS", default=60),
    # A message that fails this many times (render error, 5xx) is marked failed.
    "OUTBOX_MAX_ATTEMPTS": env.int("OUTBOX_MAX_ATTEMPTS", default=5),
    # Rows one sender claims at a time (one lease, one SMTP connection).
    "OUTBOX_BATCH_SIZE": env.int("OUTBOX_BATCH_SIZE", default=20),
    # Back-off between tries: base, 2x, 4x ... capped at the maximum.
    "OUTBOX_RETRY_BASE_SECONDS": env.int("OUTBOX_RETRY_BASE_SECONDS", default=60),
    "OUTBOX_RETRY_MAX_SECONDS": env.int("OUTBOX_RETRY_MAX_SECONDS", default=900),
    # One flush_outbox run stops after this long (below the task time limits).
    "OUTBOX_FLUSH_TIME_BUDGET": env.int("OUTBOX_FLUSH_TIME_BUDGET", default=240),
    # Parallel flush tasks queued after a scan writes many rows.
    "OUTBOX_FLUSH_FANOUT": env.int("OUTBOX_FLUSH_FANOUT", default=2),
    # How long a running import job is left alone after its worker's last
    # renewal (renewed every third of it with the progress, PostgreSQL only).
    "IMPORT_LEASE_SECONDS": env.int("IMPORT_LEASE_SECONDS", default=90),
    # Priority-1 partners with no engagement for this many days are "going quiet".
    "QUIET_AFTER_DAYS": 90,
}

# Calendar invitations (.ics) read into planned engagements (engagements.invitations, docs/invitations.md):
# the largest file read, from the upload page or a captured message.
INVITATION_MAX_BYTES = env.int("INVITATION_MAX_BYTES", default=1024 * 1024)

# --- Email capture (mailcapture/, docs/mail_capture.md): each MAIL_CAPTURE_* explained in envconfig.py ---
(MAIL_CAPTURE_URL, MAIL_CAPTURE_OAUTH2_TOKEN, MAIL_CAPTURE_OAUTH2_TOKEN_FILE, MAIL_CAPTURE_DONE_FOLDER,
 MAIL_CAPTURE_DEFAULT_CONFIDENTIALITY, MAIL_CAPTURE_BATCH, MAIL_CAPTURE_TIMEOUT_SECONDS, MAIL_CAPTURE_CA_FILE,
 ) = mail_capture(env)
