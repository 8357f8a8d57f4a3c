"""Type-ahead lookups of the engagements layer (static/js/picker.js asks them as the user types), beside
partners.views.partner_lookup and contact_lookup: the same JSON shape ({"results": [{id, text, …}]})."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from diplomacy_crm.filters import SEARCH_MAX
from diplomacy_crm.text import folded_match

from .forms import mission_label
from .selectors import missions_for

LOOKUP_LIMIT = 20


@login_required
@require_GET
def mission_lookup(request):
    """`?q=` → up to 20 trade missions the user may see {id, name, start_date, text}, the newest first; the words
    folded ("Sao Paulo" finds "São Paulo") in the name or the cities."""
    q = request.GET.get("q", "").replace("\x00", "")[:SEARCH_MAX].strip()
    missions = folded_match(missions_for(request.user), ["name", "cities"], q, max_words=5)
    missions = missions.order_by("-start_date", "-pk").only("pk", "name", "start_date")[:LOOKUP_LIMIT]
    results = [
        {"id": m.pk, "name": m.name, "start_date": m.start_date.isoformat(), "text": mission_label(m)}
        for m in missions
    ]
    return JsonResponse({"results": results})
