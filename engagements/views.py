"""Pages for engagements (quick logging, detail, edit) and trade missions; commitments are in commitment_views.py.

Every read goes through the selectors (`engagements_for`, `commitments_for`,
`access_*`): a restricted engagement, and the commitments made there, are
absent from lists and 404 on their pages for those who may not see them.
Every write goes through the services.
"""

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts import access
from diplomacy_crm.edits import already_created, conflict_page, create_from_form, update_from_form, to_first_record
from diplomacy_crm.services import AlreadySubmitted, EditConflict, create_once
from diplomacy_crm.views import (
    apply_service_errors,
    confirm_delete,
    history_entries,
    list_page,
    materialise_choices,
    render_page,
    require_perm,
)
from partners.forms import QuickPartnerForm, prepare_lookups
from partners.models import Contact

from . import services
from .filters import EngagementFilter, TradeMissionFilter
from .forms import COMMITMENT_ROWS_MAX, CommitmentFormSet, EngagementForm, NewContactFormSet, TradeMissionForm
from .selectors import (
    access_engagement,
    access_mission,
    commitments_for,
    engagements_for,
    missions_for,
)


def _prepare(*forms) -> None:
    for form in forms:
        prepare_lookups(form)
        materialise_choices(form)


def _names(objects) -> str:
    return "; ".join(str(o) for o in objects)


# --- Engagements ------------------------------------------------------------

ENGAGEMENT_CSV = [
    ("id", lambda e: e.pk),
    ("title", lambda e: e.title),
    ("kind", lambda e: e.kind),
    ("status", lambda e: e.status),
    ("starts_at", lambda e: e.starts_at),
    ("ends_at", lambda e: e.ends_at),
    ("location", lambda e: e.location),
    ("is_virtual", lambda e: e.is_virtual),
    ("partners", lambda e: _names(p.name for p in e.partners.all())),
    ("topics", lambda e: ", ".join(t.slug for t in e.topics.all())),
    ("trade_mission", lambda e: e.trade_mission.name if e.trade_mission else ""),
    ("confidentiality", lambda e: e.confidentiality),
    ("follow_up_by", lambda e: e.follow_up_by),
    ("summary", lambda e: e.summary),
    ("outcomes", lambda e: e.outcomes),
]


@login_required
@require_GET
def engagement_list(request):
    return list_page(
        request,
        queryset=engagements_for(request.user).select_related("trade_mission").prefetch_related("partners", "topics"),
        filterset_class=EngagementFilter,
        template="engagements/engagement_list.html",
        columns=ENGAGEMENT_CSV,
        filename="engagements.csv",
        context={"can_add": request.user.has_perm("engagements.add_engagement")},
    )


@login_required
@require_GET
def engagement_detail(request, pk):
    # access_engagement's rule (404 when not visible), with everything the page shows
    # fetched here: a fixed number of queries, and none in the template.
    engagement = get_object_or_404(
        engagements_for(request.user)
        .select_related("trade_mission", "owner")
        .prefetch_related(
            "partners",
            "topics",
            "staff",
            Prefetch("contacts", queryset=Contact.objects.select_related("partner")),
        ),
        pk=pk,
    )
    commitments = list(
        commitments_for(request.user).filter(engagement=engagement).select_related("partner", "owner").order_by("due_date", "pk")
    )
    user = request.user
    return render_page(
        request,
        "engagements/engagement_detail.html",
        {
            "engagement": engagement,
            "partners": list(engagement.partners.all()),
            "contacts": list(engagement.contacts.all()),
            "staff": list(engagement.staff.all()),
            "topics": list(engagement.topics.all()),
            "commitments": commitments,
            "history": history_entries(engagement, user=user),
            "can_edit": user.has_perm("engagements.change_engagement"),
            "can_delete": user.has_perm("engagements.delete_engagement"),
            "can_add_commitment": user.has_perm("engagements.add_commitment"),
        },
    )


def _rows_asked(request) -> int:
    """Blank commitment rows shown on a fresh form: none, or `?commitments=N` (the no-JavaScript way to add some)."""
    raw = str(request.GET.get("commitments", ""))
    return min(int(raw), COMMITMENT_ROWS_MAX) if raw.isdigit() and len(raw) < 4 else 0


class _AddedInline:
    """A partner and people not in the CRM yet, typed on the meeting form: they travel with its POST
    and engagement_create creates them with the meeting (an abandoned or refused meeting leaves none)."""

    def __init__(self, request, form):
        data = request.POST or None
        self.user = user = request.user
        self.form = form
        self.partner = QuickPartnerForm(data) if user.has_perm("partners.add_partner") else None
        self.adding_partner = bool(data and self.partner is not None and data.get(self.partner.add_prefix("name"), "").strip())
        self.contacts = None
        if user.has_perm("partners.add_contact"):
            sent = data is not None and "newcontact-TOTAL_FORMS" in data  # a client without the rows adds nobody
            self.contacts = NewContactFormSet(data if sent else None, prefix="newcontact")
            form.fields["contacts"].widget.attrs["data-quick-add"] = ""  # the attendee picker offers "Add …"
        if self.adding_partner:
            form.fields["partners"].required = False
        self.partner_ok = not self.adding_partner or (
            self.partner.is_valid() and self.partner.no_likely_duplicate(access.partners_for(user))
        )
        self.new_contacts = []

    def is_valid(self) -> bool:
        """After form.is_valid(): the inline partner and people are fine too (errors are on their fields)."""
        if self.contacts is None or not self.contacts.is_bound:
            return self.partner_ok
        if not self.contacts.is_valid() or not self.partner_ok:
            return False
        rows = self.contacts.service_data(self.form.cleaned_data.get("partners") or [])
        self.new_contacts = rows or []
        return rows is not None

    def service_data(self) -> dict:
        return {"new_partners": [self.partner.cleaned_data] if self.adding_partner else [], "new_contacts": self.new_contacts}

    def error_targets(self) -> dict:
        targets = {"new_partners": self.partner} if self.adding_partner else {}
        if self.contacts is not None and self.contacts.is_bound:
            targets.update({f"new_contacts[{i}]": row for i, row in enumerate(self.contacts.filled_forms())})
        return targets

    def _summarise_row_errors(self) -> None:
        """A refused person's errors also in the form's summary at the top (they sit under "More details")."""
        if self.contacts is None or not self.contacts.is_bound or not self.form.is_bound:
            return
        for error in self.contacts.non_form_errors():
            self.form.add_error(None, f"New attendees: {error}")
        for number, row in enumerate(self.contacts.forms, start=1):
            name = str(row.data.get(row.add_prefix("full_name"), "")).strip()[:80]
            for field, errors in row.errors.items():
                label = row.fields[field].label if field in row.fields else ""
                where = f"New attendee “{name}”" if name else f"New attendee {number}"
                self.form.add_error(None, f"{where}: {label + ': ' if label else ''}{' '.join(errors)}")

    def context(self) -> dict:
        partner = self.partner
        self._summarise_row_errors()
        return {
            "quick_partner_form": partner if self.adding_partner else (QuickPartnerForm() if partner is not None else None),
            "pending_partner": partner.cleaned_data if self.adding_partner and self.partner_ok else None,
            "new_contacts": self.contacts,
            "new_contact_partners": self._partner_options(),
        }

    def _partner_options(self) -> list[tuple[str, str]]:
        """What a new person's "works for" list offers before the script mirrors the partners chosen."""
        raw = self.form["partners"].value() if self.form.is_bound else []
        ids = [int(v) for v in raw or [] if str(v).isdigit() and len(str(v)) < 19]
        label = self.form.fields["partners"].label_from_instance
        options = [(str(p.pk), label(p)) for p in access.partners_for(self.user).filter(pk__in=ids).order_by("name")] if ids else []
        if self.adding_partner:
            options.append(("new", f"{self.partner.data.get(self.partner.add_prefix('name'), '').strip()} (new)"))
        return options


@login_required
@require_http_methods(["GET", "POST"])
def engagement_create(request):
    """Quick logging: the meeting, its attendees and the promises made, saved together or not at all.

    Sent twice (a double click, a reload), the form's one-time token opens
    the engagement the first POST logged instead of logging another.
    """
    require_perm(request, "engagements.add_engagement")
    if done := already_created(request):
        return done
    # Logged right after the meeting: held, this hour, with the author present.
    this_hour = timezone.localtime().replace(minute=0, second=0, microsecond=0)
    initial = {"staff": [request.user.pk], "status": "held", "starts_at": this_hour}
    if str(request.GET.get("partner", "")).isdigit():
        initial["partners"] = [request.GET["partner"]]
    if str(request.GET.get("trade_mission", "")).isdigit():
        initial["trade_mission"] = request.GET["trade_mission"]
    form = EngagementForm(request.POST or None, initial=initial)
    formset = CommitmentFormSet(
        request.POST or None,
        prefix="commitments",
        form_kwargs={"owner": request.user},
        initial=None if request.POST else [{}] * _rows_asked(request),
    )
    added = _AddedInline(request, form)
    if request.method == "POST" and form.is_valid() and formset.is_valid() and added.is_valid():
        rows = formset.filled_forms()
        try:
            engagement = create_once(
                token=form.submit_token_value,
                user=request.user,
                create=partial(
                    services.engagement_create,
                    actor=request.user,
                    commitments=[row.service_data() for row in rows],
                    **added.service_data(),
                    **form.service_data(),
                ),
            )
        except AlreadySubmitted as done:
            return to_first_record(request, done)
        except ValidationError as exc:
            extra = {f"commitments[{i}]": row for i, row in enumerate(rows)}
            apply_service_errors(form, exc, extra={**extra, **added.error_targets()})
        else:
            count = len(rows)
            extra = f" with {count} commitment{'s' if count != 1 else ''}" if count else ""
            messages.success(request, f"Logged “{engagement.title}”{extra}.")
            return redirect(engagement.get_absolute_url())
    _prepare(form, *formset.forms, formset.empty_form)
    return render_page(
        request,
        "engagements/engagement_form.html",
        {"form": form, "formset": formset, "empty_form": formset.empty_form, **added.context()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def engagement_edit(request, pk):
    require_perm(request, "engagements.change_engagement")
    engagement = access_engagement(request.user, pk)
    form = EngagementForm(request.POST or None, instance=engagement)
    if request.method == "POST" and form.is_valid():
        try:
            services.engagement_update(engagement=engagement, actor=request.user, **form.service_data())
        except EditConflict as conflict:
            _prepare(form)
            return conflict_page(request, conflict, form, "engagements/engagement_form.html", {"engagement": engagement})
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Saved “{engagement.title}”.")
            return redirect(engagement.get_absolute_url())
    _prepare(form)
    return render_page(request, "engagements/engagement_form.html", {"form": form, "engagement": engagement})


@login_required
@require_http_methods(["GET", "POST"])
def engagement_delete(request, pk):
    require_perm(request, "engagements.delete_engagement")
    engagement = access_engagement(request.user, pk)
    return confirm_delete(request, engagement, success_url="/engagements/", cancel_url=engagement.get_absolute_url())


# --- Trade missions ----------------------------------------------------------

MISSION_CSV = [
    ("id", lambda m: m.pk),
    ("name", lambda m: m.name),
    ("direction", lambda m: m.direction),
    ("status", lambda m: m.status),
    ("countries", lambda m: ", ".join(c.code for c in m.countries)),
    ("cities", lambda m: m.cities),
    ("start_date", lambda m: m.start_date),
    ("end_date", lambda m: m.end_date),
    ("lead", lambda m: m.lead),
    ("partners", lambda m: _names(p.name for p in m.partners.all())),
    ("objectives", lambda m: m.objectives),
    ("outcomes", lambda m: m.outcomes),
]


@login_required
@require_GET
def mission_list(request):
    return list_page(
        request,
        queryset=missions_for(request.user).prefetch_related("partners"),
        filterset_class=TradeMissionFilter,
        template="engagements/mission_list.html",
        columns=MISSION_CSV,
        filename="trade-missions.csv",
        context={"can_add": request.user.has_perm("engagements.add_trademission")},
    )


@login_required
@require_GET
def mission_detail(request, pk):
    mission = access_mission(request.user, pk)
    user = request.user
    # The itinerary: only the engagements this user may see, in date order.
    itinerary = list(
        engagements_for(user)
        .filter(trade_mission=mission)
        .prefetch_related("partners")
        .order_by("starts_at", "pk")
    )
    commitments = list(
        commitments_for(user)
        .filter(Q(trade_mission=mission) | Q(engagement__trade_mission=mission))
        .select_related("partner", "owner", "engagement")
        .order_by("due_date", "pk")
    )
    return render_page(
        request,
        "engagements/mission_detail.html",
        {
            "mission": mission,
            "delegates": list(mission.delegates.select_related("partner").order_by("full_name", "pk")),
            "partners": list(mission.partners.order_by("name", "pk")),
            "itinerary": itinerary,
            "commitments": commitments,
            "history": history_entries(mission),
            "owner": mission.owner,
            "can_edit": user.has_perm("engagements.change_trademission"),
            "can_delete": user.has_perm("engagements.delete_trademission"),
            "can_log": user.has_perm("engagements.add_engagement"),
            "can_add_commitment": user.has_perm("engagements.add_commitment"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def mission_create(request):
    require_perm(request, "engagements.add_trademission")
    if done := already_created(request):
        return done
    form = TradeMissionForm(request.POST or None, initial={"owner": request.user})
    if request.method == "POST" and form.is_valid():
        mission, done = create_from_form(request, form, services.trade_mission_create)
        if done:
            return done
        if mission:
            messages.success(request, f"Trade mission “{mission.name}” added.")
            return redirect(mission.get_absolute_url())
    _prepare(form)
    return render_page(request, "engagements/mission_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def mission_edit(request, pk):
    require_perm(request, "engagements.change_trademission")
    mission = access_mission(request.user, pk)
    form = TradeMissionForm(request.POST or None, instance=mission)
    if request.method == "POST" and form.is_valid():
        saved, page = update_from_form(
            request, form, partial(services.trade_mission_update, mission=mission),
            template="engagements/mission_form.html", context={"mission": mission}, prepare=_prepare,
        )
        if page:
            return page
        if saved:
            messages.success(request, f"Trade mission “{mission.name}” saved.")
            return redirect(mission.get_absolute_url())
    _prepare(form)
    return render_page(request, "engagements/mission_form.html", {"form": form, "mission": mission})


@login_required
@require_http_methods(["GET", "POST"])
def mission_delete(request, pk):
    require_perm(request, "engagements.delete_trademission")
    mission = access_mission(request.user, pk)
    return confirm_delete(request, mission, success_url="/missions/", cancel_url=mission.get_absolute_url())
