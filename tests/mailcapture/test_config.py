"""MAIL_CAPTURE_URL and OAuth2: what the URL may say, and an XOAUTH2 sign-in against the real server."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from engagements.models import Engagement
from mailcapture.imap import config_from_url
from mailcapture.poll import poll_mailbox

from . import messages as m
from .dovecot import PASSWORD, USER


def test_the_url_gives_server_account_and_folder():
    config = config_from_url("imaps://crm%40city.gov:p%40ss%2Fword@mail.city.gov/Capture%20Box")
    assert (config.secure, config.host, config.port) == (True, "mail.city.gov", 993)
    assert (config.username, config.password, config.folder) == ("crm@city.gov", "p@ss/word", "Capture Box")
    assert config.address == "crm@city.gov" and not config.xoauth2
    plain = config_from_url("imap://u:p@127.0.0.1:1143")
    assert (plain.secure, plain.port, plain.folder) == (False, 1143, "INBOX")
    assert config_from_url("imaps://crm@outlook.office365.com/INBOX?auth=xoauth2").xoauth2


@pytest.mark.parametrize("url", ["pop3://u:p@host/", "imaps://host/INBOX", "imaps://u:p@/INBOX", "imaps://u@h/?auth=ntlm"])
def test_a_malformed_url_is_a_clear_startup_error(url):
    with pytest.raises(ImproperlyConfigured, match="MAIL_CAPTURE_URL"):
        config_from_url(url)


@pytest.mark.django_db
def test_oauth2_sign_in_with_a_token_read_from_a_file_at_each_poll(mailbox, settings, tmp_path, staff_user, osaka):
    token_file = tmp_path / "token"
    token_file.write_text("expired-token\n")
    settings.MAIL_CAPTURE_URL = f"imap://{USER}@127.0.0.1:{mailbox.port}/INBOX?auth=xoauth2"
    settings.MAIL_CAPTURE_OAUTH2_TOKEN_FILE = str(token_file)
    mailbox.deliver(m.bcc_reply(staff_user.email))

    refused = poll_mailbox()
    assert not refused.ok and "AUTHENTICATIONFAILED" in refused.error and not Engagement.objects.exists()

    token_file.write_text(PASSWORD + "\n")  # the refresher outside the app wrote a new token
    report = poll_mailbox()
    assert report.ok and Engagement.objects.count() == 1 and mailbox.message_ids() == []


@pytest.mark.django_db  # Celery's Django fixup closes the database connections when it imports the task modules
def test_beat_polls_the_mailbox_every_minute(settings):
    from diplomacy_crm.celery import app

    assert settings.CELERY_BEAT_SCHEDULE["poll-mail-capture"] == {"task": "poll_mail_capture", "schedule": 60.0}
    app.loader.import_default_modules()
    assert "poll_mail_capture" in app.tasks


@pytest.mark.django_db
def test_imaps_checks_the_certificate_and_trusts_a_given_ca(mailbox, settings, staff_user, osaka):
    settings.MAIL_CAPTURE_URL = mailbox.tls_url
    settings.MAIL_CAPTURE_CA_FILE = ""
    mailbox.deliver(m.bcc_reply(staff_user.email))

    refused = poll_mailbox()  # a self-signed certificate is not the system's to trust
    assert not refused.ok and "CERTIFICATE_VERIFY_FAILED" in refused.error and not Engagement.objects.exists()

    settings.MAIL_CAPTURE_CA_FILE = str(mailbox.cert)
    report = poll_mailbox()
    assert report.ok and Engagement.objects.count() == 1 and mailbox.message_ids() == []
