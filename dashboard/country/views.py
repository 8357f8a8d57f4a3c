"""/countries/<ISO code>/: everything touching one country."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe

from dashboard.common_views import _load_permissions
from dashboard.country import selectors


@require_safe
@login_required
def country(request, code):
    overview = selectors.country_overview(request.user, code)
    _load_permissions(request.user)
    return render(request, "dashboard/country.html", {"overview": overview, "country": overview.country})
