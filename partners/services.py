"""Writes for partners, contacts, topics and agreements. Views, the API and importers all call these."""

from django.db import transaction

from diplomacy_crm.services import save_record, split_m2m

from .models import Agreement, Contact, Partner, Topic

PARTNER_M2M = ("topics",)
AGREEMENT_M2M = ("partners",)


@transaction.atomic
def partner_create(*, actor, **data) -> Partner:
    fields, m2m = split_m2m(data, PARTNER_M2M)
    return save_record(Partner(), actor=actor, fields=fields, m2m=m2m)


@transaction.atomic
def partner_update(*, partner: Partner, actor, **data) -> Partner:
    fields, m2m = split_m2m(data, PARTNER_M2M)
    return save_record(partner, actor=actor, fields=fields, m2m=m2m)


@transaction.atomic
def partner_archive(*, partner: Partner, actor) -> Partner:
    """Archive instead of deleting: the history and every link stay."""
    return save_record(partner, actor=actor, fields={"status": Partner.Status.INACTIVE})


@transaction.atomic
def contact_create(*, actor, **data) -> Contact:
    return save_record(Contact(), actor=actor, fields=data)


@transaction.atomic
def contact_update(*, contact: Contact, actor, **data) -> Contact:
    return save_record(contact, actor=actor, fields=data)


@transaction.atomic
def topic_create(*, actor, **data) -> Topic:
    return save_record(Topic(), actor=actor, fields=data)


@transaction.atomic
def topic_update(*, topic: Topic, actor, **data) -> Topic:
    return save_record(topic, actor=actor, fields=data)


@transaction.atomic
def agreement_create(*, actor, **data) -> Agreement:
    fields, m2m = split_m2m(data, AGREEMENT_M2M)
    return save_record(Agreement(), actor=actor, fields=fields, m2m=m2m)


@transaction.atomic
def agreement_update(*, agreement: Agreement, actor, **data) -> Agreement:
    fields, m2m = split_m2m(data, AGREEMENT_M2M)
    return save_record(agreement, actor=actor, fields=fields, m2m=m2m)
