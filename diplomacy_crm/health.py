"""/healthz: is the database answering, are the broker and the cache reachable.

Answers 200 when every check says "ok", 503 otherwise, with the reason of
each failure (`"broker": "error: ConnectionError: Error 111 connecting to
redis.internal:6379. Connection refused."`) and the backends running on an
embedded default (`"embedded": ["mail"]`, see EMBEDDED_DEFAULTS in the README).

Bound: the broker and cache checks give up after CHECK_TIMEOUT (0.5 s) each
(socket connect and read timeouts; one check when both use the same Redis),
so a Redis outage answers 503 in about half a second, not after the broker
client's retries. The database check is one `SELECT 1` on the request's own
connection.
"""

import logging
import os

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 0.5  # seconds, per network check


def _describe(exc: BaseException) -> str:
    return f"error: {exc.__class__.__name__}: {exc}"[:300]


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _ping_redis(url: str) -> str:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT, socket_timeout=CHECK_TIMEOUT)
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


def _broker_url() -> str:
    """The broker the Celery app really uses (settings' CELERY_BROKER_URL, as Celery read it)."""
    from diplomacy_crm.celery import app

    return app.conf.broker_url or ""


def _check_broker() -> str:
    from diplomacy_crm.celery import app

    url = _broker_url()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return _ping_redis(url)
    if url.startswith("filesystem://"):
        folder = app.conf.broker_transport_options["data_folder_out"]
        if not os.access(folder, os.W_OK):
            raise PermissionError(f"the broker folder {folder} is not writable")
        return "ok"
    raise ValueError(f"no health check for the broker {url.split(':', 1)[0]}://")


def _cache_location() -> str | None:
    """The Redis URL of the default cache, or None for a per-process cache."""
    cfg = settings.CACHES["default"]
    if "redis" not in cfg["BACKEND"].lower():
        return None
    location = cfg["LOCATION"]
    return location[0] if isinstance(location, (list, tuple)) else location.split(",")[0]


def embedded_backends() -> list[str]:
    """The backends running on an embedded default instead of a server (EMBEDDED_DEFAULTS)."""
    embedded = {
        "database": settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        "broker": not _broker_url().startswith(("redis://", "rediss://", "unix://")),
        "mail": not settings.MAILERS["default"]["BACKEND"].endswith("smtp.EmailBackend"),
    }
    return [name for name, is_embedded in embedded.items() if is_embedded]


def run_checks() -> dict[str, str]:
    checks: dict[str, str] = {}
    for name, check in (("database", _check_database), ("broker", _check_broker)):
        try:
            checks[name] = check()
        except Exception as exc:  # any failure of a dependency means "unhealthy", with its reason
            log.warning("health check %s failed: %s", name, _describe(exc))
            checks[name] = _describe(exc)
    location = _cache_location()
    if location is None:
        checks["cache"] = "ok"
    elif location == _broker_url():
        checks["cache"] = checks["broker"]  # the same Redis: asked once
    else:
        try:
            checks["cache"] = _ping_redis(location)
        except Exception as exc:
            log.warning("health check cache failed: %s", _describe(exc))
            checks["cache"] = _describe(exc)
    return checks


@never_cache
@require_GET
def healthz(request):
    checks = run_checks()
    healthy = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if healthy else "error", **checks, "embedded": embedded_backends()}
    return JsonResponse(body, status=200 if healthy else 503)
