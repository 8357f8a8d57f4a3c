"""S10, S4: bad input in lists' filters, the protocol and sizes, the API's bodies and filters, CSV exports.

The same rules as test_bad_input.py (never a 5xx; a rejection says why and changes nothing),
each case asserting what the user gets: the list or its filter errors, the refusal and its reason.
"""

import csv
import io
import json

import pytest
from django.urls import reverse

from engagements.filters import CommitmentFilter, EngagementFilter, TradeMissionFilter
from mailcapture.filters import CapturedMessageFilter
from partners.filters import AgreementFilter, ContactFilter, PartnerFilter

from .bad_input import (
    assert_form_errors,
    FORMS,
    STATS,
    form_defaults,
    post_form,
    unescaped,
)
from .conftest import row_counts

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("bad_input_figures")]


# --- Filters and search on every list (item 7), SQL-like and control characters ---
LISTS = {
    "partners:list": PartnerFilter,
    "partners:contact-list": ContactFilter,
    "partners:agreement-list": AgreementFilter,
    "engagements:list": EngagementFilter,
    "engagements:mission-list": TradeMissionFilter,
    "engagements:commitment-list": CommitmentFilter,
    "mailcapture:triage": CapturedMessageFilter,
}
HOSTILE = [
    "' OR 1=1 --",
    '"; DROP TABLE partners_partner; --',
    "%",
    "_",
    "\\",
    "\x00",
    "a\x00b",
    "\u202eevil",
    "\x1b[31m",
    "-1",
    "0",
    str(2**63),
    "1e309",
    "NaN",
    "12abc",
    "../../etc/passwd",
    "2025-02-30",
    "<script>alert(1)</script>",
    "x" * 10_240,
]
# Tried in each parameter on its own (the database breakers); the rest in every parameter at once.
PER_PARAM = {"\x00", str(2**63), "' OR 1=1 --"}
RAW_QUERIES = ["q=%ED%A0%80", "q=%FF%FE", "page=0", "page=-1", "page=abc", "page=999999", "ordering=password",
               "ordering=-nonexistent", "q=a&q=b&q=c", "unknown_filter=1", "format=csv&q=%00", "format=xml"]


def assert_list_answer(response, case, *, csv=False) -> None:
    """What a user gets from a list asked for hostile filters: the list page, its rows or its filter errors
    (a page number out of range: the last page); a CSV export with bad filters: a 400 naming them."""
    body = response.content.decode("utf-8", "replace") if not response.streaming else ""
    if csv and response.status_code == 400:
        assert body.strip(), case  # the filters that are wrong, as text
        return
    assert response.status_code == 200, (*case, response.status_code)
    if csv:
        assert response["Content-Type"].startswith("text/csv"), case
        return
    form = response.context.get("form") if response.context else None
    if form is not None and form.errors:
        assert "Some filter values are not valid" in body, case  # the filters named, no unfiltered list
        assert response.context["rows"] == [], case
    else:
        assert "<table" in body or "No " in body or "nothing" in body.lower(), case  # the rows, or the empty-list note


@pytest.mark.parametrize("list_name", list(LISTS))
def test_hostile_filter_values_give_results_or_form_errors(matrix_world, list_name):
    client = matrix_world.client("staff")
    url = reverse(list_name)
    params = [*LISTS[list_name].base_filters, "page"]
    for value in HOSTILE:
        for param in params if value in PER_PARAM else ():
            response = client.get(url, {param: value})
            STATS["tried"] += 1
            if response.status_code >= 500:
                STATS["5xx"] += 1
            assert_list_answer(response, (url, param, repr(value)[:40]))
            assert not unescaped(response.content.decode()), (url, param)
        # Every filter at once, and as CSV.
        everything = dict.fromkeys(params, value)
        for extra in ({}, {"format": "csv"}) if value in PER_PARAM else ({},):
            response = client.get(url, {**everything, **extra})
            STATS["tried"] += 1
            assert_list_answer(response, (url, "all", repr(value)[:40]), csv="format" in extra)
    for raw in RAW_QUERIES:
        response = client.get(f"{url}?{raw}")
        STATS["tried"] += 1
        assert_list_answer(response, (url, raw), csv="format=csv" in raw)


def test_the_country_page_takes_any_code(matrix_world):
    client = matrix_world.client("viewer")
    # A code in any case is the country's page; anything else is not a country: the 404 page.
    response = client.get("/countries/jp/")
    STATS["tried"] += 1
    assert response.status_code == 200 and "Japan" in response.content.decode()
    for code in ["ZZ", "J", "JPN", "%00", "..", "' OR 1=1", "x" * 300, "\u202e"]:
        response = client.get(f"/countries/{code}/")
        STATS["tried"] += 1
        assert response.status_code == 404, (code, response.status_code)
        assert "Japan" not in response.content.decode()


# --- Protocol (item 12) and sizes (item 1) ---
HTML_ROUTES = ["/", "/partners/", "/engagements/", "/commitments/", "/missions/", "/agreements/", "/contacts/",
               "/engagements/new/", "/partners/new/", "/outbox/", "/import/", "/accounts/preferences/",
               "/engagements/invitation/"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "TRACE"])
def test_other_methods_on_html_views_are_405(matrix_world, method):
    client = matrix_world.client("officer")
    routes = [*HTML_ROUTES, f"/engagements/{matrix_world.engagements['internal'].pk}/", f"/partners/{matrix_world.partner.pk}/"]
    for url in routes:
        before = row_counts()
        response = client.generic(method, url)
        STATS["tried"] += 1
        assert response.status_code == 405, (method, url, response.status_code)
        assert row_counts() == before


def test_a_foreign_host_header_is_400(matrix_world):
    client = matrix_world.client("officer")
    for url in ["/", "/partners/", "/accounts/login/", "/api/v1/partners/"]:
        response = client.get(url, HTTP_HOST="evil.example")
        STATS["tried"] += 1
        assert response.status_code == 400, url
        assert b"evil.example" not in response.content


def test_a_body_over_ten_megabytes_is_refused(matrix_world):
    client = matrix_world.client("officer")
    before = row_counts()
    big = "a" * (11 * 1024 * 1024)
    response = post_form(client, reverse("partners:create"), {"name": big, "kind": "city", "country": "FR"})
    assert response.status_code == 400  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE, before any view
    assert row_counts() == before
    response = client.post("/api/v1/partners/", data=json.dumps({"name": big}), content_type="application/json")
    STATS["tried"] += 1
    assert response.status_code == 413 and response.json(), response.status_code  # the API says why
    assert row_counts() == before


def test_an_oversized_upload_is_refused(matrix_world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = matrix_world.client("officer")
    before = row_counts()
    upload = SimpleUploadedFile("big.csv", b"name,kind\n" + b"x,city\n" * (11 * 1024 * 1024 // 7), content_type="text/csv")
    response = post_form(client, reverse("imports:start"), {"kind": "partners", "file": upload})
    assert_form_errors(response, before)


def test_a_json_body_to_an_html_form_is_a_form_error(matrix_world):
    client = matrix_world.client("officer")
    before = row_counts()
    response = client.post(reverse("partners:create"), data=json.dumps({"name": "x"}), content_type="application/json")
    STATS["tried"] += 1
    # request.POST is empty: the views treat that as "no form sent yet" and show the blank form again.
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="name"' in body and "usa-error-message" not in body  # the blank form, no errors yet
    assert row_counts() == before


# --- The API: JSON shapes, content types, numbers (items 5, 8) ---
API_BAD = [
    ("malformed", "{", "application/json"),
    ("empty", "", "application/json"),
    ("list", "[]", "application/json"),
    ("deep", "[" * 10_000 + "]" * 10_000, "application/json"),
    ("nul", json.dumps({"name": "a\x00b", "kind": "city", "country": "FR"}), "application/json"),
    ("surrogate", '{"name": "\\ud800", "kind": "city", "country": "FR"}', "application/json"),
    ("bigint", json.dumps({"name": "n", "kind": "city", "country": "FR", "priority": 2**63}), "application/json"),
    ("nan", '{"name": "n", "kind": "city", "country": "FR", "priority": NaN}', "application/json"),
    ("infinity", '{"name": "n", "kind": "city", "country": "FR", "priority": 1e309}', "application/json"),
    ("bool", json.dumps({"name": "n", "kind": "city", "country": "FR", "priority": True}), "application/json"),
    ("null", json.dumps({"name": None, "kind": "city", "country": "FR"}), "application/json"),
    ("dup_keys", '{"name": "a", "name": "b", "kind": "spaceship", "country": "FR"}', "application/json"),
    ("form_encoded", "name=n&kind=city&country=FR", "application/x-www-form-urlencoded"),
    ("xml", "<partner><name>n</name></partner>", "application/xml"),
    ("text", "name", "text/plain"),
    ("parent_bigint", json.dumps({"name": "n", "kind": "city", "country": "FR", "parent": 2**63}), "application/json"),
    ("topics_10k", json.dumps({"name": "n", "kind": "city", "country": "FR", "topics": ["x"] * 10_000}), "application/json"),
    ("javascript_site", json.dumps({"name": "n", "kind": "city", "country": "FR", "website": "javascript:alert(1)"}),
     "application/json"),
    ("too_long", json.dumps({"name": "n" * 1000, "kind": "city", "country": "FR"}), "application/json"),
]


UNSUPPORTED_MEDIA = {"xml", "text", "form_encoded"}  # the API reads JSON only


@pytest.mark.parametrize(("case", "body", "content_type"), API_BAD, ids=[c[0] for c in API_BAD])
def test_bad_api_bodies_are_4xx_with_reasons(matrix_world, case, body, content_type):
    client = matrix_world.client("officer")
    before = row_counts()
    response = client.generic("POST", "/api/v1/partners/", body.encode("utf-8", "surrogatepass"), content_type=content_type)
    STATS["tried"] += 1
    STATS["rejections"] += 1
    if response.status_code >= 500:
        STATS["5xx"] += 1
    expected = 415 if case in UNSUPPORTED_MEDIA else 400
    assert response.status_code == expected, (case, response.status_code, response.content[:300])
    assert row_counts() == before
    payload = response.json()
    if not payload:
        STATS["rejections_without_field_errors"] += 1
    assert payload, "a 4xx without a reason"


@pytest.mark.parametrize("query", ["page=0", "page=abc", "page_size=100000", "ordering=password", "ordering=-nope",
                                   "starts_after=notadate", "partner=" + str(2**63), "partner=-1", "q=%00",
                                   "q=%ED%A0%80", "kind=spaceship", "confidentiality=restricted&confidentiality=x"])
def test_bad_api_filters_are_200_or_400(matrix_world, query):
    client = matrix_world.client("viewer")
    for resource in ("partners", "engagements", "commitments", "contacts", "agreements", "trade-missions", "gifts",
                     "attachments"):
        response = client.get(f"/api/v1/{resource}/?{query}")
        STATS["tried"] += 1
        if response.status_code >= 500:
            STATS["5xx"] += 1
        body = response.content.decode()
        # The results, a 400 naming the wrong parameter, or a 404 for a page that does not exist.
        if response.status_code == 200:
            assert "results" in response.json(), (resource, query)
        elif response.status_code == 400:
            assert set(response.json()) & (set(query.replace("&", "=").split("=")[::2]) | {"detail"}), (resource, query, body[:200])
        else:
            assert response.status_code == 404 and query.startswith("page="), (resource, query, response.status_code)
            assert response.json()["detail"], (resource, query)
        assert not any(m in body for m in matrix_world.forbidden_markers("viewer"))


# --- CSV formula injection (item 9) ---
FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+cmd|' /C calc'!A0", "-1+1", "@SUM(1,2)", "\t=1+1", "\r=1+1"]


def test_csv_export_defuses_formulas(matrix_world):
    client = matrix_world.client("officer")
    url = reverse("partners:create")
    defaults = form_defaults(client, url)
    for formula in FORMULAS:
        response = post_form(client, url, {**defaults, **FORMS["partner"][2](matrix_world), "name": f"{formula}", "city": formula})
        if response.status_code != 302:  # a name that is only whitespace + formula may be refused: fine
            continue
    response = client.get(reverse("partners:list") + "?format=csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    rows = list(csv.reader(io.StringIO(text)))
    cells = [cell for row in rows for cell in row]
    dangerous = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not c[:1].isdigit()]
    assert not dangerous, dangerous
    assert any(c.startswith("'=HYPERLINK") for c in cells)


# --- yes/no filters: an invalid value is an error, never silently "any" ---
@pytest.mark.parametrize(("list_name", "api", "param"), [
    ("partners:contact-list", "contacts", "is_active"),
    ("engagements:commitment-list", "commitments", "overdue"),
])
def test_an_invalid_yes_no_filter_is_an_error_not_ignored(matrix_world, list_name, api, param):
    client = matrix_world.client("officer")
    for bad in ("maybe", "2", "yes please", "\x00"):
        page = client.get(reverse(list_name), {param: bad})
        STATS["tried"] += 1
        assert page.status_code == 200
        assert page.context["form"].errors[param] == ['Use "true" or "false".'], bad
        assert "Some filter values are not valid" in page.content.decode()
        assert page.context["rows"] == []  # not the unfiltered list
        csv_export = client.get(reverse(list_name), {param: bad, "format": "csv"})
        assert csv_export.status_code == 400 and param in csv_export.content.decode()
        response = client.get(f"/api/v1/{api}/", {param: bad})
        STATS["tried"] += 1
        assert response.status_code == 400, (api, bad)
        assert response.json()[param] == ['Use "true" or "false".']
    # The values forms and the API send are still understood, in any case.
    for good in ("true", "false", "True", "FALSE", "1", "0", "unknown", ""):
        assert client.get(reverse(list_name), {param: good}).context["form"].errors == {}, good
        assert client.get(f"/api/v1/{api}/", {param: good}).status_code == 200, good
