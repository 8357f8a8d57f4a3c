"""The gifts register: list (filters, sort, CSV), create/edit permissions, disclosure report, confidentiality."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from engagements.models import Engagement, Gift
from tests.factories import EngagementFactory, GiftFactory, PartnerFactory

pytestmark = pytest.mark.django_db

MARKER = "ZQX-GIFT-LEAK-2718"


@pytest.fixture
def gifts(staff_user):
    partner = PartnerFactory(name="Embassy of Japan")
    public = EngagementFactory(title="Courtesy call", partners=[partner])
    secret = EngagementFactory(
        title="Private dinner", staff=[staff_user], confidentiality=Engagement.Confidentiality.RESTRICTED
    )
    return {
        "partner": partner,
        "public": public,
        "secret": secret,
        "box": GiftFactory(description="Lacquered box", estimated_value=250, currency="USD", engagement=public,
                           partner=partner, exchanged_on=dt.date(2025, 3, 1), disposition="archived"),
        "tea": GiftFactory(description="Tea set", estimated_value=Decimal("8000"), currency="JPY",
                           exchanged_on=dt.date(2025, 4, 1), disposition="consumed"),
        "vase": GiftFactory(description="Crystal vase", estimated_value=Decimal("20000"), currency="JPY",
                            exchanged_on=dt.date(2025, 5, 1), direction="given", giver="The Mayor",
                            recipient="H.E. the Ambassador", disposition="retained_official"),
        "medal": GiftFactory(description="=HYPERLINK(\"http://evil\")", estimated_value=90, currency="USD",
                             exchanged_on=dt.date(2025, 6, 1)),
        "rug": GiftFactory(description="Handwoven rug", estimated_value=500, currency="XAF",
                           exchanged_on=dt.date(2025, 7, 1)),
        "secret": GiftFactory(description=f"Watch {MARKER}", estimated_value=900, currency="USD", engagement=secret,
                              exchanged_on=dt.date(2025, 8, 1)),
        "old": GiftFactory(description="Last year's pen", estimated_value=300, currency="USD",
                           exchanged_on=dt.date(2024, 12, 31)),
    }


def test_anonymous_is_sent_to_login(client):
    for url in ("/gifts/", "/gifts/new/", "/gifts/report/"):
        assert client.get(url).status_code == 302


def test_list_filters_sorts_and_paginates(client, viewer, gifts):
    client.force_login(viewer)
    response = client.get("/gifts/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Lacquered box" in body and "Gifts register" in body
    assert 'href="/gifts/"' in body  # in the navigation
    rows = client.get("/gifts/", {"direction": "given"}).context["rows"]
    assert [g.description for g in rows] == ["Crystal vase"]
    rows = client.get("/gifts/", {"ordering": "-value"}).context["rows"]
    assert rows[0].description == "Tea set" or rows[0].estimated_value == max(g.estimated_value for g in rows)
    rows = client.get("/gifts/", {"ordering": "exchanged_on"}).context["rows"]
    assert rows[0].description == "Last year's pen"
    response = client.get("/gifts/", {"exchanged_after": "not-a-date"})
    assert response.status_code == 200 and "Gifts register" in response.content.decode()


def test_csv_export_is_filtered_and_formula_safe(client, viewer, gifts):
    client.force_login(viewer)
    response = client.get("/gifts/", {"format": "csv", "exchanged_after": "2025-01-01"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    descriptions = {r["description"] for r in rows}
    assert "Lacquered box" in descriptions and "Last year's pen" not in descriptions
    assert "'=HYPERLINK(\"http://evil\")" in descriptions
    assert not any(MARKER in d for d in descriptions)


@pytest.mark.parametrize("who,sees", [("viewer", False), ("other_staff", False), ("staff_user", True), ("officer", True)])
def test_gifts_from_restricted_engagements_only_for_those_who_may_see_them(client, gifts, who, sees, request):
    client.force_login(request.getfixturevalue(who))
    assert (MARKER in client.get("/gifts/").content.decode()) is sees
    csv_body = b"".join(client.get("/gifts/", {"format": "csv"}).streaming_content).decode()
    assert (MARKER in csv_body) is sees
    period = {"exchanged_after": "2025-01-01", "exchanged_before": "2025-12-31"}
    assert (MARKER in client.get("/gifts/report/", period).content.decode()) is sees
    report_csv = b"".join(client.get("/gifts/report/", {**period, "format": "csv"}).streaming_content).decode()
    assert (MARKER in report_csv) is sees
    assert client.get(f"/gifts/{gifts['secret'].pk}/edit/").status_code == (200 if sees else 404 if who != "viewer" else 403)


def test_viewer_reads_but_cannot_write(client, viewer, gifts):
    client.force_login(viewer)
    assert client.get("/gifts/new/").status_code == 403
    assert client.post("/gifts/new/", {}).status_code == 403
    assert client.get(f"/gifts/{gifts['box'].pk}/edit/").status_code == 403
    assert "Record a gift" not in client.get("/gifts/").content.decode()


def _form_data(**overrides):
    data = {
        "direction": "received", "exchanged_on": "2025-09-15", "giver": "H.E. the Consul General",
        "recipient": "The Mayor", "description": "Silk scarf", "estimated_value": "120.50", "currency": "eur",
        "disposition": "pending", "partner": "", "engagement": "",
    }
    data.update(overrides)
    return data


def test_staff_records_a_gift_at_an_engagement(client, staff_user, gifts):
    client.force_login(staff_user)
    public = gifts["public"]
    page = client.get("/gifts/new/", {"engagement": public.pk})
    assert page.status_code == 200
    assert "Courtesy call" in page.content.decode()
    response = client.post(f"/gifts/new/?engagement={public.pk}", _form_data(engagement=str(public.pk), partner=str(gifts["partner"].pk)))
    assert response.status_code == 302
    gift = Gift.objects.get(description="Silk scarf")
    assert gift.engagement == public and gift.currency == "EUR" and gift.estimated_value == Decimal("120.50")
    assert gift.history.first().history_user == staff_user


def test_a_gift_cannot_be_attached_to_an_engagement_the_user_may_not_see(client, other_staff, gifts):
    client.force_login(other_staff)
    assert client.get("/gifts/new/", {"engagement": gifts["secret"].pk}).status_code == 404
    response = client.post("/gifts/new/", _form_data(engagement=str(gifts["secret"].pk)))
    assert response.status_code == 200
    assert not Gift.objects.filter(description="Silk scarf").exists()


def test_bad_input_is_a_form_error(client, staff_user):
    client.force_login(staff_user)
    for bad in ({"currency": "dollars"}, {"estimated_value": "-5"}, {"exchanged_on": "2025-02-30"}, {"giver": ""}):
        response = client.post("/gifts/new/", _form_data(**bad))
        assert response.status_code == 200, bad
        assert response.context["form"].errors, bad
    assert not Gift.objects.exists()


def test_staff_edits_a_gift(client, staff_user, gifts):
    client.force_login(staff_user)
    box = gifts["box"]
    form = client.get(f"/gifts/{box.pk}/edit/")
    assert form.status_code == 200 and box.description in form.content.decode()
    response = client.post(
        f"/gifts/{box.pk}/edit/",
        _form_data(description="Lacquered box (restored)", disposition="archived", engagement=str(box.engagement_id)),
    )
    assert response.status_code == 302
    box.refresh_from_db()
    assert box.description == "Lacquered box (restored)" and box.engagement_id == gifts["public"].pk


def test_report_totals_per_currency_and_disposition_and_flags_over_threshold(client, officer, gifts):
    client.force_login(officer)
    response = client.get("/gifts/report/", {"exchanged_after": "2025-01-01", "exchanged_before": "2025-12-31"})
    assert response.status_code == 200
    report = response.context["report"]
    totals = {c.currency: c for c in report.per_currency}
    assert totals["USD"].total == Decimal("1240") and totals["USD"].count == 3  # box 250 + medal 90 + watch 900
    assert totals["JPY"].total == Decimal("28000") and totals["JPY"].given == Decimal("20000")
    assert report.count == 6
    dispositions = {d.disposition: d.count for d in report.per_disposition}
    assert dispositions["consumed"] == 1 and dispositions["pending"] == 3
    flagged = {g.description for g in report.flagged}
    # USD 250 and 900 are over; JPY 20,000 ≈ USD 140 is over, JPY 8,000 ≈ USD 56 is not; XAF has no rate.
    assert flagged == {"Lacquered box", f"Watch {MARKER}", "Crystal vase", "Handwoven rug"}
    assert "=HYPERLINK" not in flagged


def test_report_csv_and_bad_periods(client, viewer, gifts):
    client.force_login(viewer)
    response = client.get("/gifts/report/", {"exchanged_after": "2025-01-01", "exchanged_before": "2025-06-30", "format": "csv"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["description"] for r in rows] == ["Lacquered box", "Tea set", "Crystal vase", "'=HYPERLINK(\"http://evil\")"]
    assert [r["over_threshold"] for r in rows] == ["yes", "no", "yes", "no"]
    assert client.get("/gifts/report/", {"exchanged_after": "2025-12-31", "exchanged_before": "2025-01-01"}).status_code == 200
    assert client.get("/gifts/report/", {"exchanged_after": "x", "format": "csv"}).status_code == 400
    response = client.get("/gifts/report/")  # defaults to this year
    assert response.status_code == 200 and "Gift disclosure report" in response.content.decode()


@pytest.mark.parametrize("size", [3, 40])
def test_list_and_report_query_counts_are_constant(client, staff_user, django_assert_num_queries, size):
    secret = EngagementFactory(staff=[staff_user], confidentiality=Engagement.Confidentiality.RESTRICTED)
    for i in range(size):
        GiftFactory(partner=PartnerFactory(), engagement=secret if i % 3 == 0 else EngagementFactory(),
                    exchanged_on=dt.date(2025, 1, 1) + dt.timedelta(days=i))
    client.force_login(staff_user)
    # session, user, role (groups with their permissions, one query), count, page (gifts + partner +
    # engagement), filter form's choices: none; own permissions
    with django_assert_num_queries(6):
        response = client.get("/gifts/")
    assert response.status_code == 200 and "Lacquered box" in response.content.decode()
    # session, user, role, per-currency, per-disposition, flagged, own permissions
    with django_assert_num_queries(7):
        response = client.get("/gifts/report/", {"exchanged_after": "2025-01-01", "exchanged_before": "2025-12-31"})
    assert response.status_code == 200 and "Lacquered box" in response.content.decode()
