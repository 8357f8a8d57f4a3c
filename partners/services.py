"""Writes for partners, contacts, topics and agreements. Views, the API and importers all call these.

Each service takes keyword-only arguments typed by a TypedDict (`PartnerFields` …,
PEP 692); a name it does not declare is a TypeError (`record_arguments`).
"""

import datetime as dt
from collections.abc import Iterable
from typing import Unpack

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from diplomacy_crm.services import RecordFields, record_arguments, save_record

from .models import Agreement, Contact, Partner, Topic

PARTNER_M2M = ("topics",)
AGREEMENT_M2M = ("partners",)


class PartnerFields(RecordFields, total=False):
    name: str
    kind: str  # Partner.Kind
    country: str  # ISO 3166-1 alpha-2, "" for international bodies
    city: str
    parent: Partner | None
    website: str
    description: str
    priority: int
    owner: AbstractBaseUser | None
    status: str  # Partner.Status
    external_id: str
    topics: Iterable[Topic]


class ContactFields(RecordFields, total=False):
    partner: Partner
    full_name: str
    honorific: str
    form_of_address: str
    title: str
    email: str
    phone: str
    languages: str
    protocol_notes: str
    is_active: bool
    external_id: str


class TopicFields(RecordFields, total=False):
    name: str
    slug: str


class AgreementFields(RecordFields, total=False):
    title: str
    kind: str  # Agreement.Kind
    signed_on: dt.date | None
    expires_on: dt.date | None
    notice_by: dt.date | None
    status: str  # Agreement.Status
    summary: str
    owner: AbstractBaseUser | None
    partners: Iterable[Partner]


@transaction.atomic
def partner_create(*, actor, **data: Unpack[PartnerFields]) -> Partner:
    fields, m2m = record_arguments(data, PartnerFields, PARTNER_M2M)
    return save_record(Partner(), actor=actor, fields=fields, m2m=m2m)


@transaction.atomic
def partner_update(*, partner: Partner, actor, **data: Unpack[PartnerFields]) -> Partner:
    fields, m2m = record_arguments(data, PartnerFields, PARTNER_M2M)
    return save_record(partner, actor=actor, fields=fields, m2m=m2m)


@transaction.atomic
def partner_archive(*, partner: Partner, actor) -> Partner:
    """Archive instead of deleting: the history and every link stay."""
    return save_record(partner, actor=actor, fields={"status": Partner.Status.INACTIVE})


@transaction.atomic
def contact_create(*, actor, **data: Unpack[ContactFields]) -> Contact:
    fields, _ = record_arguments(data, ContactFields)
    return save_record(Contact(), actor=actor, fields=fields)


@transaction.atomic
def contact_update(*, contact: Contact, actor, **data: Unpack[ContactFields]) -> Contact:
    fields, _ = record_arguments(data, ContactFields)
    return save_record(contact, actor=actor, fields=fields)


@transaction.atomic
def topic_create(*, actor, **data: Unpack[TopicFields]) -> Topic:
    fields, _ = record_arguments(data, TopicFields)
    return save_record(Topic(), actor=actor, fields=fields)


@transaction.atomic
def topic_update(*, topic: Topic, actor, **data: Unpack[TopicFields]) -> Topic:
    fields, _ = record_arguments(data, TopicFields)
    return save_record(topic, actor=actor, fields=fields)


@transaction.atomic
def agreement_create(*, actor, **data: Unpack[AgreementFields]) -> Agreement:
    fields, m2m = record_arguments(data, AgreementFields, AGREEMENT_M2M)
    return save_record(Agreement(), actor=actor, fields=fields, m2m=m2m)


@transaction.atomic
def agreement_update(*, agreement: Agreement, actor, **data: Unpack[AgreementFields]) -> Agreement:
    fields, m2m = record_arguments(data, AgreementFields, AGREEMENT_M2M)
    return save_record(agreement, actor=actor, fields=fields, m2m=m2m)
