"""The smaller holes of issue 13: a NUL in the feed token, a new line in a title, a currency, CSV formulas."""

import csv
import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from icalendar import Calendar
from rest_framework.test import APIClient

from diplomacy_crm.csv import csv_rows, safe_cell
from engagements import services
from gifts.forms import GiftForm
from engagements.models import Engagement, Gift
from tests.factories import CommitmentFactory, EngagementFactory, GiftFactory, PartnerFactory

pytestmark = pytest.mark.django_db


# --- /calendar.ics?token=abc%00def ----------------------------------------------------------


@pytest.mark.parametrize("token", ["abc\x00def", "\x00", "a b", "abc%def", "é" * 10, "x" * 65])
def test_a_feed_token_that_cannot_be_one_is_a_clean_404(postgres_required, client, staff_user, token):
    response = client.get("/calendar.ics", {"token": token})
    assert response.status_code == 404
    assert b"BEGIN:VCALENDAR" not in response.content


def test_the_nul_byte_as_sent_on_the_wire(postgres_required, client, staff_user):
    response = client.get("/calendar.ics?token=abc%00def")
    assert response.status_code == 404
    feed = client.get("/calendar.ics", {"token": staff_user.profile.calendar_token})
    assert feed.status_code == 200 and b"BEGIN:VCALENDAR" in feed.content


# --- a new line in a title ------------------------------------------------------------------------


def test_a_title_with_new_lines_gives_a_valid_calendar_file(client, viewer):
    engagement = EngagementFactory(title="Visit of the delegation\nfrom Osaka\r\nday two", location="Room 3\n(east wing)",
                                   summary="Agenda:\n- trade\n- culture\x07")
    client.force_login(viewer)
    response = client.get(f"/engagements/{engagement.pk}/ics/")
    assert response.status_code == 200
    raw = response.content
    # RFC 5545: lines end in CRLF and are folded at 75 octets; no bare LF, no control characters.
    assert b"\x07" not in raw
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    assert b"\n" not in raw.replace(b"\r\n", b"")
    cal = Calendar.from_ical(raw)
    (event,) = list(cal.walk("VEVENT"))
    assert str(event["SUMMARY"]) == "Visit of the delegation from Osaka day two"
    assert str(cal["X-WR-CALNAME"]) == "Visit of the delegation from Osaka day two"
    assert str(event["LOCATION"]) == "Room 3 (east wing)"
    assert "Agenda:\n- trade\n- culture" in str(event["DESCRIPTION"])


def test_the_feed_survives_new_lines_in_titles_and_commitments(client, staff_user):
    from django.utils import timezone

    EngagementFactory(title="Two\nlines", starts_at=timezone.now() + dt.timedelta(days=2))
    CommitmentFactory(description="Send\nthe study; =1+1", owner=staff_user,
                      due_date=timezone.localdate() + dt.timedelta(days=3))
    response = client.get("/calendar.ics", {"token": staff_user.profile.calendar_token})
    assert response.status_code == 200
    summaries = sorted(str(e["SUMMARY"]) for e in Calendar.from_ical(response.content).walk("VEVENT"))
    assert summaries == ["Due: Send the study; =1+1", "Two lines"]


# --- one currency validator -----------------------------------------------------------------------

BAD_CURRENCIES = ["=1+", "usd", "US", "USDX", "U$D", "12A", "", "ÉUR"]


@pytest.fixture
def api_staff(staff_user):
    client = APIClient()
    client.force_authenticate(staff_user)
    return client


def gift_payload(**overrides):
    return {"direction": "received", "exchanged_on": "2025-05-01", "giver": "H.E. the Ambassador",
            "recipient": "The Mayor", "description": "Lacquered box", "estimated_value": "250.00",
            "currency": "USD", **overrides}


@pytest.mark.parametrize("code", BAD_CURRENCIES)
def test_the_api_refuses_a_currency_that_is_not_an_iso_code(api_staff, code):
    response = api_staff.post("/api/v1/gifts/", gift_payload(currency=code), format="json")
    assert response.status_code == 400
    assert "currency" in response.json()
    assert not Gift.objects.exists()


def test_the_api_accepts_an_iso_code_and_a_patch_cannot_break_it(api_staff):
    response = api_staff.post("/api/v1/gifts/", gift_payload(currency="JPY"), format="json")
    assert response.status_code == 201, response.json()
    gift = Gift.objects.get()
    assert gift.currency == "JPY"
    response = api_staff.patch(f"/api/v1/gifts/{gift.pk}/", {"currency": "=1+"}, format="json")
    assert response.status_code == 400 and "ISO 4217" in str(response.json()["currency"])
    gift.refresh_from_db()
    assert gift.currency == "JPY"


@pytest.mark.parametrize("code", ["=1+", "US", "U$D"])
def test_the_form_and_the_service_refuse_it_with_the_same_message(staff_user, code):
    form = GiftForm(data=gift_payload(currency=code, disposition="pending"), engagements=Engagement.objects.all())
    assert not form.is_valid()
    with pytest.raises(ValidationError) as refused:
        services.gift_create(actor=staff_user, **{**gift_payload(currency=code), "exchanged_on": dt.date(2025, 5, 1)})
    assert form.errors["currency"] == refused.value.message_dict["currency"]
    assert not Gift.objects.exists()


def test_the_form_still_takes_a_code_typed_in_lower_case(staff_user):
    form = GiftForm(data=gift_payload(currency=" eur ", disposition="pending"), engagements=Engagement.objects.all())
    assert form.is_valid(), form.errors
    assert form.cleaned_data["currency"] == "EUR"


# --- CSV formulas, in every cell, wherever a separator could split it -----------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t'=1"),  # a tab splits too
        ("\r=1", "'\r'=1"),
        ("\uff1d1+2", "'\uff1d1+2"),  # a full-width equals sign
        ("Lunch; =HYPERLINK(\"http://evil\")", "Lunch; '=HYPERLINK(\"http://evil\")"),
        ("Lunch,=1+2", "Lunch,'=1+2"),
        ("Lunch\t@SUM(A1)", "Lunch\t'@SUM(A1)"),
        ("Notes\n=cmd|' /C calc'!A0", "Notes\n'=cmd|' /C calc'!A0"),
        ("a|  +1", "a|  '+1"),
        ("=a;=b", "'=a;'=b"),
        ("Plain text, with commas; and semicolons", "Plain text, with commas; and semicolons"),
        ("2025-05-01", "2025-05-01"),
        ("Tokyo - Osaka", "Tokyo - Osaka"),
    ],
)
def test_every_place_a_formula_could_start_is_neutralised(value, expected):
    assert safe_cell(value) == expected


def read_back(lines, delimiter=","):
    return list(csv.reader(io.StringIO("".join(lines)), delimiter=delimiter))


def test_no_cell_of_an_export_starts_a_formula_whatever_separator_the_spreadsheet_splits_on():
    values = ["=1+2", "Lunch; =HYPERLINK(\"http://evil\")", "a,@b", "x\n-1", "ok", "Say \"hi\"; +1"]
    lines = list(csv_rows([("Note", lambda v: v)], values))
    # Every cell is quoted, so a reader that honours quotes gets each value whole...
    assert [row[0] for row in read_back(lines)[1:]] == [safe_cell(v) for v in values]
    # ...and one that splits on any separator, quotes ignored, finds no cell starting a formula.
    text = "".join(lines).replace('"', "")
    for separator in [",", ";", "\t", "|", "\n", "\r"]:
        for cell in text.split(separator):
            assert not cell.lstrip(" ").startswith(("=", "+", "-", "@")), (separator, cell)


def test_the_list_exports_neutralise_every_cell(client, officer):
    partner = PartnerFactory(name="Lunch; =HYPERLINK(\"http://evil\")", city="+1 Osaka")
    EngagementFactory(title="@SUM(1)", partners=[partner], location="Room, =2+2")
    GiftFactory(description="Box\n=cmd", giver="-Someone")
    client.force_login(officer)
    for path in ["/partners/", "/engagements/", "/gifts/"]:
        response = client.get(path, {"format": "csv"})
        assert response.status_code == 200, path
        body = b"".join(response.streaming_content).decode()
        cells = [cell for row in read_back([body]) for cell in row]
        assert cells, path
        for cell in cells:
            assert not cell.startswith(("=", "+", "-", "@")), (path, cell)
            for separator in [",", ";", "\t", "\n"]:
                for part in cell.split(separator)[1:]:
                    assert not part.lstrip(" ").startswith(("=", "+", "-", "@")), (path, cell)
