"""Model rules: database constraints, validation messages, choices, time zones."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from engagements.models import Commitment, Engagement
from partners.models import Agreement, Partner
from tests.factories import (
    AgreementFactory,
    CommitmentFactory,
    ContactFactory,
    EngagementFactory,
    PartnerFactory,
    TradeMissionFactory,
)

pytestmark = pytest.mark.django_db
LA = ZoneInfo("America/Los_Angeles")


def violates_constraint(fn) -> bool:
    try:
        with transaction.atomic():
            fn()
    except IntegrityError:
        return True
    return False


class TestEngagement:
    def test_the_database_refuses_an_engagement_that_ends_before_it_starts(self):
        start = timezone.now()
        assert violates_constraint(lambda: EngagementFactory(starts_at=start, ends_at=start - dt.timedelta(minutes=1)))
        assert violates_constraint(lambda: EngagementFactory(starts_at=start, ends_at=start))
        assert not violates_constraint(lambda: EngagementFactory(starts_at=start, ends_at=None))

    def test_validation_explains_the_end_date_rule(self):
        start = timezone.now()
        engagement = Engagement(title="Call", kind="call", starts_at=start, ends_at=start - dt.timedelta(hours=1))
        with pytest.raises(ValidationError) as err:
            engagement.full_clean()
        assert err.value.message_dict["ends_at"] == ["An engagement must end after it starts."]

    def test_times_keep_their_instant_whatever_zone_they_were_given_in(self):
        hanoi = dt.datetime(2018, 10, 9, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
        engagement = EngagementFactory(starts_at=hanoi, ends_at=hanoi + dt.timedelta(hours=1))
        engagement.refresh_from_db()
        assert engagement.starts_at == hanoi
        # Shown in the office's zone: 9:00 in Hanoi is 19:00 the day before in Los Angeles.
        assert timezone.localtime(engagement.starts_at).strftime("%Y-%m-%d %H:%M %Z") == "2018-10-08 19:00 PDT"

    def test_defaults_follow_the_contract(self):
        engagement = Engagement.objects.create(title="Letter", kind="correspondence", starts_at=timezone.now())
        assert (engagement.status, engagement.confidentiality) == ("planned", "internal")

    def test_unknown_choices_are_refused_by_validation(self):
        engagement = Engagement(title="x", kind="party", starts_at=timezone.now(), confidentiality="secret")
        with pytest.raises(ValidationError) as err:
            engagement.full_clean()
        assert set(err.value.message_dict) >= {"kind", "confidentiality"}


class TestTradeMission:
    def test_a_mission_cannot_end_before_it_starts(self):
        assert violates_constraint(
            lambda: TradeMissionFactory(start_date=dt.date(2018, 10, 7), end_date=dt.date(2018, 10, 6))
        )
        assert not violates_constraint(
            lambda: TradeMissionFactory(start_date=dt.date(2018, 10, 7), end_date=dt.date(2018, 10, 7))
        )

    def test_countries_are_real_iso_codes(self):
        mission = TradeMissionFactory(countries=["VN", "KR"])
        mission.refresh_from_db()
        assert [c.name for c in mission.countries] == ["Vietnam", "South Korea"]
        mission.countries = ["XX"]
        with pytest.raises(ValidationError):
            mission.full_clean()


class TestCommitment:
    def test_a_done_commitment_must_have_a_completion_date(self):
        assert violates_constraint(lambda: CommitmentFactory(status="done", completed_on=None))
        assert not violates_constraint(lambda: CommitmentFactory(status="done", completed_on=dt.date(2024, 1, 2)))

    def test_a_partner_commitment_names_the_partner(self):
        commitment = Commitment(description="They send the study", made_by="partner")
        with pytest.raises(ValidationError) as err:
            commitment.full_clean()
        assert "partner" in err.value.message_dict

    def test_overdue_means_open_and_past_due(self):
        today = dt.date(2026, 11, 25)
        late = CommitmentFactory(due_date=today - dt.timedelta(days=1))
        CommitmentFactory(due_date=today)  # due today: not overdue yet
        CommitmentFactory(due_date=today - dt.timedelta(days=5), status="done", completed_on=today)
        CommitmentFactory(due_date=today - dt.timedelta(days=5), status="dropped")
        assert list(Commitment.objects.overdue(today)) == [late]


class TestPartner:
    def test_priority_is_one_to_three(self):
        assert violates_constraint(lambda: PartnerFactory(priority=4))
        assert violates_constraint(lambda: PartnerFactory(priority=0))

    def test_a_country_must_be_a_real_iso_code(self):
        partner = Partner(name="Atlantis", kind="city", country="ZZ")
        with pytest.raises(ValidationError) as err:
            partner.full_clean()
        assert "country" in err.value.message_dict
        partner.country = "VN"
        partner.full_clean()
        assert partner.country.name == "Vietnam"

    def test_partners_nest_but_never_in_a_loop(self):
        government = PartnerFactory(name="Government of Japan", kind="national_government")
        ministry = PartnerFactory(name="METI", kind="national_government", parent=government)
        assert list(government.children.all()) == [ministry]
        government.parent = ministry
        with pytest.raises(ValidationError) as err:
            government.full_clean()
        assert "parent" in err.value.message_dict

    def test_external_ids_are_unique_but_may_be_empty(self):
        PartnerFactory(external_id="")
        PartnerFactory(external_id="")
        PartnerFactory(external_id="wikidata:Q1490")
        assert violates_constraint(lambda: PartnerFactory(external_id="wikidata:Q1490"))

    def test_contacts_protect_their_partner_from_deletion(self):
        contact = ContactFactory()
        from django.db.models import ProtectedError

        with pytest.raises(ProtectedError):
            contact.partner.delete()


class TestAgreement:
    def test_an_agreement_cannot_expire_before_it_is_signed(self):
        assert violates_constraint(
            lambda: AgreementFactory(signed_on=dt.date(2020, 1, 1), expires_on=dt.date(2019, 12, 31))
        )
        agreement = Agreement(title="MoU", kind="mou", signed_on=dt.date(2020, 1, 1), expires_on=dt.date(2019, 1, 1))
        with pytest.raises(ValidationError) as err:
            agreement.full_clean()
        assert err.value.message_dict["expires_on"] == ["An agreement cannot expire before it is signed."]
