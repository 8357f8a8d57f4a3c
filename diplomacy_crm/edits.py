"""Pages' side of safe edits: the conflict page after a stale save, and the answer to a second create.

A stale save (diplomacy_crm.services.EditConflict) re-renders the same
form, with status 409, everything the user typed kept and the hidden
version moved to the current one, above it the changes made since the
version the user saw (from history: who, when, each field old → new).
Sending the form again saves the user's input on top of those changes.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils import timezone

from .services import AlreadySubmitted, EditConflict, create_once, submitted_url
from .versions import version_changes
from .views import apply_service_errors, render_page

HIDDEN = {"id", "version", "created_at", "updated_at"}


@dataclass
class Change:
    user: object
    date: object
    version: int
    fields: list = field(default_factory=list)  # (label, old, new)


def _shown(row, model_field):
    if model_field.choices:
        return getattr(row, f"get_{model_field.name}_display")()
    if model_field.is_relation:
        value = getattr(row, model_field.name, None)  # the related record, as history rows know it
        return "" if value is None else str(value)
    value = getattr(row, model_field.attname)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")  # the office's zone, as the pages show times
    return value


def changes_since(record, version: int) -> list[Change]:
    """The writes of `record` after `version`, oldest first, each with its changed fields (old → new).

    A conflict page is rare: a few queries per change (related names) are fine.
    """
    history = record.history.select_related("history_user")
    newer = list(history.filter(version__gt=version).order_by("history_date", "history_id"))
    base = history.filter(version__lte=version).order_by("-history_date", "-history_id").first()
    changes = []
    for row in newer:
        change = Change(user=row.history_user, date=row.history_date, version=row.version)
        if base is not None:
            for diff in version_changes(row, base, skip=HIDDEN, links=True):
                if diff.link:
                    names = _names(diff.field, diff.old | diff.new)
                    change.fields.append(
                        (diff.field.verbose_name, "; ".join(names[i] for i in sorted(diff.old)), "; ".join(names[i] for i in sorted(diff.new)))
                    )
                    continue
                was, now = _shown(base, diff.field), _shown(row, diff.field)
                if was != now:  # not a difference nobody could see (seconds the form drops)
                    change.fields.append((diff.field.verbose_name, was, now))
        changes.append(change)
        base = row
    return changes


def _names(link_field, ids) -> dict:
    related = link_field.related_model._base_manager.in_bulk(ids)
    return {i: str(related[i]) if i in related else f"#{i} (deleted)" for i in ids}


def conflict_page(request, conflict: EditConflict, form, template: str, context: dict):
    """The form page again, status 409: the user's input kept, on top of the record's current version."""
    record = conflict.instance
    record.refresh_from_db()
    form.show_version(conflict.current)
    return render_page(
        request,
        template,
        {**context, "form": form, "conflict": {"changes": changes_since(record, conflict.expected), "record": record}},
        status=409,
    )


def already_created(request, form=None):
    """A redirect to the record this create form already made (second POST), or None.

    Checked before validating: the second POST must not fail on rules the
    first one's record now breaks (a unique name, say).
    """
    url = submitted_url(request.POST.get("submit_token"), request.user) if request.method == "POST" else None
    if url is None:
        return None
    return to_first_record(request, AlreadySubmitted(url))


def to_first_record(request, done: AlreadySubmitted):
    messages.info(request, "This form had already been saved; here is what it created.")
    return redirect(done.url)


def create_from_form(request, form, service: Callable, *, url: Callable | None = None):
    """A create page's write: `service(actor=…, **form.cleaned_data)` once per submit token.

    Returns (record, None) when created; (None, redirect) when this form had
    already been saved (the record it made); (None, None) when the service
    refused, its errors now on the form for the page to show again.
    """
    try:
        record = create_once(
            token=form.submit_token_value,
            user=request.user,
            create=partial(service, actor=request.user, **form.cleaned_data),
            url=url,
        )
    except AlreadySubmitted as done:
        return None, to_first_record(request, done)
    except ValidationError as exc:
        apply_service_errors(form, exc)
        return None, None
    return record, None


def update_from_form(request, form, update: Callable, *, template: str, context: dict, prepare: Callable | None = None):
    """An edit page's write: `update(actor=…, **form.cleaned_data)` (a service with its record bound).

    Returns (True, None) when saved; (False, the conflict page) after a stale
    save (`prepare(form)` first, as the page does before rendering); (False,
    None) when the service refused, its errors now on the form.
    """
    try:
        update(actor=request.user, **form.cleaned_data)
    except EditConflict as conflict:
        if prepare is not None:
            prepare(form)
        return False, conflict_page(request, conflict, form, template, context)
    except ValidationError as exc:
        apply_service_errors(form, exc)
        return False, None
    return True, None
