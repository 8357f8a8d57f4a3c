"""The pages that combine everything: dashboard, partner history, country view.

Views stay thin: one selector call that returns materialised lists (so the
template runs no query), then render.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe

from diplomacy_crm.views import render_page

from . import search, selectors


def _page_number(request) -> int:
    try:
        return int(request.GET.get("page", "1"))
    except ValueError:
        return 1


def _load_permissions(user) -> bool:
    """Fill the user's permission cache now, so the layout's `perms` checks cost no query while rendering.

    Returns whether the user may edit partners, which the history page needs anyway.
    """
    return user.has_perm("partners.change_partner")


@require_safe
@login_required
def home(request):
    data = selectors.dashboard(request.user)
    _load_permissions(request.user)
    return render(request, "dashboard/home.html", {"dash": data})


@require_safe
@login_required
def partner_history(request, pk):
    history = selectors.partner_history(request.user, pk, page=_page_number(request))
    can_edit = _load_permissions(request.user)
    return render(
        request,
        "dashboard/partner_history.html",
        {"history": history, "partner": history.partner, "can_edit_partner": can_edit},
    )


@require_safe
@login_required
def country(request, code):
    overview = selectors.country_overview(request.user, code)
    _load_permissions(request.user)
    return render(request, "dashboard/country.html", {"overview": overview, "country": overview.country})


@require_safe
@login_required
def search_page(request):
    """/search/?q=…[&type=partner][&page=2]: ranked, highlighted results the user may see."""
    results = search.search(
        request.user, request.GET.get("q", ""), type_key=request.GET.get("type"), page=_page_number(request)
    )
    return render_page(request, "dashboard/search.html", {"results": results, "types": search.TYPES})
