"""A round trip: every record kind exported as CSV (the list pages' ?format=csv) and imported into an empty
database gives the same records — the export of the imported records is the export we started from.

The exports' columns are the importer's field names (or labels: gifts' "from" and "to"), so the import needs
no mapping. Columns the importer cannot take are left out of the comparison: ids, figures computed from
other records (a partner's last engagement and open commitments, a contact's form of address and partner
id, a mission's countries, an engagement's mission) and a gift's engagement (named by its title in the export,
by its id in an import).
"""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from engagements.models import Commitment, Engagement, Gift, TradeMission
from imports.reader import read_table
from imports.run import run_import
from partners.models import Agreement, Contact, Partner
from tests.factories import PartnerFactory

pytestmark = pytest.mark.django_db

# kind, list page, columns left out of the comparison (see the module docstring)
KINDS = [
    ("partners", "partners:list", {"id", "last_engagement_at", "open_commitments"}),
    ("contacts", "partners:contact-list", {"id", "partner_id", "form_of_address"}),
    ("engagements", "engagements:list", {"id", "trade_mission"}),
    ("agreements", "partners:agreement-list", {"id"}),
    ("missions", "engagements:mission-list", {"id", "countries"}),
    ("gifts", "gifts:list", {"id", "engagement"}),
]


def export(client, url_name) -> tuple[bytes, list[dict]]:
    response = client.get(reverse(url_name) + "?format=csv")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    return body, list(csv.DictReader(io.StringIO(body.decode("utf-8"))))


def comparable(rows: list[dict], left_out: set) -> list[tuple]:
    return sorted(tuple(sorted((k, v) for k, v in row.items() if k not in left_out)) for row in rows)


def make_records(officer, topics):
    kanagawa = PartnerFactory(name="Kanagawa Prefecture", kind="subnational_government", country="JP", city="Yokohama",
                              priority=1, owner=officer, website="https://www.pref.kanagawa.jp/")
    yokohama = PartnerFactory(name="Yokohama", kind="city", country="JP", city="Yokohama", parent=kanagawa)
    yokohama.topics.set(topics)
    lohne = PartnerFactory(name="Löhne", kind="city", country="DE", city="Löhne", status="inactive")
    PartnerFactory(name="Lohne", kind="city", country="DE", city="Lohne (Oldenburg)")
    mayor = Contact.objects.create(partner=yokohama, full_name="Takeharu Yamanaka", honorific="Mr.", title="Mayor",
                                   email="mayor@city.yokohama.jp", languages="Japanese, English")
    Contact.objects.create(partner=lohne, full_name="Bernd Poggemöller", title="Bürgermeister", is_active=False)
    talks = Engagement.objects.create(
        title="Port cooperation talks", kind="bilateral_meeting", status="held",
        starts_at=dt.datetime(2024, 5, 2, 17, 0, tzinfo=dt.UTC), ends_at=dt.datetime(2024, 5, 2, 18, 30, tzinfo=dt.UTC),
        location="City Hall, room 4", summary="Ports and climate.", outcomes="A study.", follow_up_by=dt.date(2024, 6, 1),
    )
    talks.partners.set([yokohama, kanagawa])
    talks.topics.set(topics)
    talks.contacts.set([mayor])
    Engagement.objects.create(title="Call with Löhne", kind="call", starts_at=dt.datetime(1876, 5, 7, 15, 0, tzinfo=dt.UTC),
                              is_virtual=True).partners.set([lohne])
    agreement = Agreement.objects.create(title="Sister cities: Yokohama – Lohne", kind="sister_city", status="in_force",
                                         signed_on=dt.date(1993, 5, 1), expires_on=dt.date(2033, 5, 1), owner=officer,
                                         summary="Renewed in 2013.")
    agreement.partners.set([yokohama, lohne])
    mission = TradeMission.objects.create(name="Trade mission to Japan", direction="outbound", status="completed",
                                          cities="Tokyo, Yokohama", start_date=dt.date(2023, 10, 1),
                                          end_date=dt.date(2023, 10, 6), lead="The Mayor", objectives="Ports.")
    mission.partners.set([yokohama])
    Gift.objects.create(exchanged_on=dt.date(2023, 10, 3), direction="received", giver="Takeharu Yamanaka",
                        recipient="The Mayor", partner=yokohama, description="Lacquer box", estimated_value="350.00",
                        currency="JPY", disposition="retained_official")
    Gift.objects.create(exchanged_on=dt.date(2023, 10, 3), direction="given", giver="The Mayor",
                        recipient="Takeharu Yamanaka", description="City medal")


def empty_the_database():
    Gift.objects.all().delete()
    Commitment.objects.all().delete()
    Engagement.objects.all().delete()
    TradeMission.objects.all().delete()
    Agreement.objects.all().delete()
    Contact.objects.all().delete()
    Partner.objects.filter(parent__isnull=False).delete()
    Partner.objects.all().delete()


def test_every_kind_exported_and_imported_into_an_empty_database_gives_the_same_records(client, officer, topics):
    make_records(officer, topics)
    client.force_login(officer)
    exported = {kind: export(client, url) for kind, url, _ in KINDS}
    assert all(len(rows) >= 1 for _, rows in exported.values())
    empty_the_database()
    assert not Partner.objects.exists()

    for kind, _, _ in KINDS:
        result = run_import(kind=kind, table=read_table(exported[kind][0], f"{kind}.csv"), actor=officer, commit=True)
        assert result.committed, (kind, [str(e) for e in result.errors[:3]])
        assert result.count("created") == len(exported[kind][1]), (kind, result.summary())

    for kind, url, left_out in KINDS:
        assert comparable(export(client, url)[1], left_out) == comparable(exported[kind][1], left_out), kind

    # And importing the exports again writes nothing.
    history = sum(m.history.count() for m in (Partner, Contact, Engagement, Agreement, TradeMission, Gift))
    for kind, _, _ in KINDS:
        again = run_import(kind=kind, table=read_table(exported[kind][0], f"{kind}.csv"), actor=officer, commit=True)
        assert again.count("created") == again.count("updated") == 0, (kind, again.summary())
    assert sum(m.history.count() for m in (Partner, Contact, Engagement, Agreement, TradeMission, Gift)) == history
