"""Fixtures of the email capture tests: the partner and contact mail names, the attachments storage,
and a real IMAP server (Dovecot) on loopback (tests/mailcapture/dovecot.py)."""

import pytest

from tests.factories import ContactFactory, PartnerFactory

from . import messages as m


@pytest.fixture(autouse=True)
def _files_in_the_tests_directory(attachment_storage):
    return attachment_storage


@pytest.fixture
def osaka(db):
    partner = PartnerFactory(name="City of Osaka", kind="city", country="JP", website=m.OSAKA_SITE)
    partner.contact = ContactFactory(partner=partner, full_name="Hana Sato", email="Hana.Sato@city.osaka.lg.jp")
    return partner


@pytest.fixture
def vietnam_mofa(db):
    return PartnerFactory(name="Ministry of Foreign Affairs of Viet Nam", kind="national_government", country="VN",
                          website="https://www.mofa.gov.vn")


@pytest.fixture(scope="session")
def dovecot_server():
    from tests.conftest import require_service

    from .dovecot import Dovecot, binary

    require_service(binary() is not None, "dovecot is not installed (apt-get install dovecot-imapd)")
    server = Dovecot().start()
    yield server
    server.destroy()


@pytest.fixture
def mailbox(dovecot_server, settings):
    """The capture mailbox, empty and running, configured as MAIL_CAPTURE_URL."""
    dovecot_server.start()
    dovecot_server.empty()
    settings.MAIL_CAPTURE_URL = dovecot_server.url
    settings.MAIL_CAPTURE_DONE_FOLDER = ""
    settings.MAIL_CAPTURE_OAUTH2_TOKEN_FILE = ""
    yield dovecot_server
    dovecot_server.start()  # a test that stopped it leaves it running for the next


# The integration suite's real Celery workers (and the SMTP sink they send to), for the killed-worker test.
from tests.integration.conftest import celery_workers, smtp_sink  # noqa: F401
