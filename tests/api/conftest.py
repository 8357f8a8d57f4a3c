"""API test fixtures: token clients for the cast (tests/world.CAST, made once per module), `api_world`
(the common world's directory: tests/world.build_directory), DB snapshots."""

import functools

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from attachments.models import Attachment
from engagements.models import Commitment, Engagement, Gift, TradeMission
from partners.models import Agreement, Contact, Partner, Topic
from tests.world import build_directory, make_cast_member, make_superuser

ROLES = ("anonymous", "viewer", "staff", "officer", "superuser")
COUNTED = (Topic, Partner, Contact, Agreement, Engagement, TradeMission, Commitment, Gift, Attachment)


@pytest.fixture(autouse=True)
def _files_in_the_tests_directory(attachment_storage):
    return attachment_storage


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # Throttle history lives in the cache; one test's requests must not throttle the next.
    cache.clear()
    yield
    cache.clear()


def token_client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


# --- The cast, created once per module ------------------------------------------------------
# Creating five users (groups, profiles) per test was most of the API suite's set-up time. The
# users are created once per module in a transaction rolled back at its end; every test still runs
# in its own savepoint (pytest-django's `db`), so its writes vanish, and gets freshly loaded user
# objects, so nothing a test does to its instances leaks into the next test.
# fixture name -> the cast's role (tests/world.CAST)
CAST_ROLES = {"viewer": "viewer", "staff_user": "staff", "other_staff": "other_staff", "officer": "officer"}


# Modules that run a management command from its command line: BaseCommand.run_from_argv() closes
# the database connections, which would end the module's transaction. They create users per test.
CAST_PER_TEST_MODULES = {"test_auth"}


@pytest.fixture(scope="module")
def _module_cast(request, django_db_setup, django_db_blocker):
    """fixture name -> user pk, for users that live as long as the module (None: create them per test)."""
    from django.contrib.auth import get_user_model

    if request.module.__name__.rsplit(".", 1)[-1] in CAST_PER_TEST_MODULES:
        yield None
        return
    User = get_user_model()
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            pks = {}
            for name, role in CAST_ROLES.items():
                pks[name] = make_cast_member(User, role).pk
            pks["superuser"] = make_superuser(User).pk
            yield pks
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _cast_member(name: str):
    @pytest.fixture(name=name)
    def member(_module_cast, db, django_user_model):
        if _module_cast is None:
            if name == "superuser":
                return make_superuser(django_user_model)
            return make_cast_member(django_user_model, CAST_ROLES[name])
        return django_user_model.objects.get(pk=_module_cast[name])

    member.__doc__ = f"The module's {name}, loaded afresh for each test."
    return member


viewer = _cast_member("viewer")
staff_user = _cast_member("staff_user")
other_staff = _cast_member("other_staff")
officer = _cast_member("officer")
superuser = _cast_member("superuser")


@pytest.fixture
def cast(viewer, staff_user, other_staff, officer, superuser):
    return {
        "anonymous": None,
        "viewer": viewer,
        "staff": staff_user,
        "other_staff": other_staff,
        "officer": officer,
        "superuser": superuser,
    }


@pytest.fixture
def client_as(cast):
    """client_as("viewer") -> an APIClient with that user's token (none for "anonymous")."""
    return lambda role: token_client(cast[role])


@pytest.fixture
def api_world(db):
    """The common world's directory (a topic, a partner in Japan, its consul, a mission): what request bodies refer to.

    `partner` and `contact` name the directory's `japan` and `consul` for the API resources (tests/api/resources.py).
    """
    directory = build_directory()
    return {**directory, "partner": directory["japan"], "contact": directory["consul"]}


@functools.cache
def _snapshot_sql() -> str:
    """Built once: each `model.history` builds a manager class, and the bad-input suite takes thousands of snapshots."""
    parts = []
    for model in COUNTED:
        tables = [model._meta.db_table, model.history.model._meta.db_table]
        tables += [m2m.remote_field.through._meta.db_table for m2m in model._meta.many_to_many]
        for table in tables:
            parts += [f"(SELECT COUNT(*) FROM {table})", f"(SELECT MAX(id) FROM {table})"]
        if any(f.name == "updated_at" for f in model._meta.fields):
            parts.append(f"(SELECT MAX(updated_at) FROM {model._meta.db_table})")
    return "SELECT " + ", ".join(parts)


def db_snapshot() -> tuple:
    """Row count and highest id of every core table, its links and its history, and its latest update.

    One query. Every write goes through a service that saves a history row
    (django-simple-history) and bumps updated_at, so equal snapshots mean
    nothing was created, changed, linked or deleted.
    """
    with connection.cursor() as cursor:
        cursor.execute(_snapshot_sql())
        return tuple(cursor.fetchone())


@pytest.fixture
def snapshot():
    return db_snapshot


# Figures the tests report (S10 counts, generated cases), printed after the run.
REPORT: dict[str, str] = {}


def pytest_terminal_summary(terminalreporter):
    if REPORT:
        terminalreporter.section("API figures")
        for key in sorted(REPORT):
            terminalreporter.write_line(REPORT[key])
