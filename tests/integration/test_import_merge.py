"""Merging duplicates keeps every engagement, commitment, contact, agreement, child partner, gift and history row."""

import pytest
from django.urls import reverse

from engagements.models import Commitment, Engagement, Gift
from imports.duplicates import contact_duplicates, partner_duplicates
from imports.merge import contact_merge, partner_merge
from partners.models import Agreement, Contact, Partner
from tests.factories import (
    AgreementFactory,
    CommitmentFactory,
    ContactFactory,
    EngagementFactory,
    GiftFactory,
    PartnerFactory,
    TopicFactory,
    TradeMissionFactory,
)
from tests.integration.import_helpers import snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair():
    """Two records of one consulate, each with its own links, and one engagement linked to both."""
    survivor = PartnerFactory(name="Consulate General of El Salvador", country="SV", city="Los Angeles", website="")
    duplicate = PartnerFactory(name="Consulado General de El Salvador", country="SV", city="Los Angeles",
                               website="https://consuladosv.example.org/", external_id="Q123")
    duplicate.topics.add(TopicFactory(slug="diaspora", name="Diaspora"))
    ContactFactory(partner=survivor, full_name="Ana Pérez")
    ContactFactory(partner=duplicate, full_name="Beto Díaz")
    both = EngagementFactory(title="Consular corps lunch", partners=[survivor, duplicate])
    only_dup = EngagementFactory(title="Courtesy call", partners=[duplicate])
    CommitmentFactory(engagement=only_dup, partner=duplicate, made_by="partner")
    CommitmentFactory(engagement=both, partner=survivor)
    AgreementFactory(title="MOU on consular services", partners=[duplicate])
    AgreementFactory(title="Joint statement", partners=[survivor, duplicate])
    GiftFactory(partner=duplicate, engagement=only_dup)
    PartnerFactory(name="Honorary consul in San Diego", parent=duplicate, country="SV")
    TradeMissionFactory(name="Mission to San Salvador").partners.add(duplicate)
    return survivor, duplicate


def test_a_merge_moves_every_link_and_loses_nothing(pair, officer):
    survivor, duplicate = pair
    before = snapshot()
    dup_history = duplicate.history.count()
    survivor_history = survivor.history.count()
    merged = partner_merge(survivor=survivor, duplicate=duplicate, actor=officer)
    after = snapshot()
    # Everything that was the duplicate's is the survivor's now; only the duplicate itself is gone.
    assert after["Partner"] == before["Partner"] - 1
    for model in ("Contact", "Engagement", "Commitment", "Agreement", "Gift"):
        assert after[model] == before[model], model
    assert merged.contacts.count() == 2
    assert merged.engagements.count() == 2  # the shared lunch keeps one link, not two
    assert Engagement.objects.get(title="Consular corps lunch").partners.count() == 1
    assert Commitment.objects.filter(partner=merged).count() == 2
    assert merged.agreements.count() == 2
    assert Gift.objects.get().partner == merged
    assert merged.children.get().name == "Honorary consul in San Diego"
    assert merged.missions.count() == 1
    # Its empty fields were filled, its topics joined.
    assert merged.website == "https://consuladosv.example.org/" and merged.external_id == "Q123"
    assert list(merged.topics.values_list("slug", flat=True)) == ["diaspora"]
    # History: no row lost, the survivor records the merge, the duplicate's rows stay with a deletion row.
    assert after["history:Partner"] > before["history:Partner"]
    latest = merged.history.first()
    assert latest.history_change_reason == f"merged #{duplicate.pk} Consulado General de El Salvador"
    assert latest.history_user == officer
    # One row for the merge (S8), holding the joined topics.
    assert merged.history.count() == survivor_history + 1
    assert list(latest.topics.values_list("topic__slug", flat=True)) == ["diaspora"]
    gone = Partner.history.filter(id=duplicate.pk)
    assert gone.count() == dup_history + 1 and gone.first().history_type == "-"
    assert "merged into" in gone.first().history_change_reason


def test_a_survivor_below_its_duplicate_takes_the_duplicates_parent(officer):
    government = PartnerFactory(name="Government of El Salvador", country="SV", kind="national_government")
    duplicate = PartnerFactory(name="Consulate of El Salvador", country="SV", parent=government)
    survivor = PartnerFactory(name="Consulate of El Salvador (LA)", country="SV", parent=duplicate)
    merged = partner_merge(survivor=survivor, duplicate=duplicate, actor=officer)
    assert merged.parent == government


def test_merging_a_partner_into_itself_is_refused(officer):
    partner = PartnerFactory()
    with pytest.raises(Exception, match="two different"):
        partner_merge(survivor=partner, duplicate=partner, actor=officer)


def test_a_contact_merge_keeps_engagements_and_missions(officer):
    partner = PartnerFactory(name="Seoul")
    survivor = ContactFactory(partner=partner, full_name="Park Won-soon", email="")
    duplicate = ContactFactory(partner=partner, full_name="Park Wonsoon", email="mayor@seoul.example.kr")
    EngagementFactory(partners=[partner], contacts=[duplicate])
    EngagementFactory(partners=[partner], contacts=[survivor, duplicate])
    TradeMissionFactory().delegates.add(duplicate)
    before = snapshot()
    merged = contact_merge(survivor=survivor, duplicate=duplicate, actor=officer)
    assert snapshot()["Engagement"] == before["Engagement"]
    assert merged.engagements.count() == 2 and merged.missions.count() == 1
    assert merged.email == "mayor@seoul.example.kr"
    assert not Contact.objects.filter(pk=duplicate.pk).exists()
    assert merged.history.first().history_change_reason.startswith(f"merged #{duplicate.pk}")


def test_likely_duplicates_are_found_accent_and_word_order_insensitively():
    a = PartnerFactory(name="Malmö Municipality", country="SE")
    b = PartnerFactory(name="Malmo", country="SE")
    c = PartnerFactory(name="Korea, South", country="KR", kind="national_government")
    d = PartnerFactory(name="South Korea", country="KR", kind="national_government")
    PartnerFactory(name="Malmö", country="DK")  # same name, other country
    PartnerFactory(name="Stockholm", country="SE")
    pairs = {frozenset((p.first.pk, p.second.pk)) for p in partner_duplicates()}
    assert pairs == {frozenset((a.pk, b.pk)), frozenset((c.pk, d.pk))}


def test_likely_duplicate_contacts_share_an_email_or_a_partner_and_a_name():
    seoul, busan = PartnerFactory(name="Seoul"), PartnerFactory(name="Busan")
    a = ContactFactory(partner=seoul, full_name="Park Won-soon", honorific="Mayor")
    b = ContactFactory(partner=seoul, full_name="Mayor Park Wonsoon")
    c = ContactFactory(partner=seoul, full_name="Kim", email="kim@example.kr")
    d = ContactFactory(partner=busan, full_name="K. Lee", email="KIM@example.kr ")
    ContactFactory(partner=busan, full_name="Park Won-soon")  # same name, another partner, no email
    found = {frozenset((p.first.pk, p.second.pk)): p.reason for p in contact_duplicates()}
    assert found == {frozenset((a.pk, b.pk)): "same partner; names 96 % similar", frozenset((c.pk, d.pk)): "same email"}


class TestPages:
    def test_staff_may_not_merge(self, pair, client_for):
        survivor, duplicate = pair
        client = client_for("staff")
        url = reverse("imports:merge", args=["partner", survivor.pk, duplicate.pk])
        assert client.get(url).status_code == 403
        assert client.post(url, {"confirm": "yes"}).status_code == 403
        assert Partner.objects.filter(pk=duplicate.pk).exists()

    def test_officers_confirm_then_merge(self, pair, client_for):
        survivor, duplicate = pair
        client = client_for("officer")
        url = reverse("imports:merge", args=["partner", survivor.pk, duplicate.pk])
        page = client.get(url)
        assert page.status_code == 200 and b"Merge" in page.content and b"engagements" in page.content
        client.post(url, {})  # not confirmed
        assert Partner.objects.filter(pk=duplicate.pk).exists()
        response = client.post(url, {"confirm": "yes"})
        assert response.status_code == 302
        assert not Partner.objects.filter(pk=duplicate.pk).exists()
        assert Agreement.objects.filter(partners=survivor).count() == 2

    def test_the_confirmation_says_why_the_two_look_alike(self, client_for, pair):
        from imports.duplicates import why_partners_alike

        survivor, duplicate = pair
        client = client_for("officer")
        page = client.get(reverse("imports:merge", args=["partner", survivor.pk, duplicate.pk])).content.decode()
        why = why_partners_alike(survivor, duplicate)
        assert "same country (El Salvador)" in why and "same kind" in why
        assert "Why they look alike" in page and why.replace("’", "&#x27;") in page.replace("’", "&#x27;")
        listing = client.get(reverse("imports:duplicates")).content.decode()
        assert "similar names in the same country and of the same kind" in listing

    def test_the_contact_confirmation_says_why_too(self, client_for):
        seoul = PartnerFactory(name="Seoul", country="KR")
        keep = ContactFactory(partner=seoul, full_name="Oh Se-hoon", email="mayor@seoul.example.kr")
        drop = ContactFactory(partner=seoul, full_name="Mayor Oh Sehoon", email="MAYOR@seoul.example.kr")
        client = client_for("officer")
        page = client.get(reverse("imports:merge", args=["contact", keep.pk, drop.pk])).content.decode()
        assert "same email; same partner; names" in page and "% similar" in page

    def test_an_unknown_kind_is_a_404(self, client_for):
        client = client_for("officer")
        assert client.get(reverse("imports:merge", args=["agreement", 1, 2])).status_code == 404


def test_a_merge_deletes_the_duplicate_through_the_one_delete_rule(officer):
    """delete_record: the "-" history row names the survivor and the actor, and the delete is announced
    (record_deleted, which webhooks turn into `partner.deleted`) like any other."""
    from diplomacy_crm.signals import record_deleted

    survivor, duplicate = PartnerFactory(name="Ville de Lyon"), PartnerFactory(name="Lyon")
    announced = []

    def listen(sender, instance, actor, **kwargs):
        announced.append((sender, instance.pk, actor))

    record_deleted.connect(listen)
    try:
        partner_merge(survivor=survivor, duplicate=duplicate, actor=officer)
    finally:
        record_deleted.disconnect(listen)
    assert announced == [(Partner, duplicate.pk, officer)]
    gone = Partner.history.filter(id=duplicate.pk, history_type="-").get()
    assert gone.history_user == officer
    assert f"merged into #{survivor.pk} Ville de Lyon" in gone.history_change_reason
