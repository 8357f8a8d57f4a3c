from django.conf import settings


def site(request):
    """What every page needs to know about the site itself."""
    return {"SITE_URL": settings.SITE_URL, "OFFICE_TIME_ZONE": settings.TIME_ZONE}
