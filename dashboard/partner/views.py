"""Every page about a partner that shows engagement facts, so needs the layers below.

- /partners/ (the list, with last contact and open commitments, confidentiality applied)
- /partners/<id>/ (its history)
- /contacts/<id>/ (a contact, with the meetings they attended)

Its edit, archive, quick add and lookup need nothing above partners/ and stay in
partners/views.py; its briefing is dashboard/briefing/views.py; its record history
(who changed what) is history/views.py. diplomacy_crm/urls.py lists them together.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_safe

from accounts import access
from dashboard.common_views import _load_permissions, _page_number
from dashboard.partner import selectors
from diplomacy_crm.views import list_page, render_page
from engagements.selectors import engagements_for, partners_for
from partners.filters import PartnerFilter
from partners.models import Contact


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

PARTNER_CSV = [
    ("id", lambda p: p.pk),
    ("name", lambda p: p.name),
    ("kind", lambda p: p.kind),
    ("country", lambda p: p.country.code if p.country else ""),
    ("city", lambda p: p.city),
    ("parent", lambda p: p.parent.name if p.parent else ""),
    ("priority", lambda p: p.priority),
    ("status", lambda p: p.status),
    ("owner", lambda p: p.owner.get_username() if p.owner else ""),
    ("topics", lambda p: ", ".join(t.slug for t in p.topics.all())),
    ("last_engagement_at", lambda p: p.last_engagement_at),
    ("open_commitments", lambda p: p.open_commitments),
    ("website", lambda p: p.website),
]


@login_required
@require_GET
def partner_list(request):
    return list_page(
        request,
        queryset=partners_for(request.user).prefetch_related("topics"),
        filterset_class=PartnerFilter,
        template="partners/partner_list.html",
        columns=PARTNER_CSV,
        filename="partners.csv",
        context={"can_add": request.user.has_perm("partners.add_partner")},
    )


@login_required
@require_GET
def contact_detail(request, pk):
    contact = access.access_contact(request.user, pk, Contact.objects.select_related("partner"))
    # Materialised here (the template runs no query): the 25 latest meetings they attended.
    engagements = list(
        engagements_for(request.user).filter(contacts=contact).order_by("-starts_at", "-pk")[:25]
    )
    return render_page(
        request,
        "partners/contact_detail.html",
        {
            "contact": contact,
            "engagements": engagements,
            "can_edit": request.user.has_perm("partners.change_contact"),
            "can_delete": request.user.has_perm("partners.delete_contact"),
        },
    )
