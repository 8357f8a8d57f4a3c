"""Absolute links that leave the building (emails, calendar feeds): SITE_URL + a path, never the request's host."""

from django.conf import settings


def site_url(path: str) -> str:
    """SITE_URL joined with a site path ("/engagements/12/")."""
    return settings.SITE_URL.rstrip("/") + path
