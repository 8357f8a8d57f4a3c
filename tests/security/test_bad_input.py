"""S10, S4: the hand-written bad-input corpus (QUALITY.md 3.7) against every form (lists, protocol and
the API: test_bad_input_requests.py; shared checks: bad_input.py).

For each case: never a 5xx; a rejection is a form with field errors (200) or
a 400/404/405/413/415 with a reason, and leaves the database as it was (row
counts of every table of ours, history included). Accepted hostile text
(XSS, template syntax, SQL-like strings) must come back escaped on every
page that shows it. The module prints the figures of 3.7 at the end.
"""

import re

import pytest
from django.urls import reverse

from engagements.models import Commitment, Engagement
from partners.models import Partner

from .bad_input import (
    FORMS,
    STATS,
    XSS,
    assert_form_errors,
    assert_rejected,
    check_escaped,
    form_defaults,
    post_form,
    unescaped,
)
from .conftest import row_counts

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("bad_input_figures")]


def test_the_detector_sees_payloads_and_not_our_own_markup(matrix_world):
    client = matrix_world.client("officer")
    assert unescaped(client.get("/engagements/").content.decode()) == []
    assert unescaped(client.get("/").content.decode()) == []
    # Unescaped, most payloads are caught one by one (the rest are harmless as text: "javascript:..." outside an
    # attribute, "{{ 7*7 }}", an already-escaped "&lt;script&gt;", a Markdown link).
    assert sum(1 for payload in XSS if unescaped(payload)) >= 20


@pytest.mark.parametrize("form_name", list(FORMS))
def test_xss_payloads_in_every_text_field_come_back_escaped(matrix_world, form_name):
    url_name, model, base, text_fields, detail_url, list_name = FORMS[form_name]
    client = matrix_world.client("officer")
    url = reverse(url_name)
    defaults = form_defaults(client, url)
    created = []
    # Pack payloads into each text field as far as its max_length allows, record after record,
    # until every payload has been in some field of this form.
    limits = {name: model._meta.get_field(name).max_length or 5000 for name in text_fields}
    queue = list(XSS)
    while queue:
        data = {**defaults, **base(matrix_world)}
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
        check_escaped(client, reverse("partner-history", args=[matrix_world.partner.pk]), form_name)
        check_escaped(client, reverse("dashboard:country", args=["JP"]), form_name)
    # Template syntax is data, not code.
    literal = [r for r in created if any("{{ 7*7 }}" in (getattr(r, f, "") or "") for f in text_fields)]
    for record in literal:
        body = client.get(detail_url(record)).content.decode()
        assert "{{ 7*7 }}" in body and "{% debug %}" in body.replace("{%", "{%")


def test_a_javascript_url_is_refused_as_a_website(matrix_world):
    client = matrix_world.client("officer")
    url = reverse("partners:create")
    before = row_counts()
    data = {**form_defaults(client, url), **FORMS["partner"][2](matrix_world), "website": "javascript:alert(1)"}
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
def test_bad_text_in_the_main_field_is_a_form_error(matrix_world, form_name, case):
    url_name, model, base, text_fields, *_ = FORMS[form_name]
    client = matrix_world.client("officer")
    url = reverse(url_name)
    data = {**form_defaults(client, url), **base(matrix_world)}
    data[text_fields[0]] = BAD_TEXT[case]  # the required name/title/description
    before = row_counts()
    assert_rejected(post_form(client, url, data), before)


@pytest.mark.parametrize("form_name", list(FORMS))
def test_nul_in_any_text_field_is_refused(matrix_world, form_name):
    url_name, model, base, text_fields, *_ = FORMS[form_name]
    client = matrix_world.client("officer")
    url = reverse(url_name)
    defaults = {**form_defaults(client, url), **base(matrix_world)}
    for name in text_fields:
        before = row_counts()
        assert_rejected(post_form(client, url, {**defaults, name: "a\x00b"}), before)


def test_invalid_utf8_in_a_form_post_is_refused(matrix_world):
    client = matrix_world.client("officer")
    url = reverse("partners:create")
    before = row_counts()
    body = b"name=%FF%FE%ED%A0%80&kind=city&country=FR&priority=2&status=active"
    response = client.generic("POST", url, body, content_type="application/x-www-form-urlencoded")
    STATS["tried"] += 1
    # Django decodes undecodable bytes as U+FFFD: the partner is saved under a name of replacement characters.
    assert response.status_code == 302
    assert row_counts() != before
    partner = Partner.objects.order_by("-pk").first()
    assert response["Location"] == f"/partners/{partner.pk}/"
    assert set(partner.name) <= {"\ufffd"}
    assert partner.name in matrix_world.client("officer").get(response["Location"]).content.decode()


# --- Unicode that must round-trip (item 3) ---
ROUND_TRIP = ["القاهرة", "ירושלים", "東京都庁", "Москва", "Ñandú e\u0301", "🏛️🌏", "👩‍👩‍👧", "abc\u202edef"]


def test_names_in_any_script_round_trip(matrix_world):
    client = matrix_world.client("officer")
    url = reverse("partners:create")
    defaults = form_defaults(client, url)
    for name in ROUND_TRIP:
        response = post_form(client, url, {**defaults, **FORMS["partner"][2](matrix_world), "name": name, "city": name})
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
def test_impossible_dates_and_zones_are_form_errors(matrix_world, when):
    client = matrix_world.client("officer")
    url = reverse("engagements:create")
    data = {**form_defaults(client, url), **FORMS["engagement"][2](matrix_world), **when}
    before = row_counts()
    assert_rejected(post_form(client, url, data), before)


# An hour the clocks skip or repeat is explained; an explicit offset is taken; a year past 2199 is out of range.
# Saved ones: the office-time start the engagement gets (an hour that happens twice: its first time).
EDGE_TIMES = {"2025-03-09 02:30": "errors", "2025-11-02 01:30": "2025-11-02 01:30", "2025-05-01T10:00:00+09:00": "2025-04-30 18:00",
              "9999-12-31 23:00": "errors"}


def office_time(value) -> str:
    from django.utils import timezone

    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize("starts_at", list(EDGE_TIMES))
def test_edge_times_are_saved_or_explained_never_500(matrix_world, starts_at):
    client = matrix_world.client("officer")
    url = reverse("engagements:create")
    data = {**form_defaults(client, url), **FORMS["engagement"][2](matrix_world), "starts_at": starts_at}
    before = row_counts()
    response = post_form(client, url, data)
    if EDGE_TIMES[starts_at] == "errors":
        assert_form_errors(response, before)
    else:
        assert response.status_code == 302
        engagement = Engagement.objects.order_by("-pk").first()
        assert response["Location"] == f"/engagements/{engagement.pk}/"
        assert office_time(engagement.starts_at) == EDGE_TIMES[starts_at]


def test_a_due_date_a_century_out_and_year_ten_thousand(matrix_world):
    client = matrix_world.client("officer")
    url = reverse("engagements:commitment-create")
    defaults = {**form_defaults(client, url), **FORMS["commitment"][2](matrix_world)}
    assert post_form(client, url, {**defaults, "due_date": "2126-01-01"}).status_code == 302
    before = row_counts()
    assert_rejected(post_form(client, url, {**defaults, "due_date": "10000-01-01"}), before)
    assert_rejected(post_form(client, url, {**defaults, "priority": str(2**63)}), before)
    assert_rejected(post_form(client, url, {**defaults, "partner": str(2**63)}), before)
    assert_rejected(post_form(client, url, {**defaults, "partner": "-1"}), before)
    assert_rejected(post_form(client, url, {**defaults, "partner": "../1"}), before)


def test_a_restricted_engagement_cannot_be_linked_by_someone_who_may_not_see_it(matrix_world):
    client = matrix_world.client("other_staff")
    url = reverse("engagements:commitment-create")
    data = {**form_defaults(client, url), **FORMS["commitment"][2](matrix_world), "engagement": str(matrix_world.engagements["secret"].pk)}
    before = row_counts()
    response = post_form(client, url, data)
    # The hidden engagement is not among the choices: the form says so, and nothing is written.
    assert_form_errors(response, before)
    assert matrix_world.markers["secret"] not in response.content.decode()
    assert not Commitment.objects.filter(engagement=matrix_world.engagements["secret"]).exclude(
        pk=matrix_world.commitments["secret"].pk
    ).exists()
