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
from dataclasses import dataclass

import pytest
from django.urls import get_resolver, reverse
from django.urls.resolvers import URLPattern, URLResolver

from .conftest import OBJECTS, SEES, attachment_of, captured_message, check_headers, row_counts
from .matrix import (
    COUNTS,
    FORM_ERRORS,
    Redirect,
    LOGIN,
    NO_ROLE,
    NO_ROLE_PAGE,
    OPEN_WITHOUT_ROLE,
    Expect,
    can,
    check_markers,
    check_status,
    check_unchanged,
    conf,
    for_every_actor,
    import_job,
    logged_in_method_not_allowed,
    perm,
    public,
    read,
    webhook_objects,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("matrix_counts")]


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
    if actor == "anonymous":
        return LOGIN
    if actor not in SEES[obj]:
        return 404
    return 200 if can(actor, "change_engagement") else 403


def triage_pk(w, o):
    return {"pk": captured_message(w).pk}


def triage_file(**kind):
    """The first file of a captured message with a PDF attached (`kind`: restricted=True, from_colleague=True)."""
    return lambda w, o: {"pk": captured_message(w, with_file=True, **kind).pk, "number": 1}


def restricted_mail(actor, obj):
    """A message from the cast's staff member, marked [restricted] or unmarked (restricted by default): officers
    and that sender only."""
    if actor == "anonymous":
        return LOGIN
    if not can(actor, "add_engagement"):
        return 403
    return 200 if actor in ("staff", "officer", "superuser") else 404


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
    Route("partners:quick-create", get=logged_in_method_not_allowed, post=perm("add_partner", ok=FORM_ERRORS)),
    Route("partners:lookup", get=read(), queries=("q=Osaka", "q=LEAK")),
    Route("partners:edit", get=perm("change_partner"), kwargs=partner_pk, post=perm("change_partner")),
    Route("partners:archive", get=perm("change_partner"), kwargs=partner_pk, post=perm("change_partner", ok=Redirect("/partners/"))),
    Route("partner-history", get=read(), kwargs=partner_pk, shows=True),
    Route("partners:contact-list", get=read(), queries=LISTS),
    Route("partners:contact-create", get=perm("add_contact"), post=perm("add_contact")),
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
    Route("engagements:invitation", get=perm("add_engagement"), post=perm("add_engagement"),
          note="an .ics upload (issue 20); an empty POST: the form with its error"),
    Route("engagements:detail", get=conf(), kwargs=eng, objects=WITH_CONF, shows=True),
    Route("engagements:edit", get=conf("change_engagement"), kwargs=eng, objects=WITH_CONF, post=conf("change_engagement")),
    Route("engagements:delete", get=conf("delete_engagement"), kwargs=eng, objects=WITH_CONF,
          post=conf("delete_engagement", ok=409), note="its commitment points to it: refused, nothing deleted"),
    Route("engagements:mission-list", get=read(), queries=LISTS),
    Route("engagements:mission-create", get=perm("add_trademission"), post=perm("add_trademission")),
    Route("engagements:mission-lookup", get=read(), queries=("q=Kansai", "q=osaka", "q=LEAK", ""),
          note="missions carry no confidentiality: every role; their restricted meetings never appear"),
    Route("engagements:mission-detail", get=read(), kwargs=mission_pk, shows=True),
    Route("engagements:mission-edit", get=perm("change_trademission"), kwargs=mission_pk, post=perm("change_trademission")),
    Route("engagements:mission-delete", get=perm("delete_trademission"), kwargs=mission_pk,
          post=perm("delete_trademission", ok=409), note="its meetings point to it: refused, nothing deleted"),
    Route("engagements:commitment-list", get=read(), queries=(*CONF_LISTS, "status=open"), shows=True),
    Route("engagements:commitment-create", get=perm("add_commitment"), post=perm("add_commitment")),
    Route("engagements:commitment-detail", get=conf(), kwargs=com, objects=WITH_CONF, shows=True),
    Route("engagements:commitment-edit", get=conf("change_commitment"), kwargs=com, objects=WITH_CONF,
          post=conf("change_commitment")),
    Route("engagements:commitment-done", get=conf("change_commitment"), kwargs=com, objects=WITH_CONF,
          post=conf("change_commitment", ok=302)),
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
    Route("imports:resume", get=logged_in_method_not_allowed, kwargs=job_pk),
    Route("imports:cancel", get=logged_in_method_not_allowed, kwargs=job_pk),
    Route("imports:bad_rows", get=import_job(), kwargs=job_pk),
    Route("imports:duplicates", get=perm("officer")),
    Route("imports:merge", get=perm("officer"),
          kwargs=lambda w, o: {"kind": "partner", "survivor": w.partner.pk, "duplicate": w.extra["twin"].pk}),
    # audit: history of any record, with the record's own confidentiality; restore by officers
    Route("audit:record", get=conf(), kwargs=history_of("engagement"), objects=WITH_CONF, shows=True),
    Route("audit:restore", get=perm("officer"), kwargs=restore_of, objects=WITH_CONF),
    # undo a delete: POST only; a version that is not a deletion is no undo, for anyone (404)
    Route("audit:undo", get=logged_in_method_not_allowed, kwargs=restore_of, objects=WITH_CONF,
          post=lambda actor, obj: LOGIN if actor == "anonymous" else 404),
    # gifts (a restricted engagement's gifts are as hidden as the engagement)
    Route("gifts:list", get=read(), queries=LISTS, shows=True),
    Route("gifts:create", get=perm("add_gift"), post=perm("add_gift")),
    Route("gifts:report", get=read(), queries=("", "start=2024-01-01&end=2024-12-31", "start=2024-01-01&end=2024-12-31&format=csv")),
    Route("gifts:edit", get=conf("change_gift"), kwargs=lambda w, o: {"pk": w.gifts[o].pk}, objects=WITH_CONF,
          post=conf("change_gift")),
    # search, calendars, briefings
    Route("dashboard:search", get=read(), queries=("", "q=LEAK", "q=Meeting", "q=Commitment", "q=Gift")),
    Route("dashboard:calendar-feed", get=lambda actor, obj: 404 if actor == "anonymous" else 200, queries=(TOKEN,),
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
    Route("webhooks:delivery-replay", get=lambda actor, obj: LOGIN if actor == "anonymous" else (405 if can(actor, "officer") else 403),
          kwargs=lambda w, o: {"pk": webhook_objects(w)[1].pk}, post=perm("officer", ok=302)),
    # API pages that are not operations of the schema
    # attachments: as visible as their engagement; replace and delete by officers
    Route("attachments:record", get=conf(), kwargs=attached_engagement, objects=WITH_CONF, shows=True, post=attach_post),
    Route("attachments:panel", get=conf(), kwargs=attached_engagement, objects=WITH_CONF, shows=True),
    Route("attachments:download", get=conf(), kwargs=attachment_pk, objects=WITH_CONF, shows=True),
    Route("attachments:replace", get=conf("officer"), kwargs=attachment_pk, objects=WITH_CONF,
          post=conf("officer", ok=200), note="an empty POST: the form with its error"),
    Route("attachments:delete", get=conf("officer"), kwargs=attachment_pk, objects=WITH_CONF,
          post=conf("officer", ok=302)),
    Route("api:attachment-download", get=None, note="an operation of the schema: test_api"),
    # mail triage (email capture): staff and officers; assigning is a POST to the message's page
    Route("mailcapture:triage", get=perm("add_engagement"), queries=(*LISTS, "status=", "q=LEAK")),
    Route("mailcapture:triage-detail", get=perm("add_engagement"), kwargs=triage_pk,
          post=perm("add_engagement"), note="an empty POST: the assign form with its errors"),
    Route("mailcapture:triage-file", get=perm("add_engagement"), kwargs=triage_file(),
          post=lambda actor, obj: LOGIN if actor == "anonymous" else 405, note="a download: GET and HEAD only"),
    Route("mailcapture:triage-discard", get=lambda actor, obj: LOGIN if actor == "anonymous" else 405,
          kwargs=triage_pk, post=perm("add_engagement", ok=302)),
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
    Route("mailcapture:triage-detail", get=restricted_mail, kwargs=lambda w, o: {"pk": captured_message(w, restricted=True).pk}),
    Route("mailcapture:triage-detail", get=restricted_mail, kwargs=lambda w, o: {"pk": captured_message(w, from_colleague=True).pk}),
    Route("mailcapture:triage-file", get=restricted_mail, kwargs=triage_file(restricted=True)),
    Route("mailcapture:triage-file", get=restricted_mail, kwargs=triage_file(from_colleague=True)),
]
TABLE = {route.name: route for route in ROUTES}


def expected_for(route: Route, actor: str, obj, method: str = "get"):
    """The table's expectation, except that a user without a role gets the no-role page nearly everywhere."""
    if actor in NO_ROLE and route.name not in OPEN_WITHOUT_ROLE:
        if route.name == "dashboard:calendar-feed":
            return {200, 403, 404}  # no session: the feed judges the token's owner (and shows nothing)
        return NO_ROLE_PAGE
    return (route.get if method == "get" else route.post)(actor, obj)


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


@pytest.mark.parametrize(("route", "obj", "query"), get_cases())
def test_get(matrix_world, route, obj, query):
    def case(actor, where):
        url = reverse(route.name, kwargs=route.kwargs(matrix_world, obj))
        if query == TOKEN:
            # The feed of the actor, by their own token, without a session.
            token = matrix_world.users[actor].profile.calendar_token if actor != "anonymous" else ""
            url += f"?token={token}"
            where["url"] = url
            response = matrix_world.client("anonymous").get(url)
        else:
            if query:
                url += "?" + query
            where["url"] = url
            response = matrix_world.client(actor).get(url)
        COUNTS["get"] += 1
        check_status(response, expected_for(route, actor, obj), url)
        check_headers(response, url, signed_in=actor != "anonymous")
        check_markers(matrix_world, actor, response, url, route.shows and query == "", obj)

    for_every_actor(f"GET {route.name} [{obj}]", case)


@pytest.mark.parametrize(("route", "obj"), post_cases())
def test_post_without_the_right_changes_nothing(matrix_world, route, obj):
    """An empty POST: refused (login, 403, 404) or a form with errors; only a permitted delete/archive writes."""

    def case(actor, where):
        url = where["url"] = reverse(route.name, kwargs=route.kwargs(matrix_world, obj))
        expected = expected_for(route, actor, obj, "post")
        before = row_counts()
        response = matrix_world.client(actor).post(url, {})
        COUNTS["post"] += 1
        check_status(response, expected, url)
        check_markers(matrix_world, actor, response, url, False)
        if expected in (LOGIN, NO_ROLE_PAGE, 403, 404, 200, 409):
            check_unchanged(before, row_counts(), f"{url} by {actor}")

    for_every_actor(f"POST {route.name} [{obj}]", case)
