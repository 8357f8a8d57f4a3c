"""Fixtures of the email capture tests: the partner and contact mail names, the attachments storage,
and a real IMAP server (Dovecot) on loopback (tests/mailcapture/dovecot.py)."""

import pytest
from django.core.files.storage import storages

from tests.factories import ContactFactory, PartnerFactory

from . import messages as m


@pytest.fixture(autouse=True)
def attachment_storage(settings, tmp_path):
    root = tmp_path / "attachments"
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    assert storages["attachments"].location == str(root)
    return root


@pytest.fixture
def osaka(db):
    partner = PartnerFactory(name="City of Osaka", kind="city", country="JP", website=m.OSAKA_SITE)
    partner.contact = ContactFactory(partner=partner, full_name="Hana Sato", email="Hana.Sato@city.osaka.lg.jp")
    return partner


@pytest.fixture
def vietnam_mofa(db):
    return PartnerFactory(name="Ministry of Foreign Affairs of Viet Nam", kind="national_government", country="VN",
                          website="https://www.mofa.gov.vn")
