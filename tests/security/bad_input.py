"""The bad-input suite's shared parts (QUALITY.md 3.7): the XSS corpus and its detector, the forms
read back from their own markup, and the checks every case uses, with the figures they count.

The cases are in test_bad_input.py (forms: XSS, bad text, Unicode, dates) and
test_bad_input_requests.py (filters, protocol and sizes, the API's bodies, CSV).
"""

from html.parser import HTMLParser

from django.urls import reverse

from engagements.models import Commitment, Engagement, TradeMission
from partners.models import Agreement, Contact, Partner

from .conftest import row_counts

STATS = {
    "tried": 0,
    "5xx": 0,
    "rejected_changed_data": 0,
    "unescaped_renders": 0,
    "rejections_without_field_errors": 0,
    "rejections": 0,
}


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
        lambda w: {"description": "x", "made_by": "city", "status": "open", "priority": "2", "partner": str(w.partner.pk),
                   "no_due_date": "on"},
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


def assert_form_errors(response, before) -> None:
    """The form shown again (200) saying which field is wrong, and nothing written."""
    assert response.status_code == 200, response.status_code
    assert_rejected(response, before)


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
