"""Absolute links that leave the building (emails, calendar feeds): SITE_URL + a path, never the request's host."""

from urllib.parse import urlsplit

from django.conf import settings


def site_url(path: str) -> str:
    """SITE_URL joined with a site path ("/engagements/12/")."""
    return settings.SITE_URL.rstrip("/") + path


def site_host(default: str) -> str:
    """The host name of SITE_URL, or `default` when it has none."""
    return urlsplit(settings.SITE_URL).hostname or default
