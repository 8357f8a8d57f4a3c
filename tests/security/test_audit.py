"""S8: every write leaves one history row (who, when, what), sign-ins and refusals are logged;
the audit page shows each change's fields, and an officer can restore an old version."""

import logging

import pytest
from django.apps import apps
from django.db import transaction
from django.test import Client
from django.utils import timezone

from diplomacy_crm.services import save_record

from engagements.models import Commitment, Engagement
from partners.models import Agreement, Contact, Partner, Topic
from tests.factories import CommitmentFactory, ContactFactory, EngagementFactory, PartnerFactory, TopicFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def history_models():
    return [m for m in apps.get_models() if m.__name__.startswith("Historical") and "_" not in m.__name__]


def history_rows() -> int:
    return sum(m.objects.count() for m in history_models())


def newest_history_rows(since_ids: dict):
    rows = []
    for model in history_models():
        rows += list(model.objects.filter(history_id__gt=since_ids.get(model, 0)).select_related("history_user"))
    return rows


def max_ids():
    return {m: (m.objects.order_by("-history_id").values_list("history_id", flat=True).first() or 0) for m in history_models()}


# --- sign-ins and refusals ---


def test_sign_ins_failures_and_sign_outs_are_logged(client, officer, caplog):
    caplog.set_level(logging.INFO, logger="crm.audit")
    client.post("/accounts/login/", {"username": officer.username, "password": "nope"}, REMOTE_ADDR="203.0.113.9")
    client.post("/accounts/login/", {"username": "ghost\r\nevent=login user=root", "password": "x"})
    client.post("/accounts/login/", {"username": officer.username, "password": PASSWORD})
    client.post("/accounts/logout/")
    lines = [r.getMessage() for r in caplog.records if r.name == "crm.audit"]
    assert f"event=login_failed user={officer.username} ip=203.0.113.9" in lines
    assert any(line.startswith(f"event=login user={officer.username}") for line in lines)
    assert any(line.startswith(f"event=logout user={officer.username}") for line in lines)
    assert not any("\n" in line or "\r" in line for line in lines), "a username forged a log line"
    assert not any(PASSWORD in line for line in lines)


def test_refusals_are_logged(client, viewer, officer, caplog):
    secret = EngagementFactory(confidentiality="restricted")
    caplog.set_level(logging.INFO, logger="crm.audit")
    client.force_login(viewer)
    assert client.get(f"/engagements/{secret.pk}/").status_code == 404
    assert client.get("/engagements/new/").status_code == 403
    assert client.get(f"/api/v1/engagements/{secret.pk}/").status_code == 404
    lines = [r.getMessage() for r in caplog.records if r.name == "crm.audit"]
    assert f"event=denied status=404 user={viewer.username} method=GET path=/engagements/{secret.pk}/ ip=127.0.0.1" in lines
    assert any(line.startswith("event=denied status=403") and "/engagements/new/" in line for line in lines)
    assert any(line.startswith("event=denied status=404") and "/api/v1/engagements/" in line for line in lines)


# --- one write, one history row ---


def _ui_writes(ui, partner, did):
    """Pages: partners, contacts, commitments (create, update, delete)."""
    base_partner = {"kind": "city", "country": "FR", "city": "Lyon", "priority": "2", "status": "active"}
    for i in range(4):
        did(ui.post("/partners/new/", {**base_partner, "name": f"Lyon {i}"}), 302, "ui", "create", "partner")
    created = list(Partner.objects.filter(name__startswith="Lyon ").order_by("pk"))
    for p in created[:3]:
        did(ui.post(f"/partners/{p.pk}/edit/", {**base_partner, "name": p.name + " Métropole"}), 302, "ui", "update", "partner")
    for i in range(4):
        did(ui.post("/contacts/new/", {"partner": partner.pk, "full_name": f"Kim {i}", "is_active": "on"}), 302,
            "ui", "create", "contact")
    contacts = list(Contact.objects.filter(full_name__startswith="Kim ").order_by("pk"))
    for c in contacts[:2]:
        did(ui.post(f"/contacts/{c.pk}/edit/", {"partner": partner.pk, "full_name": c.full_name + " Jr.", "is_active": "on"}),
            302, "ui", "update", "contact")
    for c in contacts[2:]:
        did(ui.post(f"/contacts/{c.pk}/delete/"), 302, "ui", "delete", "contact")
    base_commitment = {"made_by": "city", "status": "open", "priority": "2", "partner": partner.pk, "no_due_date": "on"}
    for i in range(4):
        did(ui.post("/commitments/new/", {**base_commitment, "description": f"Send letter {i}"}), 302, "ui", "create", "commitment")
    commitments = list(Commitment.objects.filter(description__startswith="Send letter").order_by("pk"))
    for c in commitments[:2]:
        did(ui.post(f"/commitments/{c.pk}/edit/", {**base_commitment, "description": c.description + " (signed)"}),
            302, "ui", "update", "commitment")
    did(ui.post(f"/commitments/{commitments[3].pk}/delete/"), 302, "ui", "delete", "commitment")


def _api_writes(api, partner, engagement, did):
    """API: topics, commitments, partners, an engagement."""
    for i in range(4):
        did(api.post("/api/v1/topics/", {"name": f"Ports {i}", "slug": f"ports-{i}"}, content_type="application/json"),
            201, "api", "create", "topic")
    for i in range(4):
        did(api.post("/api/v1/commitments/", {"description": f"Visit {i}", "partner": partner.pk},
                     content_type="application/json"), 201, "api", "create", "commitment")
    api_commitments = list(Commitment.objects.filter(description__startswith="Visit ").order_by("pk"))
    for c in api_commitments[:3]:
        did(api.patch(f"/api/v1/commitments/{c.pk}/", {"status": "in_progress"}, content_type="application/json"),
            200, "api", "update", "commitment")
    did(api.delete(f"/api/v1/commitments/{api_commitments[3].pk}/"), 204, "api", "delete", "commitment")
    for i in range(3):
        did(api.post("/api/v1/partners/", {"name": f"Incheon {i}", "kind": "city", "country": "KR"},
                     content_type="application/json"), 201, "api", "create", "partner")
    did(api.patch(f"/api/v1/engagements/{engagement.pk}/", {"location": "Busan City Hall"},
                  content_type="application/json"), 200, "api", "update", "engagement")
    did(api.patch(f"/api/v1/partners/{partner.pk}/", {"city": "Busan"}, content_type="application/json"),
        200, "api", "update", "partner")


def _admin_writes(admin, did):
    """Back office (superuser): topics."""
    for i in range(3):
        did(admin.post("/admin/partners/topic/add/", {"name": f"Admin topic {i}", "slug": f"admin-topic-{i}"}),
            302, "admin", "create", "topic")
    topics = list(Topic.objects.filter(slug__startswith="admin-topic-").order_by("pk"))
    for t in topics[:2]:
        did(admin.post(f"/admin/partners/topic/{t.pk}/change/", {"name": t.name + " (renamed)", "slug": t.slug}),
            302, "admin", "update", "topic")
    did(admin.post(f"/admin/partners/topic/{topics[2].pk}/delete/", {"post": "yes"}), 302, "admin", "delete", "topic")


def test_a_session_of_mixed_writes_leaves_one_history_row_per_write(officer, superuser):
    ui = Client()
    ui.force_login(officer)
    api = Client()
    api.force_login(officer)
    admin = Client()
    admin.force_login(superuser)
    partner = PartnerFactory(name="Busan Metropolitan City", country="KR")
    engagement = EngagementFactory(partners=[partner])
    before_ids = max_ids()
    before = history_rows()
    writes = []  # (channel, action, model label)

    def did(response, expected, channel, action, label):
        assert response.status_code == expected, (channel, action, label, response.status_code, response.content[:500])
        writes.append((channel, action, label))

    _ui_writes(ui, partner, did)
    _api_writes(api, partner, engagement, did)
    _admin_writes(admin, did)

    rows = newest_history_rows(before_ids)
    assert len(writes) >= 45
    assert history_rows() - before == len(writes), (
        f"{len(writes)} writes left {history_rows() - before} history rows"
    )
    for row in rows:
        assert row.history_user is not None, f"history row without 'who': {row}"
        assert row.history_date is not None
    kinds = sorted(r.history_type for r in rows)
    assert kinds.count("+") == sum(1 for w in writes if w[1] == "create")
    assert kinds.count("-") == sum(1 for w in writes if w[1] == "delete")


def test_writes_that_set_relations_leave_one_history_row(officer):
    """Many-to-many changes (an engagement's partners and staff) are part of the same write."""
    client = Client()
    client.force_login(officer)
    partner = PartnerFactory()
    before = history_rows()
    response = client.post("/api/v1/engagements/", {
        "title": "Call with the consul", "kind": "call", "starts_at": "2026-11-20T10:00:00-08:00",
        "partners": [partner.pk], "staff": [officer.username],
    }, content_type="application/json")
    assert response.status_code == 201, response.content
    assert history_rows() - before == 1, f"one create left {history_rows() - before} history rows"


def test_back_office_writes_with_relations_leave_one_row_each_with_the_final_links(superuser):
    """The admin saves the record, then its links: still one history row per save, by the admin user."""
    admin = Client()
    admin.force_login(superuser)
    sister, other, third = PartnerFactory(), PartnerFactory(), PartnerFactory()
    before_ids = max_ids()
    form = {"title": "Sister-city agreement", "kind": "sister_city", "status": "in_force", "summary": "Signed in Busan"}
    response = admin.post("/admin/partners/agreement/add/", {**form, "partners": [sister.pk, other.pk]})
    assert response.status_code == 302, response.content[:2000]
    agreement = Agreement.objects.get(title="Sister-city agreement")
    response = admin.post(
        f"/admin/partners/agreement/{agreement.pk}/change/",
        {**form, "summary": "Renewed", "partners": [other.pk, third.pk]},
    )
    assert response.status_code == 302, response.content[:2000]
    rows = sorted(newest_history_rows(before_ids), key=lambda r: r.history_id)
    assert [r.history_type for r in rows] == ["+", "~"], rows
    created, changed = rows
    assert {created.history_user, changed.history_user} == {superuser}
    assert _snapshot(created, "partners") == {sister.pk, other.pk}
    assert (changed.summary, _snapshot(changed, "partners")) == ("Renewed", {other.pk, third.pk})


def _snapshot(row, name: str) -> set[int]:
    """The ids a history row recorded for one many-to-many relation."""
    field = row.instance_type._meta.get_field(name)
    target = field.m2m_reverse_field_name()
    return {link[target] for link in getattr(row, name).values(target)}


def test_an_update_that_changes_relations_leaves_one_changed_row_with_the_new_set(officer):
    client = Client()
    client.force_login(officer)
    old_partner, new_a, new_b = PartnerFactory(), PartnerFactory(), PartnerFactory()
    topic = Topic.objects.create(name="Water", slug="water")
    engagement = EngagementFactory(partners=[old_partner], title="Port call")
    before_ids = max_ids()
    response = client.patch(f"/api/v1/engagements/{engagement.pk}/", {
        "title": "Port call (moved)", "partners": [new_a.pk, new_b.pk], "topics": ["water"], "staff": [officer.username],
    }, content_type="application/json")
    assert response.status_code == 200, response.content
    rows = newest_history_rows(before_ids)
    assert len(rows) == 1, f"one update left {len(rows)} history rows"
    row = rows[0]
    assert row.history_type == "~"
    assert row.history_user == officer
    assert row.title == "Port call (moved)"
    assert _snapshot(row, "partners") == {new_a.pk, new_b.pk}
    assert _snapshot(row, "topics") == {topic.pk}
    assert _snapshot(row, "staff") == {officer.pk}


def test_a_create_without_relations_leaves_one_created_row(officer):
    client = Client()
    client.force_login(officer)
    before_ids = max_ids()
    response = client.post("/api/v1/topics/", {"name": "Ports", "slug": "ports"}, content_type="application/json")
    assert response.status_code == 201, response.content
    rows = newest_history_rows(before_ids)
    assert [(r.history_type, r.name, r.history_user) for r in rows] == [("+", "Ports", officer)]


def test_a_create_with_relations_records_them_in_its_one_created_row(officer):
    from engagements.services import engagement_create

    partner = PartnerFactory()
    before_ids = max_ids()
    with transaction.atomic():
        engagement = engagement_create(
            actor=officer, title="Signing", kind="call", starts_at=timezone.now(), partners=[partner], staff=[officer],
        )
    rows = newest_history_rows(before_ids)
    assert len(rows) == 1 and rows[0].history_type == "+"
    assert rows[0].id == engagement.pk
    assert _snapshot(rows[0], "partners") == {partner.pk}
    assert _snapshot(rows[0], "staff") == {officer.pk}


def test_an_update_without_relations_keeps_the_current_relations_in_its_row(officer):
    partner = PartnerFactory()
    engagement = EngagementFactory(partners=[partner])
    before_ids = max_ids()
    with transaction.atomic():
        save_record(engagement, actor=officer, fields={"location": "Harbour office"})
    rows = newest_history_rows(before_ids)
    assert len(rows) == 1 and rows[0].history_type == "~" and rows[0].location == "Harbour office"
    assert _snapshot(rows[0], "partners") == {partner.pk}


def test_a_write_rolled_back_leaves_no_history_row(officer):
    engagement = EngagementFactory(partners=[PartnerFactory()], title="Before")
    other = PartnerFactory()
    before = history_rows()
    with pytest.raises(RuntimeError), transaction.atomic():
        save_record(engagement, actor=officer, fields={"title": "After"}, m2m={"partners": [other]})
        raise RuntimeError("the rest of the write failed")
    assert history_rows() == before
    assert Engagement.objects.get(pk=engagement.pk).title == "Before"


# --- the audit page and restore ---


def test_the_history_page_shows_who_changed_which_field(client, officer):
    client.force_login(officer)
    partner = PartnerFactory(name="Gdańsk", city="Gdansk")
    response = client.post(f"/partners/{partner.pk}/edit/", {
        "name": "Gdańsk", "kind": "city", "country": "PL", "city": "Gdańsk", "priority": "1", "status": "active",
    })
    assert response.status_code == 302
    page = client.get(f"/history/partner/{partner.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Omar Officer" in body or officer.username in body
    assert "Gdansk" in body and "Gdańsk" in body  # the city's old and new values
    assert "Created" in body and "Changed" in body


def test_an_unknown_kind_of_record_has_no_history_page(client, officer):
    client.force_login(officer)
    assert client.get("/history/user/1/").status_code == 404
    assert client.get(f"/history/partner/{10**12}/").status_code == 404


def test_an_officer_restores_a_changed_record(client, officer):
    client.force_login(officer)
    partner = PartnerFactory(name="Original name")
    original = partner.history.latest()
    partner.name = "Vandalised"
    partner.save()
    url = f"/history/partner/{partner.pk}/restore/{original.history_id}/"
    assert client.get(url).status_code == 200  # the confirmation page
    before = history_rows()
    response = client.post(url)
    assert response.status_code == 302
    partner.refresh_from_db()
    assert partner.name == "Original name"
    assert history_rows() - before == 1
    latest = partner.history.latest()
    assert latest.history_user == officer
    assert latest.history_change_reason.startswith("restored from ")


def test_an_officer_restores_a_deleted_record_with_its_relations(client, officer):
    client.force_login(officer)
    partners = [PartnerFactory(), PartnerFactory()]
    engagement = EngagementFactory(partners=partners, title="Deleted by mistake")
    pk = engagement.pk
    last = engagement.history.latest()
    engagement.delete()
    assert not Engagement.objects.filter(pk=pk).exists()
    response = client.post(f"/history/engagement/{pk}/restore/{last.history_id}/")
    assert response.status_code == 302
    restored = Engagement.objects.get(pk=pk)
    assert restored.title == "Deleted by mistake"
    assert set(restored.partners.all()) == set(partners)
    assert restored.history.latest().history_change_reason.startswith("restored from ")


def test_a_version_pointing_at_a_deleted_record_is_explained_not_restored(client, officer):
    client.force_login(officer)
    partner = PartnerFactory()
    commitment = CommitmentFactory(partner=partner)
    version = commitment.history.latest()
    pk = commitment.pk
    commitment.delete()
    partner.delete()
    response = client.post(f"/history/commitment/{pk}/restore/{version.history_id}/", follow=True)
    assert response.status_code == 200
    assert "cannot be restored" in response.content.decode()
    assert not Commitment.objects.filter(pk=pk).exists()


@pytest.mark.parametrize("actor", ["viewer", "staff_user"])
def test_only_officers_restore(request, client, actor):
    user = request.getfixturevalue(actor)
    client.force_login(user)
    contact = ContactFactory()
    version = contact.history.latest()
    contact.full_name = "Changed"
    contact.save()
    assert client.post(f"/history/contact/{contact.pk}/restore/{version.history_id}/").status_code == 403
    contact.refresh_from_db()
    assert contact.full_name == "Changed"


def test_a_deleted_records_history_is_for_officers(client, viewer, officer):
    contact = ContactFactory(full_name="Deleted Envoy")
    pk = contact.pk
    contact.delete()
    client.force_login(viewer)
    assert client.get(f"/history/contact/{pk}/").status_code == 404
    client.force_login(officer)
    response = client.get(f"/history/contact/{pk}/")
    assert response.status_code == 200 and "Deleted Envoy" in response.content.decode()


def test_the_history_page_shows_a_relation_change_as_one_change(client, officer):
    client.force_login(officer)
    old_partner, new_partner = PartnerFactory(name="Old Partner"), PartnerFactory(name="New Partner")
    engagement = EngagementFactory(partners=[old_partner], title="Trade talk")
    before = engagement.history.count()
    response = client.patch(f"/api/v1/engagements/{engagement.pk}/", {"partners": [new_partner.pk]},
                            content_type="application/json")
    assert response.status_code == 200, response.content
    assert engagement.history.count() == before + 1
    page = client.get(f"/history/engagement/{engagement.pk}/")
    assert page.status_code == 200
    newest = page.context["history"].entries[0]
    assert newest.kind == "Changed" and newest.record.history_user == officer
    assert [(c.field, c.old, c.new) for c in newest.changes] == [("partners", f"ids {old_partner.pk}", f"ids {new_partner.pk}")]
    body = page.content.decode()
    assert f"ids {old_partner.pk}" in body and f"ids {new_partner.pk}" in body


def test_restoring_an_earlier_version_restores_its_relations_in_one_row(client, officer):
    client.force_login(officer)
    first, second = PartnerFactory(), PartnerFactory()
    topic_a, topic_b = TopicFactory(slug="ports-a"), TopicFactory(slug="ports-b")
    engagement = EngagementFactory(partners=[first], topics=[topic_a], title="Version one")
    with transaction.atomic():
        save_record(engagement, actor=officer, fields={"title": "Version one"}, m2m={"partners": [first], "topics": [topic_a]})
    version_one = engagement.history.latest("history_id")
    with transaction.atomic():
        save_record(engagement, actor=officer, fields={"title": "Version two"},
                    m2m={"partners": [second], "topics": [topic_b]})
    before_ids = max_ids()
    response = client.post(f"/history/engagement/{engagement.pk}/restore/{version_one.history_id}/")
    assert response.status_code == 302
    engagement.refresh_from_db()
    assert engagement.title == "Version one"
    assert set(engagement.partners.all()) == {first}
    assert set(engagement.topics.all()) == {topic_a}
    rows = newest_history_rows(before_ids)
    assert len(rows) == 1, f"a restore left {len(rows)} history rows"
    assert rows[0].history_type == "~" and rows[0].history_user == officer
    assert rows[0].history_change_reason.startswith("restored from ")
    assert _snapshot(rows[0], "partners") == {first.pk}

