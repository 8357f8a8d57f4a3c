"""Restoring a record to one of its recorded versions."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from diplomacy_crm.services import save_record


@transaction.atomic
def record_restore(*, historical, actor):
    """Put the record back as it was in `historical` (a simple-history row), re-creating it if deleted.

    The fields come from `historical.instance`; many-to-many relations too,
    where the model records them. The restore is itself a change: it gets a
    history row with the reason "restored from <date>". Raises
    ValidationError when the old version breaks a rule today (for example,
    it points at a partner deleted since).
    """
    model = historical.instance_type
    instance = historical.instance
    current = model.objects.filter(pk=instance.pk).first()
    instance._state.adding = current is None
    when = timezone.localtime(historical.history_date).strftime("%Y-%m-%d %H:%M")
    instance._change_reason = f"restored from {when}"
    m2m_names = [f.name for f in getattr(historical, "_history_m2m_fields", [])]
    m2m_values = {}
    for name in m2m_names:
        target = model._meta.get_field(name).m2m_reverse_field_name()
        ids = [row[target] for row in getattr(historical, name).values(target)]
        related = model._meta.get_field(name).related_model
        existing = set(related._default_manager.filter(pk__in=ids).values_list("pk", flat=True))
        missing = sorted(set(ids) - existing)
        if missing:
            raise ValidationError({name: f"Records deleted since that version: ids {missing}."})
        m2m_values[name] = ids
    # One write, one history row (S8): the fields and relations of that version.
    save_record(instance, actor=actor, m2m=m2m_values)
    if current is None and hasattr(historical, "created_at"):
        # Re-created: auto_now_add stamped today; keep the original creation date.
        model.objects.filter(pk=instance.pk).update(created_at=historical.created_at)
    return instance
