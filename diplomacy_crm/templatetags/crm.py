"""Template pieces shared by every page: navigation, sortable headers, pagination links, form fields.

None of these tags touches the database; pages hand them materialised data.
"""

import datetime as dt
from functools import lru_cache

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.forms import BoundField, CheckboxInput, CheckboxSelectMultiple, RadioSelect, Select, SelectMultiple, Textarea
from django.templatetags.static import static
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from accounts import access
from diplomacy_crm import dates
from diplomacy_crm.filters import person_name
from diplomacy_crm.paginator import page_numbers
from diplomacy_crm.widgets import fast_widget

register = template.Library()


# The primary navigation: (href, label, exact match, permission needed or None), in menu order.
PRIMARY_NAV = (
    ("/", "Dashboard", True, None),
    ("/partners/", "Partners", False, None),
    ("/contacts/", "Contacts", False, None),
    ("/engagements/", "Engagements", False, None),
    ("/missions/", "Missions", False, None),
    ("/commitments/", "Commitments", False, None),
    ("/agreements/", "Agreements", False, None),
    ("/gifts/", "Gifts", False, None),
    ("/outbox/", "Outbox", False, "notifications.view_outboxmessage"),
    ("/webhooks/", "Webhooks", False, "webhooks.view_endpoint"),
    # Issue 17: the importer and the duplicate finder, for the roles that may use them (a check of accounts.access).
    ("/import/", "Import", False, access.may_import),
    ("/import/duplicates/", "Duplicates", False, access.may_find_duplicates),
    # Issue 20: captured mail waiting for a partner (staff and officers).
    ("/mail/triage/", "Mail", False, "engagements.add_engagement"),
)


def _nav_link(href: str, label: str, current: bool) -> str:
    """A primary-navigation link, marked current for its section."""
    if current:
        return format_html(
            '<li class="usa-nav__primary-item"><a class="usa-nav-link usa-current" href="{}" aria-current="page">'
            "<span>{}</span></a></li>",
            href,
            label,
        )
    return format_html(
        '<li class="usa-nav__primary-item"><a class="usa-nav-link" href="{}"><span>{}</span></a></li>', href, label
    )


# Both forms of every link, escaped once per process: the links are the same for everyone.
_NAV_LINKS = tuple(
    (href, exact, perm, _nav_link(href, label, False), _nav_link(href, label, True))
    for href, label, exact, perm in PRIMARY_NAV
)


@register.simple_tag(takes_context=True)
def primary_nav(context):
    """The `<li>`s of the primary navigation: the links this user may use, the current section marked.

    One tag instead of one per link (base.html renders on every page). Nothing
    user-specific is cached: only the escaped link markup, and the permission
    check reads the user's permission cache (warmed by the view).
    """
    request = context["request"]
    path, user = request.path, request.user
    shown = [
        link for link in _NAV_LINKS
        if link[2] is None or (link[2](user) if callable(link[2]) else user.has_perm(link[2]))
    ]
    # The current section: the longest link the path falls under (/import/duplicates/ is not also /import/).
    matching = [href for href, exact, *_ in shown if (path == href if exact else path.startswith(href))]
    current_href = max(matching, key=len, default=None)
    items = [current if href == current_href else plain for href, _, _, plain, current in shown]
    return mark_safe("\n          ".join(items))  # nosec B308, B703: built by format_html above


@lru_cache(maxsize=512)
def _asset_url(path: str) -> str:
    return static(path)


@receiver(setting_changed)
def _forget_asset_urls(*, setting, **kwargs):
    if setting in ("STATIC_URL", "STATIC_ROOT", "STORAGES"):
        _asset_url.cache_clear()


@register.simple_tag
def asset(path: str) -> str:
    """`{% static %}` remembered per process (the storage's URL of a file does not change while it runs)."""
    return _asset_url(path)


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters replaced (None or '' removes one).

    Used by pagination and sort links so that the filter stays in the URL.
    """
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.inclusion_tag("includes/sort_header.html", takes_context=True)
def sort_header(context, field: str, label: str, param: str = "ordering"):
    """A column header that sorts by `field` (the filterset's ordering name); click again to reverse."""
    request = context["request"]
    current = request.GET.get(param, "")
    if current == field:
        direction, next_value = "ascending", f"-{field}"
    elif current == f"-{field}":
        direction, next_value = "descending", field
    else:
        direction, next_value = None, field
    params = request.GET.copy()
    params[param] = next_value
    params.pop("page", None)
    return {"label": label, "href": f"?{params.urlencode()}", "direction": direction}


@register.inclusion_tag("includes/pagination.html", takes_context=True)
def pagination(context, page_obj):
    """Previous / numbered / next links for a Paginator page, keeping every other parameter."""
    request = context["request"]
    params = request.GET.copy()
    params.pop("page", None)
    base = params.urlencode()
    prefix = f"?{base}&page=" if base else "?page="
    numbers = []
    if page_obj is not None and page_obj.has_other_pages():
        # Exact counts: Django's elided range; capped counts ("10,000+"): no last page, a gap instead.
        numbers = list(page_numbers(page_obj, on_each_side=2, on_ends=1))
    return {"page_obj": page_obj, "prefix": prefix, "numbers": numbers, "ellipsis": page_obj.paginator.ELLIPSIS if page_obj else "…"}


@register.inclusion_tag("includes/field.html")
def field(bound_field: BoundField, hint: str = "", extra_class: str = ""):
    """One form field, USWDS style: label, hint, the error next to the field, then the widget.

    The widget gets its USWDS class, `aria-describedby` pointing at the hint
    and error, and `aria-invalid` when the value was refused.
    """
    widget = bound_field.field.widget
    kind, css = "text", "usa-input"
    if isinstance(widget, CheckboxInput):
        kind, css = "checkbox", "usa-checkbox__input"
    elif isinstance(widget, (CheckboxSelectMultiple, RadioSelect)):
        kind, css = "choices", ""
    elif isinstance(widget, (Select, SelectMultiple)):
        kind, css = "select", "usa-select"
    elif isinstance(widget, Textarea):
        kind, css = "textarea", "usa-textarea"
    hint = hint or bound_field.help_text
    error_id, hint_id = f"{bound_field.auto_id}-error", f"{bound_field.auto_id}-hint"
    described = [i for i, on in ((hint_id, bool(hint)), (error_id, bool(bound_field.errors))) if on]
    attrs = {}
    existing = widget.attrs.get("class", "")
    if css or extra_class:
        attrs["class"] = " ".join(c for c in (css, existing, extra_class) if c)
    if bound_field.errors:
        attrs["class"] = (attrs.get("class", "") + " usa-input--error").strip()
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return {
        "field": bound_field,
        "kind": kind,
        "hint": hint,
        # A stock <select> is rendered in one pass instead of one template per option (same HTML).
        "widget": bound_field.as_widget(widget=fast_widget(widget, bound_field.form.renderer), attrs=attrs),
        "error_id": error_id,
        "hint_id": hint_id,
    }


@register.filter
def csv_url(request):
    """This page's URL asking for the CSV export of the same filtered rows."""
    params = request.GET.copy()
    params.pop("page", None)
    params["format"] = "csv"
    return f"?{params.urlencode()}"


@register.filter
def iso(value) -> str:
    """A `<time datetime>` value: diplomacy_crm.dates.isoformat for a time (UTC where the office's
    offset then had seconds, e.g. local mean time before 1883, which HTML does not accept), a date as
    YYYY-MM-DD; "" for nothing. Use it instead of `|date:'c'`."""
    if isinstance(value, dt.datetime):
        return dates.isoformat(value) if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return ""


@register.filter
def badge_class(value: str) -> str:
    """A CSS modifier for a status or confidentiality value."""
    return f"crm-badge--{value}".replace("_", "-")


@register.filter
def person(user) -> str:
    """A user as people know them: "Marco Rossi", or the username when no name is set ("" for nobody).

    Use it wherever a user is shown (`{{ c.owner|person }}`), never `.username`.
    """
    return person_name(user)


# A commitment due within this many days (today included) is "due soon"; before today, "overdue".
DUE_SOON_DAYS = 7


@register.simple_tag
def due_badge(commitment, today=None) -> str:
    """'Overdue' or 'Due soon' for an open commitment (one with `is_open`, `due_date`), else nothing.

    `today` is the office's date (the page's); without it, the office's date now.
    """
    due = getattr(commitment, "due_date", None)
    if due is None or not getattr(commitment, "is_open", False):
        return ""
    if today is None:
        from django.utils import timezone

        today = timezone.localdate()
    if due < today:
        return mark_safe('<span class="crm-badge crm-badge--overdue">Overdue</span>')  # noqa: S308  # nosec B308 (constant)
    if (due - today).days < DUE_SOON_DAYS:
        return mark_safe('<span class="crm-badge crm-badge--due-soon">Due soon</span>')  # noqa: S308  # nosec B308 (constant)
    return ""


@register.simple_tag(takes_context=True)
def history_link(context, record) -> str:
    """A button to the record's full history page (audit:record); "History and restore" for who may restore."""
    from django.urls import reverse

    from diplomacy_crm.views import history_kind

    kind = history_kind(record)
    label = "History and restore" if access.may_restore(context["request"].user) else "Full history"
    return format_html(
        '<a class="usa-button usa-button--outline crm-history-link" href="{}">{}</a>',
        reverse("audit:record", args=[kind, record.pk]),
        label,
    )


def _error_items(form, prefix: str = "") -> list[tuple[str, str, str]]:
    items = [("", prefix.rstrip(": "), str(e)) for e in form.non_field_errors()]
    for bound in form:
        if not bound.errors:
            continue
        href = "" if bound.is_hidden else f"#{bound.id_for_label or bound.auto_id}"
        label = f"{prefix}{bound.label}" if not bound.is_hidden else prefix.rstrip(": ")
        items.extend((href, label, str(e)) for e in bound.errors)
    return items


@register.inclusion_tag("includes/error_summary.html")
def error_summary(form=None, formset=None):
    """Every error of `form` (and of `formset`'s rows), as (link to the field, label, message) for the summary."""
    errors = []
    if form is not None and hasattr(form, "non_field_errors") and form.is_bound:
        errors.extend(_error_items(form))
    if formset and hasattr(formset, "forms") and formset.is_bound:
        errors.extend(("", "", str(e)) for e in formset.non_form_errors())
        noun = getattr(formset, "row_noun", "Row")
        for number, row in enumerate(formset.forms, start=1):
            if row.errors:
                errors.extend(_error_items(row, prefix=f"{noun} {number}: "))
    return {"errors": errors}
