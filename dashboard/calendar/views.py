"""/calendar.ics?token=… (the personal feed, no login: the token is the credential) and /engagements/<id>/ics/."""

import re

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe
from icalendar import Calendar

from accounts import access
from accounts.models import Profile
from dashboard.calendar.ics import add_timezone, engagement_event, new_calendar, user_feed
from engagements.selectors import engagements_for

# The feed token's alphabet (secrets.token_urlsafe); anything else (a NUL byte, say) is not a token.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _ics_response(cal: Calendar, filename: str, *, attachment: bool) -> HttpResponse:
    response = HttpResponse(cal.to_ical(), content_type="text/calendar; charset=utf-8")
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def feed(request):
    """/calendar.ics?token=…: no session; the token is the credential (404 when unknown or rotated)."""
    token = request.GET.get("token", "")
    if not _TOKEN.fullmatch(token):
        raise Http404("Unknown calendar address.")
    profile = (
        Profile.objects.select_related("user").filter(calendar_token=token, user__is_active=True).first()
    )
    if profile is None:
        raise Http404("Unknown calendar address.")
    return _ics_response(user_feed(profile.user), "crm.ics", attachment=False)


@require_safe
@login_required
def engagement_ics(request, pk):
    """/engagements/<id>/ics/: one engagement as a file to add to a calendar (404 when not visible)."""
    engagement = get_object_or_404(engagements_for(request.user), pk=pk)
    partners = list(
        access.partners_for(request.user).filter(engagements=engagement).only("id", "name").order_by("name", "id")
    )
    cal = new_calendar(engagement.title)
    cal.add("method", "PUBLISH")
    cal.add_component(engagement_event(engagement, partners))
    add_timezone(cal, engagement.starts_at, engagement.ends_at or engagement.starts_at)
    return _ics_response(cal, f"engagement-{engagement.pk}.ics", attachment=True)
