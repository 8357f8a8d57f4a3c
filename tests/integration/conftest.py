"""Fixtures for the integration suite. The notification fixtures are built in conftest_notifications.py;
the import tests' helpers are in import_helpers.py.
"""

import pytest

from partners.models import Topic

from .conftest_notifications import (  # noqa: F401
    celery_workers,
    outbox_to_sink,
    private_redis,
    smtp_sink,
)
from .import_helpers import PARTNER_HEADER, PARTNER_ROWS, csv_bytes


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "reliability: long crash-injection variants, run with RUN_RELIABILITY=1 (nightly)"
    )


@pytest.fixture
def topics(db):
    return [
        Topic.objects.create(name="Trade", slug="trade"),
        Topic.objects.create(name="Climate", slug="climate"),
    ]


@pytest.fixture
def partners_csv(topics) -> bytes:
    return csv_bytes([PARTNER_HEADER, *PARTNER_ROWS])
