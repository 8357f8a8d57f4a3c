"""Deletes never orphan: a record others point to is refused everywhere, and nothing changes.

The sweep derives every kind of reference from the models themselves (each
foreign key and many-to-many field that points at a record), so a relation
added later without a case here fails `test_the_sweep_covers_every_reference`.
For each one, the delete is refused by the API (409, naming what is in the
way), the page (a page listing it, offering archiving) and the back office
(the single delete and the bulk action), and the whole database is
byte-for-byte what it was.
"""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from diplomacy_crm.deletion import RecordInUse, delete_record, references_to
from engagements.models import Commitment, Engagement, Gift, TradeMission
from partners.models import Agreement, Contact, Partner, Topic
from tests import factories
from tests.snapshots import database_snapshot

pytestmark = pytest.mark.django_db

CORE = (Topic, Partner, Contact, Agreement, Engagement, TradeMission, Commitment, Gift)

TARGETS = {
    Partner: lambda: factories.PartnerFactory(name="Port of Busan Authority"),
    Contact: lambda: factories.ContactFactory(full_name="Hana Kim"),
    Topic: lambda: factories.TopicFactory(name="Ports", slug="ports"),
    TradeMission: lambda: factories.TradeMissionFactory(name="Korea ports mission"),
    Engagement: lambda: factories.EngagementFactory(title="Port call"),
    Agreement: lambda: factories.AgreementFactory(title="Ports MOU"),
    Commitment: lambda: factories.CommitmentFactory(description="Send the port study"),
    Gift: lambda: factories.GiftFactory(description="Ship model"),
}


def _attached(target):
    """A file kept with `target` (the row only: deletes never read the bytes)."""
    from attachments.models import KINDS, Attachment

    field = next(f for label, f in KINDS.values() if label == target._meta.label)
    return Attachment.objects.create(
        **{field: target}, blob="refs/x", filename="letter.pdf", content_type="application/pdf", size=1, sha256="0" * 64
    )


def _linked(record, name, target):
    getattr(record, name).add(target)
    return record


# (model pointed at, accessor of the reference) -> make one record that points at `target`.
REFERENCES = {
    (Partner, "children"): lambda t: factories.PartnerFactory(parent=t),
    (Partner, "contacts"): lambda t: factories.ContactFactory(partner=t),
    (Partner, "agreements"): lambda t: factories.AgreementFactory(partners=[t]),
    (Partner, "missions"): lambda t: _linked(factories.TradeMissionFactory(), "partners", t),
    (Partner, "engagements"): lambda t: factories.EngagementFactory(partners=[t]),
    (Partner, "commitments"): lambda t: factories.CommitmentFactory(partner=t),
    (Partner, "gifts"): lambda t: factories.GiftFactory(partner=t),
    (Contact, "missions"): lambda t: _linked(factories.TradeMissionFactory(), "delegates", t),
    (Contact, "engagements"): lambda t: factories.EngagementFactory(partners=[t.partner], contacts=[t]),
    (Topic, "partners"): lambda t: _linked(factories.PartnerFactory(), "topics", t),
    (Topic, "engagements"): lambda t: factories.EngagementFactory(topics=[t]),
    (TradeMission, "engagements"): lambda t: factories.EngagementFactory(trade_mission=t),
    (TradeMission, "commitments"): lambda t: factories.CommitmentFactory(trade_mission=t),
    (Engagement, "commitments"): lambda t: factories.CommitmentFactory(engagement=t),
    (Engagement, "gifts"): lambda t: factories.GiftFactory(engagement=t),
    # Files kept with a record (attachments/): the record is not deleted from under them.
    **{(model, "attachments"): _attached for model in (Partner, Agreement, Engagement, TradeMission, Commitment, Gift)},
}
CASES = sorted(REFERENCES, key=lambda key: (key[0].__name__, key[1]))

API_NAMES = {Partner: "partners", Contact: "contacts", Topic: "topics", TradeMission: "trade-missions", Engagement: "engagements",
             Agreement: "agreements", Commitment: "commitments", Gift: "gifts"}
# The pages that delete (partners are archived on the pages; topics have no page).
PAGE_URLS = {Contact: "/contacts/{}/delete/", TradeMission: "/missions/{}/delete/", Engagement: "/engagements/{}/delete/"}


def _case_id(case):
    return f"{case[0].__name__}.{case[1]}"


def _api(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def _kind(model, accessor):
    return str(model._meta.get_field(accessor).related_model._meta.verbose_name_plural)


def _one(model, accessor):
    return f"1 {model._meta.get_field(accessor).related_model._meta.verbose_name}"


def test_the_sweep_covers_every_reference():
    derived = {
        (model, rel.get_accessor_name())
        for model in CORE
        for rel in model._meta.related_objects
        if not getattr(rel.related_model, "instance_type", None)  # history rows are not references
    }
    assert derived == set(REFERENCES)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_the_api_refuses_with_a_409_naming_what_points_here(case, officer):
    model, accessor = case
    target = TARGETS[model]()
    REFERENCES[case](target)
    before = database_snapshot()
    response = _api(officer).delete(f"/api/v1/{API_NAMES[model]}/{target.pk}/")
    assert response.status_code == 409, response.content
    body = response.json()
    assert {"kind": _kind(model, accessor), "count": 1} in body["references"]
    assert _kind(model, accessor) in body["blocking"]
    assert database_snapshot() == before


@pytest.mark.parametrize("case", [c for c in CASES if c[0] in PAGE_URLS], ids=_case_id)
def test_the_page_refuses_and_lists_what_points_here(case, client, officer):
    model, accessor = case
    target = TARGETS[model]()
    REFERENCES[case](target)
    client.force_login(officer)
    url = PAGE_URLS[model].format(target.pk)
    shown = client.get(url).content.decode()
    assert "cannot be deleted" in shown
    assert _one(model, accessor) in shown
    assert ">Delete</button>" not in shown  # no delete button to press
    before = database_snapshot()
    response = client.post(url)
    assert response.status_code == 409
    body = response.content.decode()
    assert "cannot be deleted" in body and _one(model, accessor) in body
    assert database_snapshot() == before


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_the_back_office_refuses_single_and_bulk_deletes(case, client, superuser):
    model, accessor = case
    target = TARGETS[model]()
    REFERENCES[case](target)
    client.force_login(superuser)
    opts = model._meta
    before = database_snapshot()
    page = client.post(f"/admin/{opts.app_label}/{opts.model_name}/{target.pk}/delete/", {"post": "yes"})
    assert page.status_code == 200
    assert _one(model, accessor) in page.content.decode()
    bulk = client.post(
        f"/admin/{opts.app_label}/{opts.model_name}/",
        {"action": "delete_selected", "_selected_action": [target.pk], "post": "yes"},
    )
    assert bulk.status_code == 200
    assert _one(model, accessor) in bulk.content.decode()
    assert database_snapshot() == before
    assert model.objects.filter(pk=target.pk).exists()


# --- What the refusal tells whom ------------------------------------------------


def test_references_hidden_from_the_user_are_counted_not_named(viewer, officer):
    partner = factories.PartnerFactory()
    factories.EngagementFactory(partners=[partner], title="Open call")
    factories.EngagementFactory(partners=[partner], confidentiality=Engagement.Confidentiality.RESTRICTED)
    assert [(r.kind, r.count) for r in references_to(partner, user=officer)] == [("engagements", 2)]
    assert [(r.kind, r.count) for r in references_to(partner, user=viewer)] == [
        ("engagements", 1),
        ("other records", 1),
    ]


def test_the_service_refuses_and_keeps_everything(officer):
    partner = factories.PartnerFactory()
    engagement = factories.EngagementFactory(partners=[partner])
    before = database_snapshot()
    with pytest.raises(RecordInUse) as refused:
        delete_record(partner, actor=officer)
    assert [(r.kind, r.count) for r in refused.value.references] == [("engagements", 1)]
    assert database_snapshot() == before
    assert list(engagement.partners.all()) == [partner]


# --- Who deletes, and what is kept -----------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "staff_user"])
def test_only_officers_delete(request, role, client):
    user = request.getfixturevalue(role)
    contact = factories.ContactFactory()
    before = database_snapshot()
    assert _api(user).delete(f"/api/v1/contacts/{contact.pk}/").status_code == 403
    client.force_login(user)
    assert client.post(f"/contacts/{contact.pk}/delete/").status_code == 403
    assert database_snapshot() == before


def test_a_delete_keeps_a_restorable_version_with_its_links(client, officer):
    partner = factories.PartnerFactory(name="Sister City of Busan")
    topic = factories.TopicFactory(slug="ports")
    partner.topics.set([topic])
    response = _api(officer).delete(f"/api/v1/partners/{partner.pk}/")
    assert response.status_code == 204
    assert not Partner.objects.filter(pk=partner.pk).exists()
    deleted = Partner.history.filter(id=partner.pk).latest()
    assert (deleted.history_type, deleted.history_user, deleted.name) == ("-", officer, "Sister City of Busan")
    assert [link.topic_id for link in deleted.topics.all()] == [topic.pk]  # the links as they were

    client.force_login(officer)
    restored = client.post(f"/history/partner/{partner.pk}/restore/{deleted.history_id}/")
    assert restored.status_code == 302
    partner = Partner.objects.get(pk=partner.pk)
    assert partner.name == "Sister City of Busan"
    assert list(partner.topics.all()) == [topic]


def test_a_deleted_meeting_is_restored_with_its_partners(client, officer):
    partner = factories.PartnerFactory()
    engagement = factories.EngagementFactory(partners=[partner], title="Lunch with the consul")
    client.force_login(officer)
    assert ">Delete</button>" in client.get(f"/engagements/{engagement.pk}/delete/").content.decode()  # not in use
    assert client.post(f"/engagements/{engagement.pk}/delete/").status_code == 302
    deleted = Engagement.history.filter(id=engagement.pk).latest()
    assert deleted.history_type == "-"
    assert client.post(f"/history/engagement/{engagement.pk}/restore/{deleted.history_id}/").status_code == 302
    assert list(Engagement.objects.get(pk=engagement.pk).partners.all()) == [partner]


def test_the_page_offers_archiving_instead(client, officer):
    contact = factories.ContactFactory(full_name="Hana Kim")
    factories.EngagementFactory(partners=[contact.partner], contacts=[contact])
    client.force_login(officer)
    body = client.get(f"/contacts/{contact.pk}/delete/").content.decode()
    assert "no longer in post" in body
    assert f"/contacts/{contact.pk}/edit/" in body


def test_the_back_office_deletes_what_is_not_in_use_keeping_who_did_it(client, superuser):
    topic = factories.TopicFactory(slug="unused")
    client.force_login(superuser)
    response = client.post(f"/admin/partners/topic/{topic.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    deleted = Topic.history.filter(id=topic.pk).latest()
    assert (deleted.history_type, deleted.history_user) == ("-", superuser)


def test_back_office_inlines_do_not_delete_what_others_may_point_to(client, superuser):
    partner = factories.PartnerFactory()
    factories.ContactFactory(partner=partner)
    factories.PartnerFactory(parent=partner)
    engagement = factories.EngagementFactory()
    factories.CommitmentFactory(engagement=engagement)
    client.force_login(superuser)
    partner_page = client.get(f"/admin/partners/partner/{partner.pk}/change/").content.decode()
    assert 'name="contacts-0-DELETE"' not in partner_page
    assert 'name="children-0-DELETE"' not in partner_page
    # Commitments may carry attachments (attachments/): their inline has no delete box either.
    assert 'name="commitments-0-DELETE"' not in client.get(f"/admin/engagements/engagement/{engagement.pk}/change/").content.decode()


def test_restoring_a_version_that_names_a_deleted_partner_is_refused_and_writes_nothing(client, officer):
    kept, gone = factories.PartnerFactory(name="Kept"), factories.PartnerFactory(name="Gone")
    engagement = factories.EngagementFactory(partners=[kept, gone])
    old = Engagement.history.filter(id=engagement.pk).latest()
    engagement.partners.set([kept])  # no longer named: the partner may go
    client.force_login(officer)
    assert _api(officer).delete(f"/api/v1/partners/{gone.pk}/").status_code == 204
    before = database_snapshot()
    response = client.post(f"/history/engagement/{engagement.pk}/restore/{old.history_id}/", follow=True)
    assert "cannot be restored" in response.content.decode()
    assert database_snapshot() == before


def test_deleting_what_is_already_gone_is_a_404_and_writes_nothing(officer):
    from django.http import Http404

    contact = factories.ContactFactory()
    stale = Contact.objects.get(pk=contact.pk)
    delete_record(contact, actor=officer)
    before = database_snapshot()
    with pytest.raises(Http404):
        delete_record(stale, actor=officer)  # the second of two people pressing "Delete"
    assert database_snapshot() == before
    assert Contact.history.filter(id=contact.pk, history_type="-").count() == 1
