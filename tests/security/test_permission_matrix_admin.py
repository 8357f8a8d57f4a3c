"""S2, the permission matrix of the back office: every admin URL of every registered model × every actor.

See test_permission_matrix.py for the rules. Only the superuser gets in; each of
its POSTs has one exact outcome (saved and back to the list, the form shown again
with its errors, or the delete refused for the protected records that point here).
"""

import pytest
from django.urls import reverse

from .conftest import NO_ROLE, OBJECTS, admin_form_data, row_counts
from .matrix import ADMIN_LOGIN, COUNTS, NO_ROLE_PAGE, Redirect, Shows, check_markers, check_status, check_unchanged, for_every_actor

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("matrix_counts")]

# --- The back office: every admin URL of every registered model ---------------------------
# Superusers only may enter (diplomacy_crm/admin.py). Everyone else, `is_staff` notwithstanding,
# is sent to the admin's login page (users without a role get the no-role page first), and
# nothing they POST (add, change, delete, a history revert with a complete valid form) writes.
# What the superuser's POSTs give, where not "saved, back to the list": an empty add form and the
# change forms below (posted back as admin_form_data reads them: a value their widgets need is
# missing) are shown again with their errors; a delete of a record that protected rows point at
# is refused on the confirmation page, which lists them.
ADMIN_FORM_ERRORS = Shows(200, 'class="errornote"')
ADMIN_PROTECTED = Shows(200, "protected")
ADMIN_CHANGE_SHOWS_ERRORS = {"auth.user", "engagements.engagement", "engagements.trademission"}
ADMIN_REVERT_SHOWS_ERRORS = {"partners.agreement"}
ADMIN_DELETE_PROTECTED = {"engagements.engagement", "engagements.trademission", "partners.contact", "partners.partner", "partners.topic"}
ADMIN_CONFIDENTIAL = {"engagements.engagement": "engagements", "engagements.commitment": "commitments", "engagements.gift": "gifts"}


def admin_models():
    from django.contrib import admin

    return sorted(admin.site._registry, key=lambda model: model._meta.label)


def admin_objects(matrix_world, model) -> list[tuple[str | None, object]]:
    """(confidentiality case, record) pairs to open in the back office; rows made here where the world has none."""
    label = model._meta.label_lower
    if label in ADMIN_CONFIDENTIAL:
        return [(obj, getattr(matrix_world, ADMIN_CONFIDENTIAL[label])[obj]) for obj in OBJECTS]
    known = {
        "partners.partner": matrix_world.partner, "partners.contact": matrix_world.contact, "partners.topic": matrix_world.topic,
        "partners.agreement": matrix_world.agreement, "engagements.trademission": matrix_world.mission, "auth.user": matrix_world.users["staff"],
    }  # fmt: skip
    if label in known:
        return [(None, known[label])]
    record = model._default_manager.first() or make_admin_row(matrix_world, label)
    return [(None, record)] if record is not None else []


def make_admin_row(matrix_world, label):
    from django.utils import timezone

    now = timezone.now()
    if label == "auth.group":
        from django.contrib.auth.models import Group

        return Group.objects.first()
    if label == "authtoken.tokenproxy":
        from rest_framework.authtoken.models import Token, TokenProxy

        return TokenProxy.objects.get(pk=Token.objects.create(user=matrix_world.users["officer"]).pk)
    if label == "otp_totp.totpdevice":
        from django_otp.plugins.otp_totp.models import TOTPDevice

        return TOTPDevice.objects.create(user=matrix_world.users["superuser"], name="phone", confirmed=False)
    if label == "notifications.outboxmessage":
        from notifications.models import OutboxMessage

        return OutboxMessage.objects.create(
            key="matrix-1", kind=OutboxMessage.Kind.choices[0][0], to_email="x@city.example.org",
            period="2026-W01", summary="A reminder", next_attempt_at=now,
        )
    if label.startswith("axes."):
        from django.apps import apps

        model = apps.get_model(label)
        fields = {f.name for f in model._meta.fields}
        data = {"username": "nobody", "ip_address": "192.0.2.1", "user_agent": "matrix"}
        data.update({k: v for k, v in {"path_info": "/accounts/login/", "http_accept": "*/*", "get_data": "", "post_data": "", "failures_since_start": 1, "attempt_time": now}.items() if k in fields})
        return model.objects.create(**data)
    return None


def admin_snapshot(model, record):
    values = list(model._default_manager.filter(pk=record.pk).values()) if record is not None else []
    return (row_counts(), values)


def admin_expectation(actor, root_status):
    if actor == "anonymous":
        return ADMIN_LOGIN
    if actor in NO_ROLE:
        return NO_ROLE_PAGE
    if actor == "superuser":
        return root_status
    return ADMIN_LOGIN  # a role and is_staff, but not a superuser


def admin_cases():
    return [pytest.param(model, id=f"admin-{model._meta.label_lower}") for model in admin_models()]


def test_every_admin_model_is_in_the_matrix():
    """Every registered model is covered by `test_admin` (the ids come from the registry itself)."""
    labels = {model._meta.label_lower for model in admin_models()}
    assert set(ADMIN_CONFIDENTIAL) <= labels
    assert {"auth.user", "partners.partner", "engagements.trademission", "otp_totp.totpdevice"} <= labels


@pytest.mark.parametrize("model", admin_cases())
def test_admin(matrix_world, model):
    """Changelist (and its search), add, change, delete, history, history version GET and POST, autocomplete."""
    from django.contrib import admin
    from django.test import RequestFactory

    model_admin = admin.site._registry[model]
    app, name = model._meta.app_label, model._meta.model_name
    label = model._meta.label_lower
    saved = Redirect(reverse(f"admin:{app}_{name}_changelist"))
    root_request = RequestFactory().get("/admin/")
    root_request.user = matrix_world.users["superuser"]
    has_history = hasattr(model_admin, "history_form_view")
    objects = admin_objects(matrix_world, model)
    root = matrix_world.client("superuser")

    def status(allowed, ok=200):
        return ok if allowed else 403

    # (method, url, data, status for root); data: None for GET
    requests = [
        ("get", reverse(f"admin:{app}_{name}_changelist"), None, status(model_admin.has_view_or_change_permission(root_request))),
        ("get", reverse(f"admin:{app}_{name}_changelist") + "?q=LEAK", None, status(model_admin.has_view_or_change_permission(root_request))),
        ("get", reverse(f"admin:{app}_{name}_add"), None, status(model_admin.has_add_permission(root_request))),
        ("post", reverse(f"admin:{app}_{name}_add"), {}, status(model_admin.has_add_permission(root_request), ADMIN_FORM_ERRORS)),
    ]
    for field in getattr(model_admin, "autocomplete_fields", ()):
        query = f"?app_label={app}&model_name={name}&field_name={field}&term=LEAK"
        requests.append(("get", "/admin/autocomplete/" + query, None, 200))
    for obj, record in objects:
        change = reverse(f"admin:{app}_{name}_change", args=[record.pk])
        may_change = model_admin.has_change_permission(root_request, record)
        change_data = admin_form_data(root.get(change)) if may_change else {}
        requests += [
            ("get", change, None, status(model_admin.has_view_or_change_permission(root_request, record))),
            ("post", change, change_data, status(may_change, ADMIN_FORM_ERRORS if label in ADMIN_CHANGE_SHOWS_ERRORS else saved)),
            ("get", reverse(f"admin:{app}_{name}_delete", args=[record.pk]), None, status(model_admin.has_delete_permission(root_request, record))),
            ("get", reverse(f"admin:{app}_{name}_history", args=[record.pk]), None, 200),
        ]
        if has_history:
            version = reverse(f"admin:{app}_{name}_simple_history", args=[record.pk, record.history.earliest().history_id])
            page = root.get(version)
            revert = admin_form_data(page) if page.status_code == 200 else {}
            for key in ("title", "description", "name", "full_name"):
                if key in revert:
                    revert[key] = "REVERTED by the matrix"
            if "confidentiality" in revert:
                revert["confidentiality"] = "internal"
            requests += [("get", version, None, 200), ("post", version, revert, status(may_change, ADMIN_FORM_ERRORS if label in ADMIN_REVERT_SHOWS_ERRORS else saved))]
        # Last: a confirmed delete (the savepoint of each actor brings the record back).
        delete = reverse(f"admin:{app}_{name}_delete", args=[record.pk])
        requests.append(("post", delete, {"post": "yes"}, status(model_admin.has_delete_permission(root_request, record), ADMIN_PROTECTED if label in ADMIN_DELETE_PROTECTED else saved)))

    def case(actor, where):
        client = matrix_world.client(actor)
        for method, url, data, root_status in requests:
            where["url"] = f"{method.upper()} {url}"
            record = next((r for _, r in objects if f"/{r.pk}/" in url), None)
            before = admin_snapshot(model, record) if method == "post" and actor != "superuser" else None
            response = client.get(url) if method == "get" else client.post(url, data)
            COUNTS["admin"] += 1
            check_status(response, admin_expectation(actor, root_status), url)
            check_markers(matrix_world, actor, response, url, False)
            if before is not None:
                check_unchanged(before, admin_snapshot(model, record), f"POST {url} by {actor}")

    for_every_actor(f"admin {model._meta.label}", case)


def test_admin_index(matrix_world):
    def case(actor, where):
        where["url"] = "/admin/"
        response = matrix_world.client(actor).get("/admin/")
        COUNTS["admin"] += 1
        check_status(response, admin_expectation(actor, 200), "/admin/")

    for_every_actor("admin index", case)
