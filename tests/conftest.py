"""Shared fixtures: the cast of users, and the real services tests may need.

Cast (one per role of the contract, plus the edge cases; made by tests/world.py):
  viewer       reads everything but restricted records
  staff_user   logs meetings; sees restricted ones only where they took part
  other_staff  a staff member who took part in nothing
  officer      sees and does everything
  superuser

One way to get a client per role: `client_for("viewer")` (roles as the product
names them: anonymous, viewer, staff, other_staff, officer, superuser) gives a
test client signed in as that member of the cast; `client_for(user)` signs in
a user the test made. One `world` (tests/world.build_world): partners in Japan
and Viet Nam, a public and a restricted meeting (`staff_user` took part),
commitments, a mission and an agreement. The other folders build on it under
their own names: `matrix_world` (tests/security/conftest.py: the world, built
once per module, plus a marked meeting per confidentiality case and the
no-role users) and `api_world` (tests/api/conftest.py: the world's directory,
the records request bodies refer to). There is no other login helper: tests that need
a signed-in page client use `client_for`.

Services: `require_service(name, reason)` skips a test when a service is
missing, or fails it when REQUIRE_SERVICES=1 (CI), so nothing is silently
skipped there.
"""

import os
import shutil
import socket
from urllib.parse import urlparse

import pytest

from tests.world import build_world, make_cast_member, make_superuser

# Playwright's sync API runs an event loop in the test thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES", "") == "1"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def require_service(available: bool, reason: str) -> None:
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@pytest.fixture
def postgres_required(settings):
    require_service(
        settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql",
        "this test needs PostgreSQL (set DATABASE_URL=postgres://...)",
    )


@pytest.fixture(scope="session")
def redis_url():
    """A Redis URL on a spare database number (9 and up), flushed before use."""
    url = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    parsed = urlparse(url)
    require_service(
        port_open(parsed.hostname or "127.0.0.1", parsed.port or 6379),
        f"Redis is not reachable at {parsed.hostname}:{parsed.port or 6379}",
    )
    # One database per xdist worker (gw0 → 9, gw1 → 10 …): parallel runs never share queues.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    db = 9 + int(worker[2:] or 0)
    test_url = f"redis://{parsed.hostname or '127.0.0.1'}:{parsed.port or 6379}/{db}"
    import redis

    redis.Redis.from_url(test_url).flushdb()
    return test_url


@pytest.fixture(scope="session", autouse=True)
def _flush_by_delete():
    """On PostgreSQL, a transactional test's flush empties the tables with DELETE, not TRUNCATE.

    After every transactional test (browser, Celery, threads) Django's flush
    truncates all ~60 tables: PostgreSQL makes new files for each, over a second
    a test on a busy 2-core machine. The tables hold a test's few rows, which
    DELETE removes in milliseconds. Same end state: every table empty in one
    transaction (foreign keys are deferred: Django makes them DEFERRABLE, and
    no table has a trigger), sequences untouched as without reset_sequences.
    A flush that asks for more (reset sequences, cascade) still truncates.
    """
    from django.db import connections

    patched = []
    for conn in connections.all():
        ops_class = type(conn.ops)
        if conn.vendor != "postgresql" or ops_class in patched:
            continue
        truncate = ops_class.sql_flush

        def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False, _truncate=truncate):
            if reset_sequences or allow_cascade or not tables:
                return _truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
            return ["SET CONSTRAINTS ALL DEFERRED;"] + [
                f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};" for table in tables
            ]

        ops_class.sql_flush = sql_flush
        patched.append((ops_class, truncate))
    yield
    for ops_class, truncate in patched:
        ops_class.sql_flush = truncate


@pytest.fixture(scope="session")
def chromium_path():
    require_service(shutil.which(CHROMIUM) is not None or os.path.exists(CHROMIUM), f"Chromium not found at {CHROMIUM}")
    return CHROMIUM


BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def crm_browser(chromium_path, live_server):
    """One Chromium (Debian's) per test session, shared by every browser test.

    Playwright's sync API runs one event loop per thread: a second
    sync_playwright() while this one lives fails, so all browser tests use this.
    Depending on live_server makes Chromium close before the server's threads.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=BROWSER_ARGS)
        yield browser
        browser.close()


def _cast_member(fixture_name: str, role: str):
    @pytest.fixture(name=fixture_name)
    def member(django_user_model):
        return make_cast_member(django_user_model, role)

    member.__doc__ = f"The cast's {role} (tests/world.CAST)."
    return member


viewer = _cast_member("viewer", "viewer")
staff_user = _cast_member("staff_user", "staff")
other_staff = _cast_member("other_staff", "other_staff")
officer = _cast_member("officer", "officer")


@pytest.fixture
def superuser(django_user_model):
    return make_superuser(django_user_model)


# --- One client per role -----------------------------------------------------------------
ROLES = {
    "anonymous": None,
    "viewer": "viewer",
    "staff": "staff_user",
    "other_staff": "other_staff",
    "officer": "officer",
    "superuser": "superuser",
}


@pytest.fixture
def client_for(request, db):
    """client_for("officer") → a new test client signed in as the cast's officer ("anonymous": signed out).

    client_for(user) signs in a given user (one made in the test, e.g. a second officer or a user with no role);
    client_for(None) is a signed-out client; keyword arguments go to Client (raise_request_exception=False…). Each call gives a new client, so two roles can work side by side.
    """
    from django.test import Client

    def make(who, **client_options) -> Client:
        client = Client(**client_options)
        if isinstance(who, str):
            if who not in ROLES:
                raise KeyError(f"no role {who!r}; the roles are {', '.join(ROLES)}")
            who = request.getfixturevalue(ROLES[who]) if ROLES[who] is not None else None
        if who is not None:
            client.force_login(who)
        return client

    return make


# --- One world ---------------------------------------------------------------------------
@pytest.fixture
def world(db, staff_user):
    """Partners in Japan and Vietnam, a public and a restricted meeting (staff_user took part), commitments, a mission."""
    return build_world(staff_user)


@pytest.fixture
def attachment_storage(settings, tmp_path):
    """The "attachments" storage in the test's own directory (as configured in production: a FileSystemStorage),
    never var/; returns that directory. Folders whose tests upload files use it autouse (their conftest)."""
    from django.core.files.storage import storages

    root = tmp_path / "attachments"
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    assert storages["attachments"].location == str(root)
    return root
