"""S10, S4: the hand-written bad-input corpus (QUALITY.md 3.7) against every form, list and the API.

For each case: never a 5xx; a rejection is a form with field errors (200) or
a 400/404/405/413/415 with a reason, and leaves the database as it was (row
counts of every table of ours, history included). Accepted hostile text
(XSS, template syntax, SQL-like strings) must come back escaped on every
page that shows it. The module prints the figures of 3.7 at the end.
"""

import csv
import io
import json
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from engagements.filters import CommitmentFilter, EngagementFilter, TradeMissionFilter
from engagements.models import Commitment, Engagement, TradeMission
from partners.filters import AgreementFilter, ContactFilter, PartnerFilter
from partners.models import Agreement, Contact, Partner

from .conftest import row_counts

pytestmark = pytest.mark.django_db

STATS = {
    "tried": 0,
    "5xx": 0,
    "rejected_changed_data": 0,
    "unescaped_renders": 0,
    "rejections_without_field_errors": 0,
    "rejections": 0,
}


@pytest.fixture(scope="module", autouse=True)
def _figures(request):
    yield
    request.config._security_figures = dict(STATS)  # printed by conftest's terminal summary


# --- The XSS corpus (3.7 item 10): each payload carries "XSS" so a payload-born tag is recognisable ---
XSS = [
    "<script>alert('XSS1')</script>",
    '"><img src=x onerror=alert("XSS2")>',
    "<svg onload=alert('XSS3')>",
    "javascript:alert('XSS4')",
    "</textarea><script>alert('XSS5')</script>",
    "{{constructor.constructor('alert(\"XSS6\")')()}}",
    '<a href="data:text/html,<script>alert(\'XSS7\')</script>">XSS7</a>',
    '<iframe srcdoc="<script>alert(\'XSS8\')</script>"></iframe>',
    "<style>@import 'http://evil.example/XSS9.css';</style>",
    "&lt;script&gt;alert('XSS10')&lt;/script&gt;",
    "[XSS11](javascript:alert(1))",
    "'\"><script>alert(String.fromCharCode(88,83,83,49,50))</script><!--XSS12",
    "<body onload=alert('XSS13')>",
    "<input autofocus onfocus=alert('XSS14')>",
    "<details open ontoggle=alert('XSS15')>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('XSS16')>",
    "<a href=\"javascript&colon;alert('XSS17')\">x</a>",
    "<img src=\"jav&#x09;ascript:alert('XSS18')\">",
    "' onmouseover='alert(\"XSS19\")' x='",
    '" onmouseover="alert(\'XSS20\')" x="',
    "</title><script>alert('XSS21')</script>",
    "<object data=\"javascript:alert('XSS22')\"></object>",
    "<embed src=\"javascript:alert('XSS23')\">",
    "<base href=\"http://evil.example/XSS24/\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert('XSS25')\">",
    "<form action=\"javascript:alert('XSS26')\"><button>XSS26</button></form>",
    "<div style=\"background:url(javascript:alert('XSS27'))\">XSS27</div>",
    "\u202e<script>alert('XSS28')</script>",
    "{{ 7*7 }} {% debug %} XSS29",
    "<scr<script>ipt>alert('XSS30')</scr</script>ipt>",
    "<link rel=stylesheet href=\"http://evil.example/XSS31.css\">",
    "<template><script>alert('XSS32')</script></template>",
]
assert len(XSS) >= 25

URL_ATTRS = {"href", "src", "action", "formaction", "data", "xlink:href", "srcdoc", "background", "poster"}
DANGEROUS_TAGS = {"iframe", "object", "embed", "base", "frame", "frameset", "applet"}


class PayloadFinder(HTMLParser):
    """Collects markup that a payload, not our templates, put into the page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []
        self._in = None

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name in URL_ATTRS and value.replace("\t", "").startswith(("javascript:", "vbscript:", "data:text/html")):
                self.found.append(f"<{tag} {name}={value[:40]}>")
            if name == "style" and "xss" in value:
                self.found.append(f"<{tag} style=…>")
        if tag in DANGEROUS_TAGS or (tag == "meta" and dict(attrs).get("http-equiv")):
            self.found.append(f"<{tag}>")
        kind = (dict(attrs).get("type") or "").lower()
        if tag == "script" and kind == "application/json":
            self._in = "json"  # json_script data: fine unless a payload broke out of it
        elif tag == "script" and not dict(attrs).get("src"):
            self._in = "script"
        if tag in ("style", "svg", "math", "template"):
            self._in = tag

    def handle_endtag(self, tag):
        if tag == self._in or (tag == "script" and self._in == "json"):
            self._in = None

    def handle_data(self, data):
        if self._in == "json":
            if "<" in data:  # json_script escapes <, > and & as \u003C...
                self.found.append(f"<script json>{data.strip()[:40]}")
        elif self._in and data.strip():
            self.found.append(f"<{self._in}>{data.strip()[:40]}")


def unescaped(html: str) -> list[str]:
    finder = PayloadFinder()
    finder.feed(html)
    return finder.found


# --- Forms, read back from the page's own markup ---


class FormReader(HTMLParser):
    """The fields of the first <form method=post> with an input named csrf or any field: name -> value(s)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.data: dict[str, list[str]] = {}
        self._select = None
        self._textarea = None
        self._in_post_form = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._in_post_form = (a.get("method") or "").lower() == "post" and "search" not in (a.get("role") or "")
        if not self._in_post_form:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.data.setdefault(name, []).append(a.get("value", "on"))
            elif kind not in ("submit", "button"):
                self.data.setdefault(name, []).append(a.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select].append(a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._in_post_form = False

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += data


def form_defaults(client, url) -> dict:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    reader = FormReader()
    reader.feed(response.content.decode())
    data = {k: (v if len(v) != 1 else v[0]) for k, v in reader.data.items() if v != []}
    data.pop("csrfmiddlewaretoken", None)
    # One page's one-time token makes one record: these tests send one page's values many times.
    data.pop("submit_token", None)
    return data


def has_field_errors(html: str) -> bool:
    return "usa-error-message" in html or 'id="form-errors"' in html or "errorlist" in html


FORMS = {
    # name: (create url name, model, base values(world), text fields, detail url(record), list url name)
    "partner": (
        "partners:create",
        Partner,
        lambda w: {"name": "Lyon", "kind": "city", "country": "FR", "city": "Lyon", "priority": "2", "status": "active"},
        ["name", "city", "description"],
        lambda r: reverse("partner-history", args=[r.pk]),
        "partners:list",
    ),
    "contact": (
        "partners:contact-create",
        Contact,
        lambda w: {"partner": str(w.partner.pk), "full_name": "A. Person", "is_active": "on"},
        ["full_name", "honorific", "form_of_address", "title", "phone", "languages", "protocol_notes"],
        lambda r: reverse("partners:contact-detail", args=[r.pk]),
        "partners:contact-list",
    ),
    "engagement": (
        "engagements:create",
        Engagement,
        lambda w: {
            "title": "Call", "kind": "call", "status": "held", "starts_at": "2026-11-20 10:00",
            "partners": [str(w.partner.pk)], "confidentiality": "internal",
        },
        ["title", "location", "city_officials", "summary", "outcomes"],
        lambda r: reverse("engagements:detail", args=[r.pk]),
        "engagements:list",
    ),
    "commitment": (
        "engagements:commitment-create",
        Commitment,
        lambda w: {"description": "x", "made_by": "city", "status": "open", "priority": "2", "partner": str(w.partner.pk)},
        ["description"],
        lambda r: reverse("engagements:commitment-detail", args=[r.pk]),
        "engagements:commitment-list",
    ),
    "mission": (
        "engagements:mission-create",
        TradeMission,
        lambda w: {"name": "Mission", "direction": "outbound", "status": "planned", "countries": ["JP"],
                   "start_date": "2026-12-01", "end_date": "2026-12-05", "partners": [str(w.partner.pk)]},
        ["name", "cities", "lead", "objectives", "outcomes"],
        lambda r: reverse("engagements:mission-detail", args=[r.pk]),
        "engagements:mission-list",
    ),
    "agreement": (
        "partners:agreement-create",
        Agreement,
        lambda w: {"title": "MOU", "kind": "mou", "partners": [str(w.partner.pk)], "status": "draft"},
        ["title", "summary"],
        lambda r: reverse("partners:agreement-detail", args=[r.pk]),
        "partners:agreement-list",
    ),
}


def post_form(client, url, data, **extra):
    STATS["tried"] += 1
    response = client.post(url, data, **extra)
    if response.status_code >= 500:
        STATS["5xx"] += 1
    return response


def assert_rejected(response, before, *, field_errors=True):
    """A rejection: a form with field errors (200) or a 4xx, and no data changed."""
    STATS["rejections"] += 1
    assert response.status_code < 500
    changed = row_counts() != before
    if changed:
        STATS["rejected_changed_data"] += 1
    assert not changed, "a rejected request changed data"
    if response.status_code == 200 and field_errors:
        ok = has_field_errors(response.content.decode("utf-8", "replace"))
        if not ok:
            STATS["rejections_without_field_errors"] += 1
        assert ok, "rejected without saying which field is wrong"
    else:
        assert response.status_code in (400, 403, 404, 405, 413, 415), response.status_code


def check_escaped(client, url, context):
    response = client.get(url)
    STATS["tried"] += 1
    assert response.status_code == 200, (url, response.status_code)
    found = unescaped(response.content.decode())
    if found:
        STATS["unescaped_renders"] += len(found)
    assert not found, f"{context}: unescaped payload markup on {url}: {found[:5]}"
    return response


def test_the_detector_sees_payloads_and_not_our_own_markup(world):
    client = world.client("officer")
    assert unescaped(client.get("/engagements/").content.decode()) == []
    assert unescaped(client.get("/").content.decode()) == []
    # Unescaped, most payloads are caught one by one (the rest are harmless as text: "javascript:..." outside an
    # attribute, "{{ 7*7 }}", an already-escaped "&lt;script&gt;", a Markdown link).
    assert sum(1 for payload in XSS if unescaped(payload)) >= 20


@pytest.mark.parametrize("form_name", list(FORMS))
def test_xss_payloads_in_every_text_field_come_back_escaped(world, form_name):
    url_name, model, base, text_fields, detail_url, list_name = FORMS[form_name]
    client = world.client("officer")
    url = reverse(url_name)
    defaults = form_defaults(client, url)
    created = []
    # Pack payloads into each text field as far as its max_length allows, record after record,
    # until every payload has been in some field of this form.
    limits = {name: model._meta.get_field(name).max_length or 5000 for name in text_fields}
    queue = list(XSS)
    while queue:
        data = {**defaults, **base(world)}
        for name in text_fields:
            packed = []
            while queue and len(" | ".join([*packed, queue[0]])) <= limits[name]:
                packed.append(queue.pop(0))
            if packed:
                data[name] = " | ".join(packed)
        before = model.objects.count()
        response = post_form(client, url, data)
        body = response.content.decode("utf-8", "replace")
        errors = re.findall(r'usa-error-message[^>]*>([^<]*)<', body)
        assert response.status_code == 302, f"{form_name} not created: {response.status_code} {errors}"
        assert model.objects.count() == before + 1
        created.append(model.objects.order_by("-pk").first())
    for record in created:
        check_escaped(client, detail_url(record), form_name)
    check_escaped(client, reverse(list_name), form_name)
    check_escaped(client, reverse(list_name) + "?q=XSS", form_name)
    if form_name in ("engagement", "commitment"):
        check_escaped(client, "/", form_name)
        check_escaped(client, reverse("partner-history", args=[world.partner.pk]), form_name)
        check_escaped(client, reverse("dashboard:country", args=["JP"]), form_name)
    # Template syntax is data, not code.
    literal = [r for r in created if any("{{ 7*7 }}" in (getattr(r, f, "") or "") for f in text_fields)]
    for record in literal:
        body = client.get(detail_url(record)).content.decode()
        assert "{{ 7*7 }}" in body and "{% debug %}" in body.replace("{%", "{%")


def test_a_javascript_url_is_refused_as_a_website(world):
    client = world.client("officer")
    url = reverse("partners:create")
    before = row_counts()
    data = {**form_defaults(client, url), **FORMS["partner"][2](world), "website": "javascript:alert(1)"}
    assert_rejected(post_form(client, url, data), before)


# --- Text that breaks databases (3.7 item 2) and required/length (item 1) ---
BAD_TEXT = {
    "nul": "before\x00after",
    "empty": "",
    "whitespace": "   \t  ",
    "too_long": "x" * 60_000,
    "one_mb": "y" * 1_000_000,
}


@pytest.mark.parametrize("form_name", list(FORMS))
@pytest.mark.parametrize("case", list(BAD_TEXT))
def test_bad_text_in_the_main_field_is_a_form_error(world, form_name, case):
    url_name, model, base, text_fields, *_ = FORMS[form_name]
    client = world.client("officer")
    url = reverse(url_name)
    data = {**form_defaults(client, url), **base(world)}
    data[text_fields[0]] = BAD_TEXT[case]  # the required name/title/description
    before = row_counts()
    assert_rejected(post_form(client, url, data), before)


@pytest.mark.parametrize("form_name", list(FORMS))
def test_nul_in_any_text_field_is_refused(world, form_name):
    url_name, model, base, text_fields, *_ = FORMS[form_name]
    client = world.client("officer")
    url = reverse(url_name)
    defaults = {**form_defaults(client, url), **base(world)}
    for name in text_fields:
        before = row_counts()
        assert_rejected(post_form(client, url, {**defaults, name: "a\x00b"}), before)


def test_invalid_utf8_in_a_form_post_is_refused(world):
    client = world.client("officer")
    url = reverse("partners:create")
    before = row_counts()
    body = b"name=%FF%FE%ED%A0%80&kind=city&country=FR&priority=2&status=active"
    response = client.generic("POST", url, body, content_type="application/x-www-form-urlencoded")
    STATS["tried"] += 1
    # Django decodes undecodable bytes as U+FFFD: either a form error or a name of replacement characters.
    assert response.status_code in (200, 302, 400)
    if response.status_code == 302:
        assert set(Partner.objects.order_by("-pk").first().name) <= {"\ufffd"}
    else:
        assert_rejected(response, before)


# --- Unicode that must round-trip (item 3) ---
ROUND_TRIP = ["القاهرة", "ירושלים", "東京都庁", "Москва", "Ñandú e\u0301", "🏛️🌏", "👩‍👩‍👧", "abc\u202edef"]


def test_names_in_any_script_round_trip(world):
    client = world.client("officer")
    url = reverse("partners:create")
    defaults = form_defaults(client, url)
    for name in ROUND_TRIP:
        response = post_form(client, url, {**defaults, **FORMS["partner"][2](world), "name": name, "city": name})
        assert response.status_code == 302
        partner = Partner.objects.order_by("-pk").first()
        assert partner.name == name
        assert name in client.get(reverse("partner-history", args=[partner.pk])).content.decode()


# --- Dates, times and zones (item 4) ---
BAD_WHEN = [
    {"starts_at": "2025-02-30 10:00"},
    {"starts_at": "0000-01-01 10:00"},
    {"starts_at": "10000-01-01 10:00"},
    {"starts_at": "not a date"},
    {"starts_at": "2025-05-01 10:00", "time_zone": "Mars/Olympus_Mons"},
    {"starts_at": "2025-05-01 10:00", "time_zone": "../../etc/passwd"},
    {"starts_at": "2025-05-01 10:00", "ends_at": "2025-05-01 09:00"},
    {"starts_at": "2025-05-01 10:00", "follow_up_by": "2025-13-01"},
]


@pytest.mark.parametrize("when", BAD_WHEN, ids=lambda w: "-".join(f"{k}={v}" for k, v in w.items()))
def test_impossible_dates_and_zones_are_form_errors(world, when):
    client = world.client("officer")
    url = reverse("engagements:create")
    data = {**form_defaults(client, url), **FORMS["engagement"][2](world), **when}
    before = row_counts()
    assert_rejected(post_form(client, url, data), before)


@pytest.mark.parametrize("starts_at", ["2025-03-09 02:30", "2025-11-02 01:30", "2025-05-01T10:00:00+09:00", "9999-12-31 23:00"])
def test_edge_times_are_saved_or_explained_never_500(world, starts_at):
    client = world.client("officer")
    url = reverse("engagements:create")
    data = {**form_defaults(client, url), **FORMS["engagement"][2](world), "starts_at": starts_at}
    before = row_counts()
    response = post_form(client, url, data)
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert_rejected(response, before)


def test_a_due_date_a_century_out_and_year_ten_thousand(world):
    client = world.client("officer")
    url = reverse("engagements:commitment-create")
    defaults = {**form_defaults(client, url), **FORMS["commitment"][2](world)}
    assert post_form(client, url, {**defaults, "due_date": "2126-01-01"}).status_code == 302
    before = row_counts()
    assert_rejected(post_form(client, url, {**defaults, "due_date": "10000-01-01"}), before)
    assert_rejected(post_form(client, url, {**defaults, "priority": str(2**63)}), before)
    assert_rejected(post_form(client, url, {**defaults, "partner": str(2**63)}), before)
    assert_rejected(post_form(client, url, {**defaults, "partner": "-1"}), before)
    assert_rejected(post_form(client, url, {**defaults, "partner": "../1"}), before)


def test_a_restricted_engagement_cannot_be_linked_by_someone_who_may_not_see_it(world):
    client = world.client("other")
    url = reverse("engagements:commitment-create")
    data = {**form_defaults(client, url), **FORMS["commitment"][2](world), "engagement": str(world.engagements["secret"].pk)}
    before = row_counts()
    response = post_form(client, url, data)
    assert response.status_code in (200, 302, 400, 404)
    if response.status_code == 302:
        # Accepted: then not linked to the hidden engagement.
        assert not Commitment.objects.filter(engagement=world.engagements["secret"]).exclude(
            pk=world.commitments["secret"].pk
        ).exists()
    else:
        assert row_counts() == before


# --- Filters and search on every list (item 7), SQL-like and control characters ---
LISTS = {
    "partners:list": PartnerFilter,
    "partners:contact-list": ContactFilter,
    "partners:agreement-list": AgreementFilter,
    "engagements:list": EngagementFilter,
    "engagements:mission-list": TradeMissionFilter,
    "engagements:commitment-list": CommitmentFilter,
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


@pytest.mark.parametrize("list_name", list(LISTS))
def test_hostile_filter_values_give_results_or_form_errors(world, list_name):
    client = world.client("staff")
    url = reverse(list_name)
    params = [*LISTS[list_name].base_filters, "page"]
    for value in HOSTILE:
        for param in params if value in PER_PARAM else ():
            response = client.get(url, {param: value})
            STATS["tried"] += 1
            if response.status_code >= 500:
                STATS["5xx"] += 1
            assert response.status_code in (200, 400, 404), (url, param, repr(value)[:40], response.status_code)
            if response.status_code == 200:
                assert not unescaped(response.content.decode()), (url, param)
        # Every filter at once, and as CSV.
        everything = dict.fromkeys(params, value)
        for extra in ({}, {"format": "csv"}) if value in PER_PARAM else ({},):
            response = client.get(url, {**everything, **extra})
            STATS["tried"] += 1
            assert response.status_code in (200, 400), (url, "all", repr(value)[:40], response.status_code)
    for raw in RAW_QUERIES:
        response = client.get(f"{url}?{raw}")
        STATS["tried"] += 1
        assert response.status_code in (200, 400, 404), (url, raw, response.status_code)


def test_the_country_page_takes_any_code(world):
    client = world.client("viewer")
    for code in ["ZZ", "jp", "J", "JPN", "%00", "..", "' OR 1=1", "x" * 300, "\u202e"]:
        response = client.get(f"/countries/{code}/")
        STATS["tried"] += 1
        assert response.status_code in (200, 404), (code, response.status_code)


# --- Protocol (item 12) and sizes (item 1) ---
HTML_ROUTES = ["/", "/partners/", "/engagements/", "/commitments/", "/missions/", "/agreements/", "/contacts/",
               "/engagements/new/", "/partners/new/", "/outbox/", "/import/", "/accounts/preferences/"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "TRACE"])
def test_other_methods_on_html_views_are_405(world, method):
    client = world.client("officer")
    routes = [*HTML_ROUTES, f"/engagements/{world.engagements['internal'].pk}/", f"/partners/{world.partner.pk}/"]
    for url in routes:
        before = row_counts()
        response = client.generic(method, url)
        STATS["tried"] += 1
        assert response.status_code == 405, (method, url, response.status_code)
        assert row_counts() == before


def test_a_foreign_host_header_is_400(world):
    client = world.client("officer")
    for url in ["/", "/partners/", "/accounts/login/", "/api/v1/partners/"]:
        response = client.get(url, HTTP_HOST="evil.example")
        STATS["tried"] += 1
        assert response.status_code == 400, url
        assert b"evil.example" not in response.content


def test_a_body_over_ten_megabytes_is_refused(world):
    client = world.client("officer")
    before = row_counts()
    big = "a" * (11 * 1024 * 1024)
    response = post_form(client, reverse("partners:create"), {"name": big, "kind": "city", "country": "FR"})
    assert response.status_code in (400, 413)
    assert row_counts() == before
    response = client.post("/api/v1/partners/", data=json.dumps({"name": big}), content_type="application/json")
    STATS["tried"] += 1
    assert response.status_code in (400, 413)
    assert row_counts() == before


def test_an_oversized_upload_is_refused(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = world.client("officer")
    before = row_counts()
    upload = SimpleUploadedFile("big.csv", b"name,kind\n" + b"x,city\n" * (11 * 1024 * 1024 // 7), content_type="text/csv")
    response = post_form(client, reverse("imports:start"), {"kind": "partners", "file": upload})
    assert response.status_code in (200, 400, 413)
    assert row_counts() == before


def test_a_json_body_to_an_html_form_is_a_form_error(world):
    client = world.client("officer")
    before = row_counts()
    response = client.post(reverse("partners:create"), data=json.dumps({"name": "x"}), content_type="application/json")
    STATS["tried"] += 1
    # request.POST is empty: the views treat that as "no form sent yet" and show the blank form again.
    assert response.status_code in (200, 400, 415)
    assert row_counts() == before


# --- Attachments: hostile names, wrong content, wrong shapes (issue 20) ---
EXE_HEAD = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 300


@pytest.fixture
def attachment_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                        "OPTIONS": {"location": str(tmp_path / "attachments")}},
    }


def test_hostile_file_names_come_back_escaped(world, attachment_storage):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from attachments.models import Attachment

    client = world.client("officer")
    engagement = world.engagements["internal"]
    url = reverse("attachments:record", args=["engagement", engagement.pk])
    names = [f"{payload}.txt" for payload in XSS[:12]]
    response = post_form(client, url, {"files": [SimpleUploadedFile(n, b"plain words\n") for n in names]})
    assert response.status_code == 302, response.content[:500]
    stored = list(Attachment.objects.filter(engagement=engagement).values_list("pk", "filename"))
    assert len(stored) == len(names) and all("/" not in name and '"' not in name for _, name in stored)
    for page in (url, reverse("attachments:panel", args=["engagement", engagement.pk])):
        html = client.get(page).content.decode()
        found = unescaped(html)
        STATS["unescaped_renders"] += len(found)
        assert not found, (page, found)
    for pk, name in stored:
        response = client.get(reverse("attachments:download", args=[pk]))
        assert response.status_code == 200 and "\n" not in response["Content-Disposition"]
        assert response["X-Content-Type-Options"] == "nosniff"
    api = client.get(f"/api/v1/attachments/?engagement={engagement.pk}").json()
    assert sorted(r["filename"] for r in api["results"]) == sorted(name for _, name in stored)


@pytest.mark.parametrize("case", ["no_file", "text_not_file", "executable", "empty", "too_many", "one_bad_of_two"])
def test_bad_uploads_are_form_errors_and_write_nothing(world, attachment_storage, settings, case):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.ATTACHMENT_MAX_FILES = 3
    client = world.client("staff")
    url = reverse("attachments:record", args=["engagement", world.engagements["internal"].pk])
    data = {
        "no_file": {},
        "text_not_file": {"files": "not a file"},
        "executable": {"files": [SimpleUploadedFile("minutes.docx", EXE_HEAD)]},
        "empty": {"files": [SimpleUploadedFile("empty.pdf", b"")]},
        "too_many": {"files": [SimpleUploadedFile(f"n{i}.txt", b"words\n") for i in range(4)]},
        "one_bad_of_two": {"files": [SimpleUploadedFile("ok.txt", b"words\n"), SimpleUploadedFile("bad.pdf", EXE_HEAD)]},
    }[case]
    before = row_counts()
    response = post_form(client, url, data)
    assert_rejected(response, before)
    assert response.status_code == 200
    html = response.content.decode()
    expected = {
        "no_file": "Choose at least one file.",
        "text_not_file": "Choose at least one file.",
        "executable": "minutes.docx is a Windows executable, not a DOCX.",
        "empty": "empty.pdf is empty.",
        "too_many": "4 files chosen; at most 3 at once.",
        "one_bad_of_two": "bad.pdf is a Windows executable, not a PDF.",
    }[case]
    assert expected in html


@pytest.mark.parametrize("path", ["/attachments/spaceship/1/", "/attachments/engagement/99999999999999999999/",
                                  "/attachments/99999999999999999999/download/", "/attachments/engagement/0/panel/",
                                  "/attachments/-1/download/", "/api/v1/attachments/99999999999999999999/download/"])
def test_odd_attachment_addresses_are_404(world, path):
    response = world.client("officer").get(path)
    STATS["tried"] += 1
    assert response.status_code == 404, (path, response.status_code)


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


@pytest.mark.parametrize(("case", "body", "content_type"), API_BAD, ids=[c[0] for c in API_BAD])
def test_bad_api_bodies_are_4xx_with_reasons(world, case, body, content_type):
    client = world.client("officer")
    before = row_counts()
    response = client.generic("POST", "/api/v1/partners/", body.encode("utf-8", "surrogatepass"), content_type=content_type)
    STATS["tried"] += 1
    STATS["rejections"] += 1
    if response.status_code >= 500:
        STATS["5xx"] += 1
    assert response.status_code in (400, 413, 415), (case, response.status_code, response.content[:300])
    assert row_counts() == before
    payload = response.json()
    if not payload:
        STATS["rejections_without_field_errors"] += 1
    assert payload, "a 4xx without a reason"


@pytest.mark.parametrize("query", ["page=0", "page=abc", "page_size=100000", "ordering=password", "ordering=-nope",
                                   "starts_after=notadate", "partner=" + str(2**63), "partner=-1", "q=%00",
                                   "q=%ED%A0%80", "kind=spaceship", "confidentiality=restricted&confidentiality=x"])
def test_bad_api_filters_are_200_or_400(world, query):
    client = world.client("viewer")
    for resource in ("partners", "engagements", "commitments", "contacts", "agreements", "trade-missions", "gifts",
                     "attachments"):
        response = client.get(f"/api/v1/{resource}/?{query}")
        STATS["tried"] += 1
        if response.status_code >= 500:
            STATS["5xx"] += 1
        assert response.status_code in (200, 400, 404), (resource, query, response.status_code)
        body = response.content.decode()
        assert not any(m in body for m in world.forbidden_markers("viewer"))


# --- CSV formula injection (item 9) ---
FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+cmd|' /C calc'!A0", "-1+1", "@SUM(1,2)", "\t=1+1", "\r=1+1"]


def test_csv_export_defuses_formulas(world):
    client = world.client("officer")
    url = reverse("partners:create")
    defaults = form_defaults(client, url)
    for formula in FORMULAS:
        response = post_form(client, url, {**defaults, **FORMS["partner"][2](world), "name": f"{formula}", "city": formula})
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
def test_an_invalid_yes_no_filter_is_an_error_not_ignored(world, list_name, api, param):
    client = world.client("officer")
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
