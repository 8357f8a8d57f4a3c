"""The Redis cache fails open: an unreachable Redis is an empty cache, logged once in a while, never an error."""

import logging
import socket
import time

import pytest

from diplomacy_crm import cache as fail_open
from diplomacy_crm.cache import FailOpenRedisCache


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dead_cache():
    fail_open.outage.reset()
    cache = FailOpenRedisCache(
        f"redis://127.0.0.1:{closed_port()}/0", {"OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5}}
    )
    yield cache
    fail_open.outage.reset()


def test_every_operation_answers_as_an_empty_cache(dead_cache):
    assert dead_cache.get("k") is None
    assert dead_cache.get("k", "fallback") == "fallback"
    assert dead_cache.get("k", default=3) == 3
    assert dead_cache.get_many(["a", "b"]) == {}
    assert dead_cache.has_key("k") is False
    assert dead_cache.set("k", 1) is False
    assert dead_cache.add("k", 1) is False
    assert dead_cache.touch("k") is False
    assert dead_cache.delete("k") is False
    assert dead_cache.set_many({"a": 1, "b": 2}) == ["a", "b"]  # the keys that were not stored
    assert dead_cache.delete_many(["a"]) is None
    assert dead_cache.get_or_set("k", lambda: "computed") == "computed"
    with pytest.raises(ValueError):  # as for a missing key: callers such as a generation counter handle it
        dead_cache.incr("k")


def test_failures_are_logged_once_per_window_and_the_circuit_skips_redis(dead_cache, caplog, monkeypatch):
    caplog.set_level(logging.WARNING, logger="diplomacy_crm.cache")
    calls = []
    real_get = fail_open.RedisCache.get

    def counting_get(self, *args, **kwargs):
        calls.append(1)
        return real_get(self, *args, **kwargs)

    monkeypatch.setattr(fail_open.RedisCache, "get", counting_get)
    monkeypatch.setattr(FailOpenRedisCache, "get", fail_open._fail_open("get", fail_open._default_of_get))
    for _ in range(50):
        dead_cache.get("k")
    assert len(calls) == 1, "Redis was asked again while the circuit was open"
    messages = [r.getMessage() for r in caplog.records if r.name == "diplomacy_crm.cache"]
    assert len(messages) == 1
    assert "cache unavailable, serving uncached (get failed: ConnectionError" in messages[0]
    # After the break Redis is tried again; the next warning counts what was suppressed.
    monkeypatch.setattr(fail_open, "BREAK_SECONDS", 0.0)
    monkeypatch.setattr(fail_open, "LOG_EVERY_SECONDS", 0.0)
    fail_open.outage.skip_until = 0.0
    dead_cache.get("k")
    dead_cache.get("k")
    assert len(calls) == 3
    assert "failures since the last warning" in caplog.records[-1].getMessage()


def test_a_live_redis_is_used_normally(redis_url):
    fail_open.outage.reset()
    cache = FailOpenRedisCache(redis_url, {})
    cache.set("fail-open-test", {"n": 1}, 30)
    assert cache.get("fail-open-test") == {"n": 1}
    cache.delete("fail-open-counter")
    assert cache.add("fail-open-counter", 1) is True
    assert cache.incr("fail-open-counter") == 2
    cache.delete_many(["fail-open-test", "fail-open-counter"])


def test_the_first_failure_costs_one_socket_timeout_at_most(dead_cache):
    started = time.monotonic()
    for _ in range(20):
        dead_cache.get("k")
    assert time.monotonic() - started < 0.6
