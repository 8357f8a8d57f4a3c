"""Helpers every page view shares: render without template queries, list pages, service errors on forms.

Views stay thin: access, bind a form or filter, call one service, then
redirect or render through these.
"""

from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import render

from accounts.access import hidden_history_versions

from .csv import Column, stream_csv
from .filters import prepare_pickers
from .paginator import CappedPaginator
from .versions import version_changes

PER_PAGE = 25
PAGE_SIZES = (25, 50, 100)  # the choices of ?per_page= on the list pages
NOT_FILTERS = ("page", "ordering", "format", "per_page")
CSV_CHUNK = 1000


def warm_user(user) -> None:
    """Load what the base layout asks about the user (permissions, groups) before rendering.

    Templates must run no queries (QUALITY P2); `perms.*` in base.html then
    reads the cache that ModelBackend keeps on the user object.
    """
    if user.is_authenticated:
        user.get_all_permissions()


def render_page(request, template: str, context: dict | None = None, status: int = 200) -> HttpResponse:
    """render(), after warming the user's permission cache; confidential pages are not cached."""
    warm_user(request.user)
    response = render(request, template, context or {}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def require_perm(request, perm: str) -> None:
    """403 unless the user has `perm` (e.g. "engagements.add_engagement")."""
    if not request.user.has_perm(perm):
        raise PermissionDenied(f"You need the {perm} permission.")


def materialise_choices(form) -> None:
    """Evaluate every model-choice field's options now, so the template renders without a query."""
    for bound in form:
        field = bound.field
        if getattr(field, "queryset", None) is not None and not getattr(field.widget, "lookup_only", False):
            field.widget.choices = list(iter(field.choices))  # iter(): no COUNT for a length hint


def apply_service_errors(form, error: ValidationError, *, extra: dict | None = None) -> None:
    """Show a service's ValidationError on the form: field errors next to their fields, the rest on top.

    `extra` maps error keys the form does not have to other forms (for
    example "commitments[0]" to the first inline commitment form).
    """
    extra = extra or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for key, messages in error.message_dict.items():
        if key in extra:
            extra[key].add_error(None, messages)
        elif key in form.fields:
            form.add_error(key, messages)
        else:
            form.add_error(None, messages)


def list_page(
    request,
    *,
    queryset,
    filterset_class,
    template: str,
    columns: Sequence[Column],
    filename: str,
    context: dict | None = None,
    per_page: int = PER_PAGE,
) -> HttpResponse:
    """A filtered, sorted, paginated list, or its CSV export with `?format=csv`.

    `queryset` is already limited to what the user may see and already
    select_related/prefetch_related: the CSV and every page use it as is.
    An invalid filter value is shown as a form error (no rows), never a 500;
    the CSV answers 400 with the errors.
    """
    default_per_page, per_page = per_page, page_size(request, per_page)
    filterset = filterset_class(request.GET, queryset=queryset, request=request)
    valid = filterset.is_valid()
    wants_csv = request.GET.get("format") == "csv"
    if wants_csv:
        if not valid:
            lines = [f"{name}: {' '.join(errs)}" for name, errs in filterset.form.errors.items()]
            return HttpResponse("\n".join(lines), status=400, content_type="text/plain; charset=utf-8")
        return stream_csv(columns, filterset.qs.iterator(chunk_size=CSV_CHUNK), filename)

    page_obj, rows = None, []
    if valid:
        qs = filterset.qs
        # A stable order for pagination: ties broken by primary key.
        if qs.query.order_by:
            qs = qs.order_by(*qs.query.order_by, "pk")
        # Counts at most COUNT_CAP rows ("10,000+"), so a page view never counts the whole table.
        page_obj = CappedPaginator(qs, per_page).get_page(request.GET.get("page"))
        # Materialised here, with their prefetches, so the template runs no query.
        rows = list(page_obj.object_list)
    materialise_choices(filterset.form)
    prepare_pickers(filterset.form, request.user)
    chips = filter_chips(filterset.form, request)
    return render_page(
        request,
        template,
        {
            "filter": filterset,
            "form": filterset.form,
            "rows": rows,
            "page_obj": page_obj,
            "filters_active": bool(chips),
            "chips": chips,
            "per_page": per_page,
            "page_sizes": sorted({*PAGE_SIZES, default_per_page}),
            "default_per_page": default_per_page,
            **(context or {}),
        },
    )


def page_size(request, default: int = PER_PAGE) -> int:
    """`?per_page=` when it is one of PAGE_SIZES, else the page's default."""
    value = request.GET.get("per_page", "")
    return int(value) if value in {str(size) for size in PAGE_SIZES} else default


def _shown_value(bound, raw: str) -> str:
    """A filter value as the user reads it: the option's label for a choice, else the text typed."""
    for value, label in getattr(bound.field.widget, "choices", ()) or ():
        if isinstance(label, (list, tuple)):  # an option group
            continue
        if value not in (None, "") and str(value) == raw:
            return str(label)
    return raw


def filter_chips(form, request) -> list[dict]:
    """The active filters, each with the link that drops it: [{"label", "value", "remove_url"}].

    Read from the request's parameters (an invalid value shows too, so it can be
    removed); the page number goes with any removal.
    """
    chips = []
    for bound in form:
        if bound.name in NOT_FILTERS:
            continue
        values = [v for v in request.GET.getlist(bound.name) if v.strip()]
        if not values:
            continue
        params = request.GET.copy()
        params.pop(bound.name, None)
        params.pop("page", None)
        query = params.urlencode()
        chips.append(
            {
                "name": bound.name,
                "label": str(bound.label),
                "value": ", ".join(_shown_value(bound, v) for v in values),
                "remove_url": f"{request.path}?{query}" if query else request.path,
            }
        )
    return chips


# What to do instead of deleting a record in use: (URL name, button, explanation).
ARCHIVE_INSTEAD = {
    "partners.partner": (
        "partners:archive", "Archive instead", "Archive the partner instead: it is marked inactive and every link stays."
    ),
    "partners.contact": (
        "partners:contact-edit",
        "Edit the contact",
        "Mark them as no longer in post instead (untick “in post”): they stay on the records that name them.",
    ),
    "engagements.trademission": (
        "engagements:mission-edit",
        "Edit the mission",
        "Set the mission's status to cancelled instead: its meetings and commitments stay linked.",
    ),
    "engagements.engagement": (
        "engagements:edit",
        "Edit the engagement",
        "Set the engagement's status to cancelled instead: its commitments and gifts stay linked.",
    ),
}


def confirm_delete(request, obj, *, success_url: str, cancel_url: str) -> HttpResponse:
    """GET: a confirmation page. POST: delete through diplomacy_crm.deletion.

    A record others still point to is never deleted: GET and POST then show
    what points to it (counts of what the user may see) and offer archiving
    instead; the refused POST answers 409.
    """
    from django.contrib import messages
    from django.shortcuts import redirect

    from .deletion import RecordInUse, delete_record, references_to

    if request.method == "POST":
        pk = obj.pk
        try:
            delete_record(obj, actor=request.user)
        except RecordInUse as exc:
            return _delete_refused(request, obj, exc.references, cancel_url=cancel_url, status=409)
        messages.success(request, _deleted_with_undo(request, obj, pk))
        return redirect(success_url)
    references = references_to(obj, user=request.user)
    if references:
        return _delete_refused(request, obj, references, cancel_url=cancel_url)
    return render_page(
        request,
        "includes/confirm_page.html",
        {
            "title": f"Delete “{obj}”?",
            "object": obj,
            "explanation": "The record is removed from every list. Its change history keeps a copy.",
            "button": "Delete",
            "danger": True,
            "cancel_url": cancel_url,
        },
    )


# A record's kind as the history pages name it in their URLs (/history/<kind>/<id>/…): the model's name, but
# "mission" for a trade mission.
HISTORY_KINDS = {"trademission": "mission"}


def history_kind(record) -> str:
    return HISTORY_KINDS.get(record._meta.model_name, record._meta.model_name)


def _deleted_with_undo(request, obj, pk):
    """The message after a delete, with an "Undo" button (a POST to audit:undo with the deletion's history row).

    The button restores the record from history (history.views.undo_delete), for the user who deleted it.
    """
    from django.middleware.csrf import get_token
    from django.urls import reverse
    from django.utils.html import format_html

    deletion = type(obj).history.filter(id=pk, history_type="-").order_by("-history_id").first()
    if deletion is None:
        return f"“{obj}” deleted."
    return format_html(
        '“{}” deleted. <form method="post" action="{}" class="crm-undo">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<button type="submit" class="usa-button usa-button--unstyled">Undo</button></form>',
        str(obj),
        reverse("audit:undo", args=[history_kind(obj), pk, deletion.history_id]),
        get_token(request),
    )


def _delete_refused(request, obj, references, *, cancel_url: str, status: int = 200) -> HttpResponse:
    from django.urls import reverse

    instead = ARCHIVE_INSTEAD.get(obj._meta.label_lower)
    return render_page(
        request,
        "includes/delete_refused.html",
        {
            "object": obj,
            "references": references,
            "instead_url": reverse(instead[0], args=[obj.pk]) if instead else None,
            "instead_button": instead[1] if instead else "",
            "instead_text": instead[2] if instead else "",
            "cancel_url": cancel_url,
        },
        status=status,
    )


HISTORY_SKIP = {"id", "version", "created_at", "updated_at"}


def history_entries(record, limit: int = 50, *, user=None) -> list:
    """The latest changes of a record (simple-history), each with `changed_fields` (labels), newest first.

    One query: consecutive rows are compared in Python (`versions.version_changes`)
    instead of calling `diff_against()` per row. Many-to-many changes are not itemised. Given
    the `user`, a version written while the record was restricted that they
    may not read (accounts.access.hidden_history_versions) lists no fields.
    """
    entries = list(record.history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1])
    hidden = hidden_history_versions(user, entries) if user is not None else set()
    for newer, older in zip(entries, entries[1:] + [None]):
        newer.changed_fields = []
        newer.hidden = newer.history_id in hidden
        if newer.history_type == "~" and older is not None and not newer.hidden:
            newer.changed_fields = [change.label for change in version_changes(newer, older, skip=HISTORY_SKIP)]
    return entries[:limit]
