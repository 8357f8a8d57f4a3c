"""Merge a duplicate partner or contact into the one that stays. Officers only.

Everything that points at the duplicate is moved to the survivor in one
transaction: every foreign key (contacts, commitments, gifts, child
partners, …) and every many-to-many link (engagements, agreements, trade
missions, delegates), found from the model's relations so a relation added
later is moved too. The survivor's empty fields are filled from the
duplicate, its history records "merged #<id> <name>", and the duplicate is
then deleted. Its history rows stay (with a deletion row saying where it went).
Deleting last, through the one delete rule (diplomacy_crm.deletion), is a
safety net: a relation that was not moved keeps the duplicate, the delete is
refused and the whole merge is rolled back; a webhook "deleted" event goes out
for the duplicate like for any other delete.
"""

from django.core.exceptions import ValidationError
from django.db import models, transaction

from diplomacy_crm.deletion import RecordInUse, delete_record
from diplomacy_crm.services import save_record
from partners.models import Contact, Partner

REASON_MAX = 100  # simple-history's history_change_reason column
PARTNER_FILL = ("country", "city", "website", "description", "owner", "parent", "external_id")
CONTACT_FILL = ("honorific", "form_of_address", "title", "email", "phone", "languages", "protocol_notes", "external_id")


def _reason(text: str) -> str:
    return text[:REASON_MAX]


def related_counts(record: models.Model) -> dict[str, int]:
    """How many records point at `record`, per relation: what a merge will move."""
    counts = {}
    for rel in record._meta.related_objects:
        accessor = rel.get_accessor_name()
        if rel.many_to_many:
            count = rel.through.objects.filter(**{rel.field.m2m_reverse_field_name(): record}).count()
        else:
            count = rel.related_model._default_manager.filter(**{rel.field.name: record}).count()
        if count:
            counts[accessor.replace("_", " ")] = count
    return counts


def _move_links(survivor, duplicate, actor, reason: str) -> None:
    for rel in duplicate._meta.related_objects:
        if rel.many_to_many:
            through = rel.through
            owner, target = rel.field.m2m_field_name(), rel.field.m2m_reverse_field_name()
            already = through.objects.filter(**{target: survivor}).values_list(f"{owner}_id", flat=True)
            # A record linked to both keeps one link.
            through.objects.filter(**{target: duplicate, f"{owner}_id__in": list(already)}).delete()
            through.objects.filter(**{target: duplicate}).update(**{target: survivor})
        elif rel.one_to_many or rel.one_to_one:
            name = rel.field.name
            for obj in rel.related_model._default_manager.filter(**{name: duplicate}):
                if obj.pk == survivor.pk and type(obj) is type(survivor):
                    continue  # the survivor sat below the duplicate: handled by the caller
                setattr(obj, name, survivor)
                obj._history_user = actor
                obj._change_reason = reason
                update_fields = [rel.field.attname]
                if any(f.name == "updated_at" for f in obj._meta.fields):
                    update_fields.append("updated_at")
                obj.save(update_fields=update_fields)


def _fill_blanks(survivor, duplicate, names) -> dict:
    fill = {}
    for name in names:
        field = survivor._meta.get_field(name)
        mine = getattr(survivor, field.attname)
        theirs = getattr(duplicate, field.attname)
        if mine in (None, "") and theirs not in (None, ""):
            fill[name] = getattr(duplicate, name)
    return fill


def _delete(duplicate, actor, reason: str) -> None:
    """The one delete rule (diplomacy_crm.deletion): refused while anything still points at the duplicate."""
    try:
        delete_record(duplicate, actor=actor, reason=reason)
    except RecordInUse as exc:
        left = ", ".join(ref.kind for ref in exc.references)
        raise ValidationError(f"Some records still point at the duplicate ({left}); nothing was merged.") from None


@transaction.atomic
def partner_merge(*, survivor: Partner, duplicate: Partner, actor) -> Partner:
    """Move everything of `duplicate` to `survivor`, then delete `duplicate`. Returns the survivor."""
    if survivor.pk == duplicate.pk:
        raise ValidationError("Choose two different partners.")
    # Lock both rows: a second merge of the same pair waits, then finds the duplicate gone.
    locked = Partner.objects.select_for_update().in_bulk([survivor.pk, duplicate.pk])
    if len(locked) != 2:
        raise ValidationError("One of the partners no longer exists (merged already?).")
    survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
    reason = _reason(f"merged #{duplicate.pk} {duplicate.name}")
    fill = _fill_blanks(survivor, duplicate, PARTNER_FILL)
    if survivor.parent_id == duplicate.pk:
        fill["parent"] = duplicate.parent if duplicate.parent_id != survivor.pk else None
    if fill.get("parent") is not None and fill["parent"].pk == survivor.pk:
        fill.pop("parent")
    if "external_id" in fill:
        # Unique: free it on the duplicate before the survivor takes it.
        Partner.objects.filter(pk=duplicate.pk).update(external_id="")
    _move_links(survivor, duplicate, actor, reason)
    # Topics of both, in the survivor's one history row of the merge.
    topics = set(survivor.topics.values_list("pk", flat=True)) | set(duplicate.topics.values_list("pk", flat=True))
    survivor._change_reason = reason
    survivor = save_record(survivor, actor=actor, fields=fill, m2m={"topics": topics})
    duplicate.refresh_from_db()
    _delete(duplicate, actor, _reason(f"merged into #{survivor.pk} {survivor.name}"))
    return survivor


@transaction.atomic
def contact_merge(*, survivor: Contact, duplicate: Contact, actor) -> Contact:
    """Move everything of `duplicate` to `survivor` (engagements, missions), then delete `duplicate`."""
    if survivor.pk == duplicate.pk:
        raise ValidationError("Choose two different contacts.")
    locked = Contact.objects.select_for_update().in_bulk([survivor.pk, duplicate.pk])
    if len(locked) != 2:
        raise ValidationError("One of the contacts no longer exists (merged already?).")
    survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
    reason = _reason(f"merged #{duplicate.pk} {duplicate.full_name}")
    fill = _fill_blanks(survivor, duplicate, CONTACT_FILL)
    if "external_id" in fill:
        Contact.objects.filter(pk=duplicate.pk).update(external_id="")
    _move_links(survivor, duplicate, actor, reason)
    survivor._change_reason = reason
    survivor = save_record(survivor, actor=actor, fields=fill)
    duplicate.refresh_from_db()
    _delete(duplicate, actor, _reason(f"merged into #{survivor.pk} {survivor.full_name}"))
    return survivor
