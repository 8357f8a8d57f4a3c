"""Roles, confidentiality, history, demo data, health check, migrations."""

import datetime as dt
import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from engagements.models import Commitment, Engagement, TradeMission
from engagements.selectors import partners_for
from engagements.services import commitment_update, engagement_create, engagement_update
from partners.models import Agreement, Contact, Partner
from tests.factories import CommitmentFactory, ContactFactory, EngagementFactory, PartnerFactory

pytestmark = pytest.mark.django_db


class TestRoles:
    def test_the_migration_creates_the_three_groups(self):
        assert set(Group.objects.values_list("name", flat=True)) >= {"viewer", "staff", "officer"}

    def test_a_viewer_reads_but_writes_nothing(self, viewer):
        assert viewer.has_perm("engagements.view_engagement")
        assert not viewer.has_perm("engagements.add_engagement")
        assert not viewer.has_perm("partners.change_partner")

    def test_staff_log_meetings_and_commitments_but_do_not_edit_partners(self, staff_user):
        for perm in ("engagements.add_engagement", "engagements.change_commitment", "partners.add_contact",
                     "partners.add_partner"):
            assert staff_user.has_perm(perm), perm
        for perm in ("partners.change_partner", "partners.add_agreement", "engagements.delete_engagement"):
            assert not staff_user.has_perm(perm), perm

    def test_officers_may_do_everything_including_deletes(self, officer):
        for perm in ("partners.delete_partner", "partners.change_agreement", "engagements.delete_commitment",
                     "engagements.add_trademission"):
            assert officer.has_perm(perm), perm


class TestConfidentiality:
    @pytest.fixture
    def restricted(self, staff_user):
        partner = PartnerFactory(name="IOC")
        engagement = EngagementFactory(title="Security briefing", confidentiality="restricted",
                                       partners=[partner], staff=[staff_user])
        CommitmentFactory(engagement=engagement, partner=partner, description="Share perimeter plan")
        return engagement

    def test_restricted_engagements_are_seen_by_officers_and_participants_only(
        self, restricted, viewer, staff_user, other_staff, officer, superuser
    ):
        EngagementFactory(title="Courtesy call")
        def titles(user):
            return set(Engagement.objects.visible_to(user).values_list("title", flat=True))
        assert titles(viewer) == {"Courtesy call"}
        assert titles(other_staff) == {"Courtesy call"}
        assert titles(staff_user) == {"Courtesy call", "Security briefing"}
        assert titles(officer) == titles(superuser) == {"Courtesy call", "Security briefing"}

    def test_their_commitments_and_derived_counts_are_hidden_too(self, restricted, viewer, officer):
        assert not Commitment.objects.visible_to(viewer).exists()
        assert Commitment.objects.visible_to(officer).count() == 1
        as_viewer = partners_for(viewer).get(name="IOC")
        as_officer = partners_for(officer).get(name="IOC")
        assert (as_viewer.open_commitments, as_viewer.last_engagement_at) == (0, None)
        assert as_officer.open_commitments == 1
        assert as_officer.last_engagement_at == restricted.starts_at

    def test_a_staff_member_logging_a_restricted_meeting_keeps_access(self, other_staff):
        engagement = engagement_create(
            actor=other_staff, title="Private call", kind="call", starts_at=timezone.now(), confidentiality="restricted"
        )
        assert list(engagement.staff.all()) == [other_staff]
        assert Engagement.objects.visible_to(other_staff).filter(pk=engagement.pk).exists()


class TestServices:
    def test_a_meeting_is_logged_with_its_commitments_all_or_nothing(self, staff_user):
        partner = PartnerFactory()
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError) as err:
            engagement_create(
                actor=staff_user, title="Visit", kind="visit_received", starts_at=timezone.now(), partners=[partner],
                commitments=[{"description": "Send the brochure"}, {"description": "", "made_by": "city"}],
            )
        assert "commitments[1]" in err.value.message_dict
        assert not Engagement.objects.exists() and not Commitment.objects.exists()

        engagement = engagement_create(
            actor=staff_user, title="Visit", kind="visit_received", starts_at=timezone.now(), partners=[partner],
            commitments=[{"description": "Send the brochure"}],
        )
        commitment = engagement.commitments.get()
        # One partner present: the commitment is with them; the author owns it.
        assert (commitment.partner, commitment.owner) == (partner, staff_user)

    def test_attendees_must_come_from_the_partners_present(self, staff_user):
        ours, theirs = PartnerFactory(), PartnerFactory()
        stranger = ContactFactory(partner=theirs)
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError) as err:
            engagement_create(actor=staff_user, title="Call", kind="call", starts_at=timezone.now(),
                              partners=[ours], contacts=[stranger])
        assert "contacts" in err.value.message_dict

    def test_marking_done_fills_the_completion_date_and_reopening_clears_it(self, staff_user):
        commitment = CommitmentFactory()
        now = timezone.make_aware(dt.datetime(2026, 3, 2, 10))
        commitment_update(commitment=commitment, actor=staff_user, status="done", now=now)
        assert commitment.completed_on == dt.date(2026, 3, 2)
        commitment_update(commitment=commitment, actor=staff_user, status="open")
        assert commitment.completed_on is None


class TestHistory:
    def test_every_change_is_kept_with_who_and_what(self, staff_user, officer):
        engagement = engagement_create(actor=staff_user, title="Call with Seoul", kind="call", starts_at=timezone.now())
        engagement_update(engagement=engagement, actor=officer, title="Call with Seoul Metropolitan Government",
                          outcomes="Agreed a study tour")
        records = list(engagement.history.order_by("history_date"))
        assert [(r.history_type, r.history_user) for r in records] == [("+", staff_user), ("~", officer)]
        delta = records[1].diff_against(records[0])
        assert {c.field for c in delta.changes} == {"title", "outcomes"}
        assert delta.changes[0].old in {"Call with Seoul", ""}

    def test_a_deleted_record_survives_in_its_history(self, officer):
        partner = PartnerFactory(name="Short-lived partner")
        pk = partner.pk
        partner.delete()
        assert Partner.history.filter(id=pk, history_type="-").get().name == "Short-lived partner"


class TestDemo:
    def test_load_demo_builds_the_domain_facts_and_is_safe_to_run_twice(self):
        out = io.StringIO()
        call_command("load_demo", stdout=out)
        assert "olivia (officer)" in out.getvalue()
        counts = {m: m.objects.count() for m in (Partner, Contact, Engagement, TradeMission, Commitment, Agreement)}
        history = Engagement.history.count()
        call_command("load_demo", stdout=io.StringIO())
        assert {m: m.objects.count() for m in counts} == counts
        assert Engagement.history.count() == history

        mission = TradeMission.objects.get(name__contains="2018")
        assert mission.engagements.filter(title__contains="Prime Minister of Viet Nam").exists()
        assert Commitment.objects.filter(description__contains="nonstop").exists()
        assert Partner.objects.filter(name="Urban 20 (U20)", kind="city_network").exists()
        assert Partner.objects.get(name="UK Department for Transport").parent.name == "Government of the United Kingdom"
        for role in ("officer", "staff", "viewer"):
            assert Group.objects.get(name=role).user_set.exists()
        # Something to show on the dashboard whatever the day: the next fortnight is not empty.
        assert Engagement.objects.filter(starts_at__gte=timezone.now(),
                                         starts_at__lt=timezone.now() + dt.timedelta(days=14)).exists()
        assert Engagement.objects.filter(confidentiality="restricted").exists()


class TestHealth:
    def test_healthz_answers_ok_with_its_checks_and_needs_no_login(self, client):
        response = client.get("/healthz")
        assert response.status_code == 200
        # The suite runs on the embedded broker and mail (and SQLite unless DATABASE_URL is given).
        body = response.json()
        assert {k: body[k] for k in ("status", "database", "broker", "cache")} == {
            "status": "ok", "database": "ok", "broker": "ok", "cache": "ok"
        }
        assert {"broker", "mail"} <= set(body["embedded"])

    def test_healthz_is_503_when_the_broker_is_down(self, client, settings):
        from diplomacy_crm.celery import app

        previous = app.conf.broker_url
        app.conf.broker_url = "redis://127.0.0.1:1/0"
        try:
            response = client.get("/healthz")
        finally:
            app.conf.broker_url = previous
        assert response.status_code == 503
        assert response.json()["status"] == "error"
        assert response.json()["database"] == "ok"
        assert response.json()["broker"].startswith("error: ConnectionError: ")
        assert "Connection refused" in response.json()["broker"]


def test_models_and_migrations_agree():
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
