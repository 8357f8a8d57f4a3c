"""Absolute links for emails: SITE_URL + the record's page, never the request host."""

from django.urls import NoReverseMatch

from diplomacy_crm.links import site_url

# The contract's paths, used while a page's URL name is not wired yet.
FALLBACK_PATHS = {
    "commitment": "/commitments/{pk}/",
    "engagement": "/engagements/{pk}/",
    "agreement": "/agreements/{pk}/",
    "partner": "/partners/{pk}/",
}


def absolute_url(obj, kind: str) -> str:
    try:
        path = obj.get_absolute_url()
    except (NoReverseMatch, AttributeError):
        path = FALLBACK_PATHS[kind].format(pk=obj.pk)
    return site_url(path)
