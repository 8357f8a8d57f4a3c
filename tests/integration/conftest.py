"""Fixtures for the integration suite. Each area keeps its own in conftest_<area>.py."""

from .conftest_notifications import (  # noqa: F401
    celery_workers,
    outbox_to_sink,
    private_redis,
    smtp_sink,
)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "reliability: long crash-injection variants, run with RUN_RELIABILITY=1 (nightly)"
    )
