"""factory_boy factories for the core models (realistic, small)."""

import datetime as dt

import factory
from django.utils import timezone

from engagements.models import Commitment, Engagement, Gift, TradeMission
from partners.models import Agreement, Contact, Partner, Topic


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partner {n}")
    kind = Partner.Kind.CITY
    country = "JP"
    city = "Tokyo"
    priority = 2


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    partner = factory.SubFactory(PartnerFactory)
    full_name = factory.Sequence(lambda n: f"Contact Person {n}")
    honorific = "H.E."
    title = "Consul General"
    protocol_notes = "Addressed as Excellency."


class TradeMissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TradeMission

    name = factory.Sequence(lambda n: f"Trade mission {n}")
    direction = TradeMission.Direction.OUTBOUND
    countries = ["VN"]
    cities = "Hanoi, Ho Chi Minh City"
    start_date = dt.date(2018, 10, 8)
    end_date = dt.date(2018, 10, 14)
    lead = "The Mayor"


class EngagementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Engagement
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Meeting {n}")
    kind = Engagement.Kind.BILATERAL_MEETING
    status = Engagement.Status.HELD
    starts_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=3))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(hours=1))
    location = "City Hall"
    confidentiality = Engagement.Confidentiality.INTERNAL

    @factory.post_generation
    def partners(self, create, extracted, **kwargs):
        if create and extracted:
            self.partners.set(extracted)

    @factory.post_generation
    def staff(self, create, extracted, **kwargs):
        if create and extracted:
            self.staff.set(extracted)

    @factory.post_generation
    def contacts(self, create, extracted, **kwargs):
        if create and extracted:
            self.contacts.set(extracted)

    @factory.post_generation
    def topics(self, create, extracted, **kwargs):
        if create and extracted:
            self.topics.set(extracted)


class CommitmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commitment

    description = factory.Sequence(lambda n: f"Send the follow-up letter {n}")
    made_by = Commitment.MadeBy.CITY
    due_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=10))
    status = Commitment.Status.OPEN


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agreement
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Memorandum {n}")
    kind = Agreement.Kind.MOU
    signed_on = dt.date(2020, 11, 1)
    status = Agreement.Status.IN_FORCE

    @factory.post_generation
    def partners(self, create, extracted, **kwargs):
        if create and extracted:
            self.partners.set(extracted)


class GiftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Gift

    direction = Gift.Direction.RECEIVED
    exchanged_on = dt.date(2024, 5, 1)
    giver = "H.E. the Ambassador"
    recipient = "The Mayor"
    description = "Lacquered box"
    estimated_value = 250
    currency = "USD"
