"""Pages for partners (create, edit, archive, quick-add check, lookup), contacts and agreements.

Only what needs nothing above this layer. The pages that show engagement
facts (the partner list with last contact and open commitments, a partner's
history, a contact's meetings, the briefing) are the top layer's:
dashboard/partner/views.py.
"""


from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from accounts import access
from diplomacy_crm.edits import already_created, create_from_form, update_from_form
from diplomacy_crm.filters import SEARCH_MAX
from diplomacy_crm.text import folded_match
from diplomacy_crm.views import (
    confirm_delete,
    history_entries,
    list_page,
    materialise_choices,
    render_page,
    require_perm,
)

from . import services
from .filters import AgreementFilter, ContactFilter
from .forms import AgreementForm, ContactForm, PartnerForm, QuickPartnerForm, prepare_lookups
from .models import Agreement, Contact, Partner

LOOKUP_LIMIT = 20


def _next_url(request, default: str) -> str:
    """`?next=` when it points back into this site (e.g. the quick-logging form), else `default`."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def _prepare(form) -> None:
    prepare_lookups(form)
    materialise_choices(form)


# --- Partners ---------------------------------------------------------------




@login_required
@require_http_methods(["GET", "POST"])
def partner_create(request):
    require_perm(request, "partners.add_partner")
    if done := already_created(request):
        return done
    form = PartnerForm(request.POST or None, initial={"owner": request.user if request.user.has_perm("partners.change_partner") else None})
    if request.method == "POST" and form.is_valid() and form.no_likely_duplicate(access.partners_for(request.user)):
        partner, done = create_from_form(request, form, services.partner_create)
        if done:
            return done
        if partner:
            messages.success(request, f"Partner “{partner.name}” added.")
            return redirect(_next_url(request, partner.get_absolute_url()))
    _prepare(form)
    return render_page(request, "partners/partner_form.html", {"form": form, "next": _next_url(request, "")})


@login_required
@require_http_methods(["GET", "POST"])
def partner_edit(request, pk):
    require_perm(request, "partners.change_partner")
    partner = access.access_partner(request.user, pk)
    form = PartnerForm(request.POST or None, instance=partner)
    if request.method == "POST" and form.is_valid():
        saved, page = update_from_form(
            request, form, partial(services.partner_update, partner=partner),
            template="partners/partner_form.html", context={"partner": partner}, prepare=_prepare,
        )
        if page:
            return page
        if saved:
            messages.success(request, f"Partner “{partner.name}” saved.")
            return redirect(partner.get_absolute_url())
    _prepare(form)
    return render_page(request, "partners/partner_form.html", {"form": form, "partner": partner})


@login_required
@require_http_methods(["GET", "POST"])
def partner_archive(request, pk):
    """Partners are archived (inactive), never deleted: their history stays."""
    require_perm(request, "partners.change_partner")
    partner = access.access_partner(request.user, pk)
    if request.method == "POST":
        services.partner_archive(partner=partner, actor=request.user)
        messages.success(request, f"Partner “{partner.name}” archived. Its history is kept.")
        return redirect(partner.get_absolute_url())
    return render_page(
        request,
        "includes/confirm_page.html",
        {
            "title": f"Archive {partner.name}?",
            "object": partner,
            "explanation": "The partner is marked inactive. Its meetings, commitments and agreements stay.",
            "button": "Archive partner",
            "cancel_url": partner.get_absolute_url(),
        },
    )


@login_required
@require_http_methods(["POST"])
def partner_quick_create(request):
    """Check a partner added from the quick-logging form (htmx); answers a small fragment.

    Nothing is saved here: the fragment keeps the checked fields in the
    meeting form, and engagements.services.engagement_create creates the
    partner with the meeting (an abandoned meeting leaves no partner).
    """
    require_perm(request, "partners.add_partner")
    form = QuickPartnerForm(request.POST)
    pending = (
        form.cleaned_data
        if form.is_valid() and form.no_likely_duplicate(access.partners_for(request.user))
        else None
    )
    response = render_page(request, "partners/includes/quick_partner.html", {"quick_partner_form": form, "pending_partner": pending})
    return response


@login_required
@require_GET
def partner_lookup(request):
    """Type-ahead: `?q=` → up to 20 partners {id, name, country, text}; active first."""
    q = request.GET.get("q", "").replace("\x00", "")[:SEARCH_MAX].strip()
    partners = access.partners_for(request.user)
    partners = folded_match(partners, ["name", "city"], q, max_words=5)  # "Sao Paulo" finds "São Paulo"
    partners = partners.order_by("status", "name", "pk").only("pk", "name", "country", "status")[:LOOKUP_LIMIT]
    results = [
        {
            "id": p.pk,
            "name": p.name,
            "country": p.country.code if p.country else "",
            "text": f"{p.name} ({p.country.code})" if p.country else p.name,
            "inactive": p.status != Partner.Status.ACTIVE,
        }
        for p in partners
    ]
    return JsonResponse({"results": results})


# --- Contacts ---------------------------------------------------------------

CONTACT_CSV = [
    ("id", lambda c: c.pk),
    ("honorific", lambda c: c.honorific),
    ("full_name", lambda c: c.full_name),
    ("title", lambda c: c.title),
    ("partner", lambda c: c.partner.name),
    ("partner_id", lambda c: c.partner_id),
    ("email", lambda c: c.email),
    ("phone", lambda c: c.phone),
    ("languages", lambda c: c.languages),
    ("form_of_address", lambda c: c.form_of_address),
    ("is_active", lambda c: c.is_active),
]


@login_required
@require_GET
def contact_list(request):
    return list_page(
        request,
        queryset=access.contacts_for(request.user).select_related("partner"),
        filterset_class=ContactFilter,
        template="partners/contact_list.html",
        columns=CONTACT_CSV,
        filename="contacts.csv",
        context={"can_add": request.user.has_perm("partners.add_contact")},
    )



@login_required
@require_http_methods(["GET", "POST"])
def contact_create(request):
    require_perm(request, "partners.add_contact")
    if done := already_created(request):
        return done
    initial = {}
    if str(request.GET.get("partner", "")).isdigit():
        initial["partner"] = request.GET["partner"]
    form = ContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        contact, done = create_from_form(request, form, services.contact_create)
        if done:
            return done
        if contact:
            messages.success(request, f"Contact “{contact.display_name}” added.")
            return redirect(_next_url(request, contact.get_absolute_url()))
    _prepare(form)
    return render_page(request, "partners/contact_form.html", {"form": form, "next": _next_url(request, "")})


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request, pk):
    require_perm(request, "partners.change_contact")
    contact = access.access_contact(request.user, pk, Contact.objects.select_related("partner"))
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "POST" and form.is_valid():
        saved, page = update_from_form(
            request, form, partial(services.contact_update, contact=contact),
            template="partners/contact_form.html", context={"contact": contact}, prepare=_prepare,
        )
        if page:
            return page
        if saved:
            messages.success(request, f"Contact “{contact.display_name}” saved.")
            return redirect(contact.get_absolute_url())
    _prepare(form)
    return render_page(request, "partners/contact_form.html", {"form": form, "contact": contact})


@login_required
@require_GET
def contact_lookup(request):
    """Attendee choices: `?partner=ID` (repeatable) and optional `?q=` → contacts, people in post first."""
    partner_ids = [int(p) for p in request.GET.getlist("partner")[:50] if p.isdigit() and len(p) < 19]
    q = request.GET.get("q", "").replace("\x00", "")[:SEARCH_MAX].strip()
    contacts = access.contacts_for(request.user).select_related("partner")
    if partner_ids:
        contacts = contacts.filter(partner_id__in=partner_ids)
    elif not q:
        return JsonResponse({"results": []})
    contacts = folded_match(contacts, ["full_name", "title"], q, max_words=5)
    contacts = contacts.order_by("-is_active", "partner__name", "full_name", "pk")[:200]
    results = [
        {
            "id": c.pk,
            "name": c.display_name,
            "title": c.title,
            "partner": c.partner.name,
            "partner_id": c.partner_id,
            "in_post": c.is_active,
            "text": f"{c.display_name} — {c.partner.name}" + ("" if c.is_active else " (no longer in post)"),
        }
        for c in contacts
    ]
    return JsonResponse({"results": results})


@login_required
@require_http_methods(["GET", "POST"])
def contact_delete(request, pk):
    require_perm(request, "partners.delete_contact")
    contact = access.access_contact(request.user, pk, Contact.objects.select_related("partner"))
    return confirm_delete(request, contact, success_url="/contacts/", cancel_url=contact.get_absolute_url())


# --- Agreements -------------------------------------------------------------

AGREEMENT_CSV = [
    ("id", lambda a: a.pk),
    ("title", lambda a: a.title),
    ("kind", lambda a: a.kind),
    ("status", lambda a: a.status),
    ("partners", lambda a: "; ".join(p.name for p in a.partners.all())),
    ("signed_on", lambda a: a.signed_on),
    ("expires_on", lambda a: a.expires_on),
    ("notice_by", lambda a: a.notice_by),
    ("owner", lambda a: a.owner.get_username() if a.owner else ""),
    ("summary", lambda a: a.summary),
]


@login_required
@require_GET
def agreement_list(request):
    return list_page(
        request,
        queryset=access.agreements_for(request.user).select_related("owner").prefetch_related("partners"),
        filterset_class=AgreementFilter,
        template="partners/agreement_list.html",
        columns=AGREEMENT_CSV,
        filename="agreements.csv",
        context={"can_add": request.user.has_perm("partners.add_agreement")},
    )


@login_required
@require_GET
def agreement_detail(request, pk):
    agreement = access.access_agreement(
        request.user, pk, Agreement.objects.select_related("owner").prefetch_related("partners")
    )
    # Materialised for the template: partners and the change history.
    history = history_entries(agreement)
    return render_page(
        request,
        "partners/agreement_detail.html",
        {
            "agreement": agreement,
            "partners": list(agreement.partners.all()),
            "history": history,
            "can_edit": request.user.has_perm("partners.change_agreement"),
            "can_delete": request.user.has_perm("partners.delete_agreement"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def agreement_create(request):
    require_perm(request, "partners.add_agreement")
    if done := already_created(request):
        return done
    initial = {"owner": request.user}
    if str(request.GET.get("partner", "")).isdigit():
        initial["partners"] = [request.GET["partner"]]
    form = AgreementForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        agreement, done = create_from_form(request, form, services.agreement_create)
        if done:
            return done
        if agreement:
            messages.success(request, f"Agreement “{agreement.title}” added.")
            return redirect(agreement.get_absolute_url())
    _prepare(form)
    return render_page(request, "partners/agreement_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def agreement_edit(request, pk):
    require_perm(request, "partners.change_agreement")
    agreement = access.access_agreement(request.user, pk)
    form = AgreementForm(request.POST or None, instance=agreement)
    if request.method == "POST" and form.is_valid():
        saved, page = update_from_form(
            request, form, partial(services.agreement_update, agreement=agreement),
            template="partners/agreement_form.html", context={"agreement": agreement}, prepare=_prepare,
        )
        if page:
            return page
        if saved:
            messages.success(request, f"Agreement “{agreement.title}” saved.")
            return redirect(agreement.get_absolute_url())
    _prepare(form)
    return render_page(request, "partners/agreement_form.html", {"form": form, "agreement": agreement})


@login_required
@require_http_methods(["GET", "POST"])
def agreement_delete(request, pk):
    require_perm(request, "partners.delete_agreement")
    agreement = access.access_agreement(request.user, pk)
    return confirm_delete(request, agreement, success_url="/agreements/", cancel_url=agreement.get_absolute_url())
