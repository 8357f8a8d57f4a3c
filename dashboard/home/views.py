"""The dashboard (home page). Views stay thin: one selector call that returns materialised lists
(so the template runs no query), then render."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe

from dashboard.common_views import _load_permissions
from dashboard.home import selectors


@require_safe
@login_required
def home(request):
    data = selectors.dashboard(request.user)
    _load_permissions(request.user)
    return render(request, "dashboard/home.html", {"dash": data})
