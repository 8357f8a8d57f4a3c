"""A Redis cache that fails open: with Redis unreachable the site works, uncached.

Django's RedisCache raises redis-py's ConnectionError into the view, so a
Redis outage answered 500 on every page that reads the cache (the dashboard)
and every API call (DRF's throttles read it). Here every operation that fails
on Redis behaves as if the cache were empty: reads miss (`get` gives the
default, `get_many` nothing), writes do nothing (`add` and `set` report
False), `incr` of a missing key raises ValueError as usual.

Each failure opens a short circuit (`BREAK_SECONDS`): operations in the next
seconds go straight to the miss without waiting on the socket again, and one
warning per `LOG_EVERY_SECONDS` per process says what failed and how many
failures it stands for. The socket timeouts (settings' CACHES OPTIONS) bound
the first wait.
"""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache

log = logging.getLogger(__name__)

BREAK_SECONDS = 5.0
LOG_EVERY_SECONDS = 30.0


def _redis_errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import RedisError

    return (RedisError, OSError)


class _Outage:
    """Per-process state: until when Redis is skipped, and the rate-limited warning."""

    def __init__(self):
        self.lock = threading.Lock()
        self.skip_until = 0.0
        self.last_logged = float("-inf")
        self.suppressed = 0

    def failed(self, operation: str, exc: BaseException) -> None:
        now = time.monotonic()
        with self.lock:
            self.skip_until = now + BREAK_SECONDS
            if now - self.last_logged < LOG_EVERY_SECONDS:
                self.suppressed += 1
                return
            suppressed, self.suppressed, self.last_logged = self.suppressed, 0, now
        log.warning(
            "cache unavailable, serving uncached (%s failed: %s: %s; %s more failures since the last warning)",
            operation, exc.__class__.__name__, exc, suppressed,
        )

    def skipping(self) -> bool:
        return time.monotonic() < self.skip_until

    def reset(self) -> None:
        with self.lock:
            self.skip_until, self.last_logged, self.suppressed = 0.0, float("-inf"), 0


outage = _Outage()

_MISSING = object()


def _fail_open(name: str, fallback):
    """Wrap RedisCache.<name>: on a Redis error (or during the break) return fallback(args, kwargs)."""
    method = getattr(RedisCache, name)

    def wrapper(self, *args, **kwargs):
        if outage.skipping():
            return fallback(args, kwargs)
        try:
            return method(self, *args, **kwargs)
        except _redis_errors() as exc:
            outage.failed(name, exc)
            return fallback(args, kwargs)

    wrapper.__name__ = name
    wrapper.__doc__ = method.__doc__
    return wrapper


def _default_of_get(args, kwargs):
    return kwargs.get("default", args[1] if len(args) > 1 else None)


def _missing_key(args, kwargs):
    raise ValueError(f"Key {args[0] if args else kwargs.get('key')!r} not found (the cache is unavailable).")


class FailOpenRedisCache(RedisCache):
    """django.core.cache.backends.redis.RedisCache that never raises a Redis outage into a request."""

    get = _fail_open("get", _default_of_get)
    get_many = _fail_open("get_many", lambda args, kwargs: {})
    has_key = _fail_open("has_key", lambda args, kwargs: False)
    add = _fail_open("add", lambda args, kwargs: False)
    set = _fail_open("set", lambda args, kwargs: False)
    touch = _fail_open("touch", lambda args, kwargs: False)
    delete = _fail_open("delete", lambda args, kwargs: False)
    set_many = _fail_open("set_many", lambda args, kwargs: list((args[0] if args else kwargs.get("data", {})).keys()))
    delete_many = _fail_open("delete_many", lambda args, kwargs: None)
    incr = _fail_open("incr", _missing_key)
    clear = _fail_open("clear", lambda args, kwargs: False)

    def get_or_set(self, key, default, timeout=DEFAULT_TIMEOUT, version=None):
        # BaseCache's version does get, then add, then get again; with Redis down
        # the last get would miss too, so answer the computed default directly.
        value = self.get(key, _MISSING, version=version)
        if value is _MISSING:
            value = default() if callable(default) else default
            if value is not None:
                self.add(key, value, timeout=timeout, version=version)
        return value

    def ping(self) -> None:
        """Raise when Redis does not answer (for /healthz; no fail-open here)."""
        self._cache.get_client(write=True).ping()
