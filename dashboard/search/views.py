"""/search/?q=…: ranked, highlighted results the user may see."""

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_safe

from dashboard.common_views import _page_number
from dashboard.search import selectors as search
from diplomacy_crm.views import render_page


@require_safe
@login_required
def search_page(request):
    """/search/?q=…[&type=partner][&page=2]: ranked, highlighted results the user may see."""
    results = search.search(
        request.user, request.GET.get("q", ""), type_key=request.GET.get("type"), page=_page_number(request)
    )
    return render_page(request, "dashboard/search.html", {"results": results, "types": search.TYPES})
