"""Degrade, don't fall: with Redis gone, pages and the API work and /healthz says why, quickly.

A Redis server of the test's own (`private_redis`: redis-server on a spare
port, no persistence) backs the cache and is named as the broker; the test
warms the cache through it, then kills it and walks every page and API list.
"""

import json
import socket
import time

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from diplomacy_crm import cache as fail_open
from diplomacy_crm.health import CHECK_TIMEOUT
from imports import services as import_services
from partners.models import Partner
from tests.integration.import_helpers import PARTNER_HEADER, PARTNER_ROWS, csv_bytes

pytestmark = pytest.mark.django_db

API_LISTS = ["topics", "partners", "contacts", "engagements", "trade-missions", "commitments", "agreements", "gifts"]
# Sign-out ends the session the walk uses; /healthz is meant to say 503 (its own tests below).
SKIP_ROUTES = {"logout", "healthz"}


def reset_celery_pools(app) -> None:
    """Forget the app's broker connections, so the next publish connects to app.conf.broker_url."""
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(autouse=True)
def celery_broker_restored():
    from diplomacy_crm.celery import app

    keys = ("broker_url", "broker_transport_options", "broker_connection_timeout", "task_publish_retry_policy")
    previous = {key: app.conf[key] for key in keys}
    yield
    app.conf.update(previous)
    reset_celery_pools(app)


def redis_settings(settings, url: str) -> None:
    from diplomacy_crm.celery import app

    settings.CACHES = {
        "default": {
            "BACKEND": "diplomacy_crm.cache.FailOpenRedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
        }
    }
    settings.CELERY_BROKER_URL = url
    app.conf.broker_url = url
    fail_open.outage.reset()


def parameterless_pages() -> list[str]:
    """Every route of the site that takes no argument (the admin apart), as a URL."""
    urls = []

    def walk(patterns, prefix: str):
        for pattern in patterns:
            route = str(pattern.pattern)
            if "<" in route or "(?P" in route:
                continue
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                walk(pattern.url_patterns, prefix + route)
            elif isinstance(pattern, URLPattern) and pattern.name not in SKIP_ROUTES:
                urls.append("/" + (prefix + route).lstrip("^").rstrip("$").replace("^", ""))

    walk(get_resolver().url_patterns, "")
    return sorted(set(urls))


def detail_pages(w) -> list[str]:
    return [
        f"/partners/{w['japan'].pk}/",
        f"/engagements/{w['public'].pk}/",
        f"/commitments/{w['open_promise'].pk}/",
        f"/missions/{w['mission'].pk}/",
        f"/agreements/{w['agreement'].pk}/",
    ]


def walk_site(client: Client, w) -> dict[str, int]:
    statuses = {}
    for url in [*parameterless_pages(), *detail_pages(w), *(f"/api/v1/{name}/" for name in API_LISTS)]:
        statuses[url] = client.get(url).status_code
    return statuses


@pytest.fixture
def officer_client(client_for):
    return client_for("officer", raise_request_exception=False)  # a 500 is a status to report here, not an exception


def test_pages_and_the_api_keep_working_when_redis_dies(settings, private_redis, world, officer_client, caplog):  # noqa: F811
    redis_settings(settings, private_redis.url)
    # Up: the site uses the cache (the dashboard's figures, the API throttle).
    up = walk_site(officer_client, world)
    assert [url for url, status in up.items() if status >= 500] == []
    import redis

    assert redis.Redis.from_url(private_redis.url).dbsize() > 0, "the pages did not use the Redis cache"

    private_redis.stop()
    started = time.monotonic()
    down = walk_site(officer_client, world)
    elapsed = time.monotonic() - started
    assert [url for url, status in down.items() if status >= 500] == []
    assert down == up, "a page answered differently without its cache"
    assert len(down) > 40
    # The circuit keeps requests from waiting on the dead socket one by one.
    assert elapsed < 30
    # Writes still work, and the dashboard shows them (uncached).
    response = officer_client.post(
        "/api/v1/partners/", {"name": "Sister City of Busan", "kind": "city", "country": "KR"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert Partner.objects.filter(name="Sister City of Busan").exists()
    listed = officer_client.get("/api/v1/partners/?page_size=100").json()
    assert "Sister City of Busan" in [row["name"] for row in listed["results"]]
    # Logged, but not once per failure.
    warnings = [r for r in caplog.records if r.name == "diplomacy_crm.cache"]
    assert 1 <= len(warnings) <= 2
    assert "cache unavailable" in warnings[0].getMessage()


def test_healthz_answers_503_within_its_bound_with_the_reason(settings, private_redis, client):
    redis_settings(settings, private_redis.url)
    up = client.get("/healthz")
    assert up.status_code == 200
    assert up.json() == {"status": "ok", "database": "ok", "broker": "ok", "cache": "ok", "embedded": up.json()["embedded"]}
    assert "broker" not in up.json()["embedded"]

    private_redis.stop()
    started = time.monotonic()
    down = client.get("/healthz")
    elapsed = time.monotonic() - started
    assert down.status_code == 503
    body = down.json()
    assert body["status"] == "error" and body["database"] == "ok"
    assert body["broker"].startswith("error: ConnectionError: ")
    assert "Connection refused" in body["broker"]
    assert body["cache"] == body["broker"]
    assert elapsed < 2 * CHECK_TIMEOUT


def test_healthz_gives_up_on_a_redis_that_hangs(settings, client):
    """A host that accepts the connection and never answers: the socket timeout, not the client's retries."""
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(8)  # never accepted: the kernel completes the handshake, nobody replies
    try:
        redis_settings(settings, f"redis://127.0.0.1:{hung.getsockname()[1]}/0")
        started = time.monotonic()
        response = client.get("/healthz")
        elapsed = time.monotonic() - started
        assert response.status_code == 503
        assert "Timeout" in response.json()["broker"]
        assert CHECK_TIMEOUT <= elapsed < 2 * CHECK_TIMEOUT + 0.3
        # A page reading the cache waits for one socket timeout at most, then the circuit is open.
        started = time.monotonic()
        from django.core.cache import cache

        assert cache.get("anything", "miss") == "miss"
        assert cache.get("anything else", "miss") == "miss"
        assert time.monotonic() - started < 1.0
    finally:
        hung.close()


def test_an_unexpected_error_inside_the_api_answers_json(officer_client, monkeypatch):
    from api import views

    def explode(self, request, *args, **kwargs):
        raise RuntimeError("a bug, or a backend gone")

    monkeypatch.setattr(views.TopicViewSet, "list", explode)
    response = officer_client.get("/api/v1/topics/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {
        "detail": "A server error occurred; nothing more is known here. The team has been told."
    }
    assert "a bug" not in response.content.decode()
    # Outside the API the error page stays HTML; an unknown API URL is a JSON 404.
    missing = officer_client.get("/api/v1/no-such-thing/")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not found."}
    assert officer_client.get("/no-such-page/")["Content-Type"].startswith("text/html")


def test_an_import_whose_task_cannot_be_queued_says_so_at_once(
    settings, private_redis, officer, topics, monkeypatch, django_capture_on_commit_callbacks  # noqa: F811
):
    """An import with the broker down: failed at once with the reason, never left "checking" forever."""
    from diplomacy_crm.celery import app

    redis_settings(settings, private_redis.url)
    # What settings.py gives the app when REDIS_URL is set (the suite itself runs on the folder broker).
    app.conf.broker_transport_options = {"socket_connect_timeout": 1, "socket_timeout": 5}
    app.conf.broker_connection_timeout = 1
    app.conf.task_publish_retry_policy = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
    reset_celery_pools(app)
    private_redis.stop()

    job = import_services.import_job_create(user=officer, kind="partners", filename="p.csv",
                                            data=csv_bytes([PARTNER_HEADER, *PARTNER_ROWS]))
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        import_services.import_job_start(job=job, commit=False)
    elapsed = time.monotonic() - started
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.message == "The job could not be queued (the task broker is unreachable). Try again later."
    assert elapsed < 3
