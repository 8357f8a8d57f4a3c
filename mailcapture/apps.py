from django.apps import AppConfig


class MailCaptureConfig(AppConfig):
    """Email capture: the office's mailbox (IMAP, MAIL_CAPTURE_URL) polled each minute; a message forwarded or
    BCC'd by a known user becomes a correspondence engagement, the rest waits in the triage inbox."""

    name = "mailcapture"
    verbose_name = "Email capture"

    def ready(self):
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        from engagements.models import Engagement

        from .imap import config_from_url

        if settings.MAIL_CAPTURE_URL:
            config_from_url(settings.MAIL_CAPTURE_URL)  # a malformed URL is a start-up error, not a failing poll
        levels = Engagement.Confidentiality.values
        if settings.MAIL_CAPTURE_DEFAULT_CONFIDENTIALITY not in ("", *levels):
            raise ImproperlyConfigured(
                f"MAIL_CAPTURE_DEFAULT_CONFIDENTIALITY={settings.MAIL_CAPTURE_DEFAULT_CONFIDENTIALITY!r}: "
                f"use one of {', '.join(levels)} (empty: the most restricted)."
            )
