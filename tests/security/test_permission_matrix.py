"""S2, the permission matrix: every route × every actor × every confidentiality case.

The table below maps each URL name of `get_resolver()` (and each operation of
the OpenAPI schema) to how it is called and what each actor must get:

  anonymous            302 to the login page (API: 401)
  no role              403 "You have no role yet" (pages and API alike), except signing in
                       and out, the password change and /healthz
  missing permission   403 (viewer writes, staff deletes...)
  restricted record    404 for whoever may not see it (no existence leak)
  otherwise            200 (or the documented redirect / 204)

Every response is also searched for the `LEAK-<uuid>` markers of the
engagements the actor may not see (title, summary, outcomes, commitment,
gift): none may appear, on any page, CSV, JSON or feed. On the surfaces
marked `shows`, the markers the actor may see must appear, so a test cannot
pass on an empty page. A route missing from the table fails
`test_every_route_is_in_the_matrix`: a new page cannot ship uncovered.

The back office is covered model by model from the admin registry itself
(`test_admin`): changelist and search, add, change, delete, history, history
version and its revert, autocomplete; only the superuser gets in, and no
refused POST changes the database (row counts and the record's fields).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from django.db import transaction
from django.urls import get_resolver, reverse
from django.urls.resolvers import URLPattern, URLResolver

from .conftest import ACTORS, NO_ROLE, OBJECTS, SEES, admin_form_data, attachment_of, check_headers, row_counts

pytestmark = pytest.mark.django_db

LOGIN = "login"  # a 302 to /accounts/login/?next=...
ADMIN_LOGIN = "admin-login"  # a 302 to /admin/login/?next=...
NO_ROLE_PAGE = "no-role"  # a 403 saying "You have no role yet; ask an administrator", and nothing else
NO_ROLE_TEXT = "You have no role yet; ask an administrator"
# What a signed-in user without a role may still reach (accounts.middleware.RoleRequiredMiddleware).
OPEN_WITHOUT_ROLE = {"healthz", "login", "logout", "password_change", "password_change_done"}
ANY_OK = frozenset({200, 204, 301, 302, 400, 409})  # any non-error outcome, for forms posted empty

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
    if actor == "anon" or actor in NO_ROLE:
        return False
    if actor in ("officer", "root"):
        return perm in OFFICER_CAN
    if actor in ("staff", "other"):
        return perm in STAFF_CAN
    return False  # viewer: reads only


# --- Expectations: functions of (actor, object) -----------------------------------------
Expect = Callable[[str, str | None], object]


def public(status=200) -> Expect:
    return lambda actor, obj: status


def read(status=200) -> Expect:
    return lambda actor, obj: LOGIN if actor == "anon" else status


def perm(p: str, ok=200) -> Expect:
    def expect(actor, obj):
        if actor == "anon":
            return LOGIN
        return ok if can(actor, p) else 403

    return expect


def conf(p: str | None = None, ok=200) -> Expect:
    """Confidential record: permission first (403, the same for any id), then visibility (404)."""

    def expect(actor, obj):
        if actor == "anon":
            return LOGIN
        if p and not can(actor, p):
            return 403
        return ok if actor in SEES[obj] else 404

    return expect


def import_job(ok=200) -> Expect:
    # The job belongs to staff_user; officers see every job; another user's job id is a 404.
    def expect(actor, obj):
        return {"anon": LOGIN, "viewer": 403, "staff": ok, "other": 404, "officer": ok, "root": ok}[actor]

    return expect


def logged_in_method_not_allowed(actor, obj):
    return LOGIN if actor == "anon" else 405


@dataclass
class Route:
    name: str
    get: Expect | None
    kwargs: Callable = lambda w, o: {}
    objects: tuple = (None,)
    queries: tuple = ("",)
    post: Expect | None = None
    shows: bool = False  # the markers the actor may see must appear
    note: str = ""


def eng(w, o):
    return {"pk": w.engagements[o].pk}


def com(w, o):
    return {"pk": w.commitments[o].pk}


def partner_pk(w, o):
    return {"pk": w.partner.pk}


def contact_pk(w, o):
    return {"pk": w.contact.pk}


def agreement_pk(w, o):
    return {"pk": w.agreement.pk}


def mission_pk(w, o):
    return {"pk": w.mission.pk}


def job_pk(w, o):
    return {"pk": w.import_job.pk}


def history_of(model):
    def kwargs(w, o):
        record = {
            "engagement": lambda: w.engagements[o],
            "commitment": lambda: w.commitments[o],
            "gift": lambda: w.gifts[o],
            "partner": lambda: w.partner,
        }[model]()
        return {"model": model, "pk": record.pk}

    return kwargs


def restore_of(w, o):
    record = w.engagements[o]
    return {"model": "engagement", "pk": record.pk, "history_id": record.history.latest().history_id}


def attachment_pk(w, o):
    return {"pk": attachment_of(w, o).pk}


def attached_engagement(w, o):
    """The engagement `o` with a file attached (the panel and the record's attachments page list it)."""
    attachment_of(w, o)
    return {"kind": "engagement", "pk": w.engagements[o].pk}


def attach_post(actor, obj):
    """An empty upload: 404 for whoever may not see the engagement, then 403 without the right to edit it,
    else the form with its error (200)."""
    if actor == "anon":
        return LOGIN
    if actor not in SEES[obj]:
        return 404
    return 200 if can(actor, "change_engagement") else 403


TOKEN = "token=<actor's calendar token>"
LISTS = ("", "format=csv")
CONF_LISTS = ("", "format=csv", "q=LEAK")
WITH_CONF = OBJECTS

ROUTES = [
    Route("healthz", get=public({200, 503}), note="no login by contract"),
    Route("login", get=public(200)),
    Route("logout", get=public(405), note="POST only"),
    Route("password_change", get=read(), post=read(200)),
    Route("password_change_done", get=read()),
    Route("accounts:preferences", get=read(), shows=False),
    # Two-factor sign-in (TOTP): the cast has no devices, so the code step just sends them on (302);
    # enrolment shows a new secret (200; an empty POST is a form error); removal is POST only.
    Route("accounts:login-verify", get=read(302), post=read(302)),
    Route("accounts:totp-add", get=read(), post=read(200)),
    Route("accounts:totp-remove", get=logged_in_method_not_allowed, post=read(302)),
    # partners/
    Route("partners:list", get=read(), queries=LISTS),
    Route("partners:create", get=perm("add_partner"), post=perm("add_partner")),
    Route("partners:quick-create", get=logged_in_method_not_allowed, post=perm("add_partner", ok=ANY_OK)),
    Route("partners:lookup", get=read(), queries=("q=Osaka", "q=LEAK")),
    Route("partners:edit", get=perm("change_partner"), kwargs=partner_pk, post=perm("change_partner")),
    Route("partners:archive", get=perm("change_partner"), kwargs=partner_pk, post=perm("change_partner", ok=ANY_OK)),
    Route("partner-history", get=read(), kwargs=partner_pk, shows=True),
    Route("partners:contact-list", get=read(), queries=LISTS),
    Route("partners:contact-create", get=perm("add_contact"), post=perm("add_contact")),
    Route("partners:contact-quick-create", get=logged_in_method_not_allowed, post=perm("add_contact", ok=ANY_OK)),
    Route("partners:contact-lookup", get=read(), queries=("q=Hana", "q=LEAK")),
    Route("partners:contact-detail", get=read(), kwargs=contact_pk),
    Route("partners:contact-edit", get=perm("change_contact"), kwargs=contact_pk, post=perm("change_contact")),
    Route("partners:contact-delete", get=perm("delete_contact"), kwargs=contact_pk, post=perm("delete_contact", ok=409),
          note="named by engagements: refused, nothing deleted"),
    Route("partners:agreement-list", get=read(), queries=LISTS),
    Route("partners:agreement-create", get=perm("add_agreement"), post=perm("add_agreement")),
    Route("partners:agreement-detail", get=read(), kwargs=agreement_pk),
    Route("partners:agreement-edit", get=perm("change_agreement"), kwargs=agreement_pk, post=perm("change_agreement")),
    Route("partners:agreement-delete", get=perm("delete_agreement"), kwargs=agreement_pk, post=perm("delete_agreement", ok=302)),
    # engagements/
    Route("engagements:list", get=read(), queries=(*CONF_LISTS, "confidentiality=restricted"), shows=True),
    Route("engagements:create", get=perm("add_engagement"), post=perm("add_engagement")),
    Route("engagements:detail", get=conf(), kwargs=eng, objects=WITH_CONF, shows=True),
    Route("engagements:edit", get=conf("change_engagement"), kwargs=eng, objects=WITH_CONF, post=conf("change_engagement")),
    Route("engagements:delete", get=conf("delete_engagement"), kwargs=eng, objects=WITH_CONF,
          post=conf("delete_engagement", ok=409), note="its commitment points to it: refused, nothing deleted"),
    Route("engagements:mission-list", get=read(), queries=LISTS),
    Route("engagements:mission-create", get=perm("add_trademission"), post=perm("add_trademission")),
    Route("engagements:mission-detail", get=read(), kwargs=mission_pk, shows=True),
    Route("engagements:mission-edit", get=perm("change_trademission"), kwargs=mission_pk, post=perm("change_trademission")),
    Route("engagements:mission-delete", get=perm("delete_trademission"), kwargs=mission_pk,
          post=perm("delete_trademission", ok=409), note="its meetings point to it: refused, nothing deleted"),
    Route("engagements:commitment-list", get=read(), queries=(*CONF_LISTS, "status=open"), shows=True),
    Route("engagements:commitment-create", get=perm("add_commitment"), post=perm("add_commitment")),
    Route("engagements:commitment-detail", get=conf(), kwargs=com, objects=WITH_CONF, shows=True),
    Route("engagements:commitment-edit", get=conf("change_commitment"), kwargs=com, objects=WITH_CONF,
          post=conf("change_commitment")),
    Route("engagements:commitment-delete", get=conf("delete_commitment"), kwargs=com, objects=WITH_CONF,
          post=conf("delete_commitment", ok=302)),
    # the combining pages
    Route("dashboard:home", get=read()),
    Route("dashboard:country", get=read(), kwargs=lambda w, o: {"code": "JP"}, shows=True),
    Route("notifications:outbox", get=perm("outbox")),
    # imports
    Route("imports:start", get=perm("add_contact")),  # staff and officers import
    Route("imports:mapping", get=import_job(), kwargs=job_pk),
    Route("imports:preview", get=import_job(), kwargs=job_pk),
    Route("imports:status", get=import_job(), kwargs=job_pk),
    Route("imports:commit", get=logged_in_method_not_allowed, kwargs=job_pk),
    Route("imports:duplicates", get=perm("officer")),
    Route("imports:merge", get=perm("officer"),
          kwargs=lambda w, o: {"kind": "partner", "survivor": w.partner.pk, "duplicate": w.extra["twin"].pk}),
    # audit: history of any record, with the record's own confidentiality; restore by officers
    Route("audit:record", get=conf(), kwargs=history_of("engagement"), objects=WITH_CONF, shows=True),
    Route("audit:restore", get=perm("officer"), kwargs=restore_of, objects=WITH_CONF),
    # gifts (a restricted engagement's gifts are as hidden as the engagement)
    Route("gifts:list", get=read(), queries=LISTS, shows=True),
    Route("gifts:create", get=perm("add_gift"), post=perm("add_gift")),
    Route("gifts:report", get=read(), queries=("", "start=2024-01-01&end=2024-12-31", "start=2024-01-01&end=2024-12-31&format=csv")),
    Route("gifts:edit", get=conf("change_gift"), kwargs=lambda w, o: {"pk": w.gifts[o].pk}, objects=WITH_CONF,
          post=conf("change_gift")),
    # search, calendars, briefings
    Route("dashboard:search", get=read(), queries=("", "q=LEAK", "q=Meeting", "q=Commitment", "q=Gift")),
    Route("dashboard:calendar-feed", get=lambda actor, obj: 404 if actor == "anon" else 200, queries=(TOKEN,),
          note="no session: the token is the credential; anon has none (404)"),
    Route("dashboard:engagement-ics", get=conf(), kwargs=eng, objects=WITH_CONF, shows=True),
    Route("dashboard:partner-briefing", get=read(), kwargs=partner_pk),
    Route("dashboard:engagement-briefing", get=conf(), kwargs=eng, objects=WITH_CONF, shows=True),
    # webhooks: officers only
    Route("webhooks:endpoint-list", get=perm("officer")),
    Route("webhooks:endpoint-create", get=perm("officer"), post=perm("officer")),
    Route("webhooks:endpoint-edit", get=perm("officer"), kwargs=lambda w, o: {"pk": webhook_objects(w)[0].pk},
          post=perm("officer")),
    Route("webhooks:delivery-log", get=perm("officer")),
    Route("webhooks:delivery-replay", get=lambda actor, obj: LOGIN if actor == "anon" else (405 if can(actor, "officer") else 403),
          kwargs=lambda w, o: {"pk": webhook_objects(w)[1].pk}, post=perm("officer", ok=302)),
    # attachments: as visible as their engagement; replace and delete by officers
    Route("attachments:record", get=conf(), kwargs=attached_engagement, objects=WITH_CONF, shows=True, post=attach_post),
    Route("attachments:panel", get=conf(), kwargs=attached_engagement, objects=WITH_CONF, shows=True),
    Route("attachments:download", get=conf(), kwargs=attachment_pk, objects=WITH_CONF, shows=True),
    Route("attachments:replace", get=conf("officer"), kwargs=attachment_pk, objects=WITH_CONF,
          post=conf("officer", ok=200), note="an empty POST: the form with its error"),
    Route("attachments:delete", get=conf("officer"), kwargs=attachment_pk, objects=WITH_CONF,
          post=conf("officer", ok=302)),
    Route("api:attachment-download", get=None, note="an operation of the schema: test_api"),
    # API pages that are not operations of the schema
    Route("api:schema", get=None, note="test_api_schema_and_docs"),
    Route("api:docs", get=None, note="test_api_schema_and_docs"),
    Route("api:api-root", get=None, note="test_api_schema_and_docs"),
    Route("api:not-found", get=None, note="test_api_schema_and_docs"),
    Route("api:webhook-delivery-replay", get=None, note="an operation of the schema: test_api"),
]
# Extra object kinds on the history page (the same route name, other models).
EXTRA_GETS = [
    Route("audit:record", get=conf(), kwargs=history_of("commitment"), objects=WITH_CONF, shows=True),
    Route("audit:record", get=conf(), kwargs=history_of("gift"), objects=WITH_CONF),
    Route("audit:record", get=read(), kwargs=history_of("partner")),
]
TABLE = {route.name: route for route in ROUTES}


def expected_for(route: Route, actor: str, obj, method: str = "get"):
    """The table's expectation, except that a user without a role gets the no-role page nearly everywhere."""
    if actor in NO_ROLE and route.name not in OPEN_WITHOUT_ROLE:
        if route.name == "dashboard:calendar-feed":
            return {200, 403, 404}  # no session: the feed judges the token's owner (and shows nothing)
        return NO_ROLE_PAGE
    return (route.get if method == "get" else route.post)(actor, obj)


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


def all_url_names() -> list[str]:
    """Every named, non-admin URL pattern (with its namespace)."""

    def walk(resolver, namespace=""):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                ns = ":".join(filter(None, [namespace, pattern.namespace]))
                yield from walk(pattern, ns)
            elif isinstance(pattern, URLPattern):
                yield (f"{namespace}:" if namespace else "") + str(pattern.name), str(pattern.pattern)

    return list(walk(get_resolver()))


API_OPERATION_NAMES = {"api:topic", "api:partner", "api:contact", "api:engagement", "api:trade-mission",
                       "api:commitment", "api:agreement", "api:gift", "api:webhook", "api:webhook-delivery",
                       "api:attachment"}  # fmt: skip


def test_every_route_is_in_the_matrix():
    missing = []
    for name, pattern in all_url_names():
        if name.startswith("admin:") or name.startswith("static") or name.startswith("media"):
            continue
        if name in TABLE:
            continue
        # Router routes are the schema's operations, covered by the API matrix below.
        if name.rsplit("-", 1)[0] in API_OPERATION_NAMES and name.endswith(("-list", "-detail")):
            continue
        missing.append(f"{name} ({pattern})")
    assert not missing, "Routes without a row in the permission matrix: " + ", ".join(missing)


def get_cases():
    """One test per (route, object, query); each test tries every actor (see `for_every_actor`)."""
    cases = []
    for route in [*ROUTES, *EXTRA_GETS]:
        if route.get is None:
            continue
        for obj in route.objects:
            for query in route.queries:
                cases.append(pytest.param(route, obj, query, id=f"GET-{route.name}-{obj}-{query}"))
    return cases


def post_cases():
    cases = []
    for route in ROUTES:
        if route.post is None:
            continue
        for obj in route.objects:
            cases.append(pytest.param(route, obj, id=f"POST-{route.name}-{obj}"))
    return cases


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
    elif isinstance(expected, (set, frozenset)):
        assert status in expected, (url, status, expected)
    else:
        assert status == expected, (url, status, expected)


def body_of(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def check_markers(world, actor, response, url, shows, obj=None):
    body = body_of(response)
    leaked = [m for m in world.forbidden_markers(actor) if m in body]
    COUNTS["leaks"] += len(leaked)
    assert not leaked, f"{url} shows {actor} restricted markers {leaked}"
    if shows and response.status_code == 200:
        # A list shows every record the actor may see; a record's page shows its own.
        wanted = world.visible_markers(actor) if obj is None else [world.markers[obj]]
        hidden = [m for m in wanted if m not in body]
        assert not hidden, f"{url} hides from {actor} markers it may see {hidden}"


COUNTS = {"get": 0, "post": 0, "api": 0, "admin": 0, "5xx": 0, "leaks": 0, "refused_writes": 0, "writes_by_refused": 0}


def check_unchanged(before, after, what: str) -> None:
    """A refused request wrote nothing (the snapshot: row counts, and the record's fields where given)."""
    COUNTS["refused_writes"] += 1
    if after != before:
        COUNTS["writes_by_refused"] += 1
    assert after == before, f"{what} changed data"


@pytest.fixture(scope="module", autouse=True)
def _report_counts(request):
    yield
    request.config._matrix_counts = dict(COUNTS)


@pytest.mark.parametrize(("route", "obj", "query"), get_cases())
def test_get(world, route, obj, query):
    def case(actor, where):
        url = reverse(route.name, kwargs=route.kwargs(world, obj))
        if query == TOKEN:
            # The feed of the actor, by their own token, without a session.
            token = world.users[actor].profile.calendar_token if actor != "anon" else ""
            url += f"?token={token}"
            where["url"] = url
            response = world.client("anon").get(url)
        else:
            if query:
                url += "?" + query
            where["url"] = url
            response = world.client(actor).get(url)
        COUNTS["get"] += 1
        check_status(response, expected_for(route, actor, obj), url)
        check_headers(response, url, signed_in=actor != "anon")
        check_markers(world, actor, response, url, route.shows and query == "", obj)

    for_every_actor(f"GET {route.name} [{obj}]", case)


@pytest.mark.parametrize(("route", "obj"), post_cases())
def test_post_without_the_right_changes_nothing(world, route, obj):
    """An empty POST: refused (login, 403, 404) or a form with errors; only a permitted delete/archive writes."""

    def case(actor, where):
        url = where["url"] = reverse(route.name, kwargs=route.kwargs(world, obj))
        expected = expected_for(route, actor, obj, "post")
        before = row_counts()
        response = world.client(actor).post(url, {})
        COUNTS["post"] += 1
        check_status(response, expected, url)
        check_markers(world, actor, response, url, False)
        if expected in (LOGIN, NO_ROLE_PAGE, 403, 404, 200, 409):
            check_unchanged(before, row_counts(), f"{url} by {actor}")

    for_every_actor(f"POST {route.name} [{obj}]", case)


# --- The API: every operation of the OpenAPI schema ---------------------------------------
# resource -> (model codename, object of the world for {id}, confidential?)
API_RESOURCES = {
    "topics": ("topic", lambda w, o: w.topic, False),
    "partners": ("partner", lambda w, o: w.partner, False),
    "contacts": ("contact", lambda w, o: w.contact, False),
    "agreements": ("agreement", lambda w, o: w.agreement, False),
    "trade-missions": ("trademission", lambda w, o: w.mission, False),
    "engagements": ("engagement", lambda w, o: w.engagements[o], True),
    "commitments": ("commitment", lambda w, o: w.commitments[o], True),
    "gifts": ("gift", lambda w, o: w.gifts[o], True),
    "webhooks": ("officer", None, False),  # officers only; objects from webhook_objects()
    "attachments": ("attachment", attachment_of, True),  # read-only; as visible as the engagement
}
API_LIST_SHOWS = {"engagements", "commitments", "gifts"}


def schema_operations() -> list[tuple[str, str]]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (path, method)
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


OPERATIONS = schema_operations()


def api_expectation(resource, method, is_detail, actor, obj):
    model, _, confidential = API_RESOURCES[resource]
    if actor == "anon":
        return {401}
    if actor in NO_ROLE:
        return NO_ROLE_PAGE
    if resource == "webhooks":
        if not can(actor, "officer"):
            return {403}
        if method == "post":
            return {409} if is_detail else {400}  # replay of a pending delivery; an empty endpoint
        return {"get": {200}, "put": {400}, "patch": {200}, "delete": {204}}[method]
    visible = not confidential or obj is None or actor in SEES[obj]
    if method == "get":
        return {200} if visible else {404}
    needed = {"post": "add", "put": "change", "patch": "change", "delete": "delete"}[method]
    if not can(actor, f"{needed}_{model}"):
        return {403}
    if not visible:
        return {404}
    return {"post": {400}, "put": {400}, "patch": {200}, "delete": {204, 409}}[method]


def api_cases():
    cases = []
    for path, method in OPERATIONS:
        resource = path.split("/")[3]
        is_detail = "{id}" in path
        confidential = API_RESOURCES.get(resource, (None, None, False))[2]
        objects = OBJECTS if (is_detail and confidential) else (None,)
        for obj in objects:
            cases.append(pytest.param(path, method, obj, id=f"API-{method.upper()}-{path}-{obj}"))
    return cases


def test_every_api_operation_is_in_the_matrix():
    resources = {path.split("/")[3] for path, _ in OPERATIONS}
    assert resources <= set(API_RESOURCES), f"API resources without a matrix row: {resources - set(API_RESOURCES)}"
    assert len(OPERATIONS) >= 8 * 5


@pytest.mark.parametrize(("path", "method", "obj"), api_cases())
def test_api(world, path, method, obj):
    resource = path.split("/")[3]
    is_detail = "{id}" in path

    def case(actor, where):
        url = path
        if is_detail and resource == "webhooks":
            url = path.replace("{id}", str(webhook_objects(world)["/deliveries/" in path].pk))
        elif is_detail:
            url = path.replace("{id}", str(API_RESOURCES[resource][1](world, obj).pk))
        where["url"] = f"{method.upper()} {url}"
        client = world.client(actor)
        before = row_counts() if method != "get" else None
        if method == "get":
            response = client.get(url)
        else:
            response = client.generic(method.upper(), url, "{}", content_type="application/json")
        COUNTS["api"] = COUNTS.get("api", 0) + 1
        expected = api_expectation(resource, method, is_detail, actor, obj)
        check_status(response, expected, f"{method.upper()} {url}")
        shows = method == "get" and not is_detail and resource in API_LIST_SHOWS
        check_markers(world, actor, response, url, shows, obj if is_detail else None)
        if method != "get" and response.status_code in (400, 401, 403, 404):
            check_unchanged(before, row_counts(), f"{method.upper()} {url} by {actor}")

    for_every_actor(f"API {method.upper()} {path} [{obj}]", case)


@pytest.mark.parametrize("actor", ACTORS)
def test_api_schema_and_docs(world, actor):
    client = world.client(actor)
    expected = {
        "/api/v1/schema/": 200,  # public: shapes, no data (README, "The REST API"); markers checked below
        "/api/v1/": 401 if actor == "anon" else 200,
        "/api/v1/docs/": LOGIN if actor == "anon" else 200,
        "/api/v1/partners/1.5/": 404,  # any other path: the API's JSON 404
    }
    if actor in NO_ROLE:
        expected = dict.fromkeys(expected, NO_ROLE_PAGE)
    for url, status in expected.items():
        response = client.get(url)
        check_status(response, status, url)
        check_markers(world, actor, response, url, False)


# --- The back office: every admin URL of every registered model ---------------------------
# Superusers only may enter (diplomacy_crm/admin.py). Everyone else, `is_staff` notwithstanding,
# is sent to the admin's login page (users without a role get the no-role page first), and
# nothing they POST (add, change, delete, a history revert with a complete valid form) writes.
ADMIN_CONFIDENTIAL = {"engagements.engagement": "engagements", "engagements.commitment": "commitments", "engagements.gift": "gifts"}


def admin_models():
    from django.contrib import admin

    return sorted(admin.site._registry, key=lambda model: model._meta.label)


def admin_objects(world, model) -> list[tuple[str | None, object]]:
    """(confidentiality case, record) pairs to open in the back office; rows made here where the world has none."""
    label = model._meta.label_lower
    if label in ADMIN_CONFIDENTIAL:
        return [(obj, getattr(world, ADMIN_CONFIDENTIAL[label])[obj]) for obj in OBJECTS]
    known = {
        "partners.partner": world.partner, "partners.contact": world.contact, "partners.topic": world.topic,
        "partners.agreement": world.agreement, "engagements.trademission": world.mission, "auth.user": world.users["staff"],
    }  # fmt: skip
    if label in known:
        return [(None, known[label])]
    record = model._default_manager.first() or make_admin_row(world, label)
    return [(None, record)] if record is not None else []


def make_admin_row(world, label):
    from django.utils import timezone

    now = timezone.now()
    if label == "auth.group":
        from django.contrib.auth.models import Group

        return Group.objects.first()
    if label == "authtoken.tokenproxy":
        from rest_framework.authtoken.models import Token, TokenProxy

        return TokenProxy.objects.get(pk=Token.objects.create(user=world.users["officer"]).pk)
    if label == "otp_totp.totpdevice":
        from django_otp.plugins.otp_totp.models import TOTPDevice

        return TOTPDevice.objects.create(user=world.users["root"], name="phone", confirmed=False)
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
    if actor == "anon":
        return ADMIN_LOGIN
    if actor in NO_ROLE:
        return NO_ROLE_PAGE
    if actor == "root":
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
def test_admin(world, model):
    """Changelist (and its search), add, change, delete, history, history version GET and POST, autocomplete."""
    from django.contrib import admin
    from django.test import RequestFactory

    model_admin = admin.site._registry[model]
    app, name = model._meta.app_label, model._meta.model_name
    root_request = RequestFactory().get("/admin/")
    root_request.user = world.users["root"]
    has_history = hasattr(model_admin, "history_form_view")
    objects = admin_objects(world, model)
    root = world.client("root")

    def status(allowed, ok=200):
        return ok if allowed else 403

    # (method, url, data, status for root); data: None for GET
    requests = [
        ("get", reverse(f"admin:{app}_{name}_changelist"), None, status(model_admin.has_view_or_change_permission(root_request))),
        ("get", reverse(f"admin:{app}_{name}_changelist") + "?q=LEAK", None, status(model_admin.has_view_or_change_permission(root_request))),
        ("get", reverse(f"admin:{app}_{name}_add"), None, status(model_admin.has_add_permission(root_request))),
        ("post", reverse(f"admin:{app}_{name}_add"), {}, status(model_admin.has_add_permission(root_request), ANY_OK)),
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
            ("post", change, change_data, status(may_change, ANY_OK)),
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
            requests += [("get", version, None, 200), ("post", version, revert, status(may_change, ANY_OK))]
        # Last: a confirmed delete (the savepoint of each actor brings the record back).
        delete = reverse(f"admin:{app}_{name}_delete", args=[record.pk])
        requests.append(("post", delete, {"post": "yes"}, status(model_admin.has_delete_permission(root_request, record), ANY_OK)))

    def case(actor, where):
        client = world.client(actor)
        for method, url, data, root_status in requests:
            where["url"] = f"{method.upper()} {url}"
            record = next((r for _, r in objects if f"/{r.pk}/" in url), None)
            before = admin_snapshot(model, record) if method == "post" and actor != "root" else None
            response = client.get(url) if method == "get" else client.post(url, data)
            COUNTS["admin"] += 1
            check_status(response, admin_expectation(actor, root_status), url)
            check_markers(world, actor, response, url, False)
            if before is not None:
                check_unchanged(before, admin_snapshot(model, record), f"POST {url} by {actor}")

    for_every_actor(f"admin {model._meta.label}", case)


def test_admin_index(world):
    def case(actor, where):
        where["url"] = "/admin/"
        response = world.client(actor).get("/admin/")
        COUNTS["admin"] += 1
        check_status(response, admin_expectation(actor, 200), "/admin/")

    for_every_actor("admin index", case)
