"""The permission matrix's shared parts (S2): the expected outcomes, the checks, the per-actor loop.

The matrix itself is three test modules: `test_permission_matrix.py` (every
page route), `test_permission_matrix_api.py` (every OpenAPI operation) and
`test_permission_matrix_admin.py` (every back-office model). Each case names
one exact outcome: a status, a redirect to the login page, the no-role page,
or a page that must show a given text (a form's errors, the admin's refusal).
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.db import transaction

from .conftest import ACTORS, NO_ROLE, SEES

LOGIN = "login"  # a 302 to /accounts/login/?next=...
ADMIN_LOGIN = "admin-login"  # a 302 to /admin/login/?next=...
NO_ROLE_PAGE = "no-role"  # a 403 saying "You have no role yet; ask an administrator", and nothing else
NO_ROLE_TEXT = "You have no role yet; ask an administrator"
# What a signed-in user without a role may still reach (accounts.middleware.RoleRequiredMiddleware).
OPEN_WITHOUT_ROLE = {"healthz", "login", "logout", "password_change", "password_change_done"}

# --- The contract's roles (ARCHITECTURE.md, "Roles"), written out, not read from the code ---
MODELS = ("topic", "partner", "contact", "agreement", "engagement", "trademission", "commitment", "gift")
STAFF_CAN = {
    "add_partner",
    "add_contact", "change_contact",
    "add_engagement", "change_engagement",
    "add_commitment", "change_commitment",
    "add_gift", "change_gift",
}  # fmt: skip
OFFICER_CAN = {f"{verb}_{m}" for m in MODELS for verb in ("add", "change", "delete")} | {"outbox", "officer"}


def can(actor: str, perm: str) -> bool:
    if actor == "anonymous" or actor in NO_ROLE:
        return False
    if actor in ("officer", "superuser"):
        return perm in OFFICER_CAN
    if actor in ("staff", "other_staff"):
        return perm in STAFF_CAN
    return False  # viewer: reads only


# --- Expectations: functions of (actor, object) -----------------------------------------
Expect = Callable[[str, str | None], object]


def public(status=200) -> Expect:
    return lambda actor, obj: status


def read(status=200) -> Expect:
    return lambda actor, obj: LOGIN if actor == "anonymous" else status


def perm(p: str, ok=200) -> Expect:
    def expect(actor, obj):
        if actor == "anonymous":
            return LOGIN
        return ok if can(actor, p) else 403

    return expect


def conf(p: str | None = None, ok=200) -> Expect:
    """Confidential record: permission first (403, the same for any id), then visibility (404)."""

    def expect(actor, obj):
        if actor == "anonymous":
            return LOGIN
        if p and not can(actor, p):
            return 403
        return ok if actor in SEES[obj] else 404

    return expect


def import_job(ok=200) -> Expect:
    # The job belongs to staff_user; officers see every job; another user's job id is a 404.
    def expect(actor, obj):
        return {"anonymous": LOGIN, "viewer": 403, "staff": ok, "other_staff": 404, "officer": ok, "superuser": ok}[actor]

    return expect


def logged_in_method_not_allowed(actor, obj):
    return LOGIN if actor == "anonymous" else 405




@dataclass(frozen=True)
class Shows:
    """This status, and a page showing this text (a form re-shown with its errors, a refused delete)."""

    status: int
    text: str


@dataclass(frozen=True)
class Redirect:
    """A 302 to a URL starting with `to` (a saved form going back to its list)."""

    to: str


FORM_ERRORS = Shows(200, "This field is required.")  # an empty form posted: shown again with its errors


def for_every_actor(label: str, case: Callable[[str, dict], None]) -> None:
    """Run `case(actor, where)` for each actor, each in its own savepoint with fresh throttles.

    One test per route rather than per (route, actor): the per-test set-up
    (transaction, constraint check, fixtures) cost more than the requests.
    Every actor is still tried and checked on its own: the failures of all
    of them are collected and reported together, each naming the case, the
    actor and the URL (which `case` records in `where["url"]`).
    """
    failures = []
    for actor in ACTORS:
        where = {"url": "?"}
        savepoint = transaction.savepoint_create()
        try:
            case(actor, where)
        except Exception as error:  # noqa: BLE001 (reported below, with the actor and URL)
            message = str(error) or repr(error)
            failures.append(f"{label} as {actor} ({where['url']}): {type(error).__name__}: {message}")
        finally:
            transaction.savepoint_rollback(savepoint)
            cache.clear()
    if failures:
        pytest.fail(f"{len(failures)} of {len(ACTORS)} actors failed:\n" + "\n".join(failures), pytrace=False)


def check_status(response, expected, url):
    status = response.status_code
    if status >= 500:
        COUNTS["5xx"] += 1
    assert status < 500, f"{url}: {status}"
    if expected == LOGIN:
        assert status == 302 and response["Location"].startswith("/accounts/login/"), (url, status)
    elif expected == ADMIN_LOGIN:
        assert status == 302 and response["Location"].startswith("/admin/login/"), (url, status)
    elif expected == NO_ROLE_PAGE:
        assert status == 403 and NO_ROLE_TEXT in body_of(response), (url, status)
    elif isinstance(expected, Shows):
        assert status == expected.status, (url, status, expected)
        assert expected.text in body_of(response), f"{url}: {status} without {expected.text!r}"
    elif isinstance(expected, Redirect):
        assert status == 302 and response["Location"].startswith(expected.to), (url, status, response.get("Location"))
    elif isinstance(expected, (set, frozenset)):
        assert status in expected, (url, status, expected)
    else:
        assert status == expected, (url, status, expected)


def body_of(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def check_markers(matrix_world, actor, response, url, shows, obj=None):
    body = body_of(response)
    leaked = [m for m in matrix_world.forbidden_markers(actor) if m in body]
    COUNTS["leaks"] += len(leaked)
    assert not leaked, f"{url} shows {actor} restricted markers {leaked}"
    if shows and response.status_code == 200:
        # A list shows every record the actor may see; a record's page shows its own.
        wanted = matrix_world.visible_markers(actor) if obj is None else [matrix_world.markers[obj]]
        hidden = [m for m in wanted if m not in body]
        assert not hidden, f"{url} hides from {actor} markers it may see {hidden}"


COUNTS = {"get": 0, "post": 0, "api": 0, "admin": 0, "5xx": 0, "leaks": 0, "refused_writes": 0, "writes_by_refused": 0}


def check_unchanged(before, after, what: str) -> None:
    """A refused request wrote nothing (the snapshot: row counts, and the record's fields where given)."""
    COUNTS["refused_writes"] += 1
    if after != before:
        COUNTS["writes_by_refused"] += 1
    assert after == before, f"{what} changed data"


def webhook_objects(w):
    """An endpoint and a pending delivery to it (made inside each actor's savepoint, so never kept)."""
    from django.utils import timezone

    from webhooks.models import Delivery, Endpoint, Event

    endpoint = Endpoint.objects.create(url="https://hooks.example.org/crm")
    event = Event.objects.create(type="partner.created", object_type="partner", object_id=w.partner.pk, body="{}")
    delivery = Delivery.objects.create(
        endpoint=endpoint, event=event, webhook_id=Delivery.make_webhook_id(event.pk, endpoint.pk),
        next_attempt_at=timezone.now(),
    )
    return endpoint, delivery
