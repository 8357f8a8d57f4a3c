"""API test fixtures: token clients for the cast, a small world of records, DB snapshots."""

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from engagements.models import Commitment, Engagement, Gift, TradeMission
from partners.models import Agreement, Contact, Partner, Topic
from tests import factories

ROLES = ("anonymous", "viewer", "staff", "officer", "superuser")
COUNTED = (Topic, Partner, Contact, Agreement, Engagement, TradeMission, Commitment, Gift)


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
def world(db):
    partner = factories.PartnerFactory(name="Consulate General of Japan", country="JP")
    return {
        "partner": partner,
        "contact": factories.ContactFactory(partner=partner),
        "topic": factories.TopicFactory(name="Trade", slug="trade"),
        "mission": factories.TradeMissionFactory(),
    }


def _snapshot_sql() -> str:
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
