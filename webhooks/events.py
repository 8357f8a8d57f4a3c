"""Record writes become webhook events, in the write's own transaction.

diplomacy_crm.services.save_record and diplomacy_crm.deletion.delete_record
send `record_saved` / `record_deleted` (diplomacy_crm.signals); these
receivers turn the writes of the five kinds of records integrators hear
about into an Event and one Delivery per active endpoint that subscribed to
its type and may receive it. A rollback of the write takes them too; the
delivery task is queued only after commit (and the every-minute scan
delivers whatever that queueing missed).

Cost per write: one query (the active endpoints) when no endpoint wants the
event; else three or four (event, deliveries, and for commitments the
previous history row and the engagement's confidentiality).
"""

import json

from django.conf import settings
from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from accounts.access import record_is_restricted

from .models import Delivery, Endpoint, Event

# (app label, model name) -> the object name in event types.
TRACKED = {
    ("partners", "partner"): "partner",
    ("engagements", "engagement"): "engagement",
    ("engagements", "commitment"): "commitment",
    ("partners", "agreement"): "agreement",
    ("engagements", "trademission"): "mission",
}
DONE = "done"


def object_name(model) -> str | None:
    return TRACKED.get((model._meta.app_label, model._meta.model_name))


def on_record_saved(sender, instance, created, **kwargs):
    name = object_name(sender)
    if name is None:
        return
    types = [f"{name}.{'created' if created else 'updated'}"]
    if name == "commitment" and _became_done(instance, created):
        types.append("commitment.done")
    record_events(instance, name, types)


def on_records_saved(sender, instances, created, **kwargs):
    """A bulk write (an import): one query when no endpoint wants these events, else as record_saved for each."""
    name = object_name(sender)
    if name is None or not instances:
        return
    endpoints = list(Endpoint.objects.filter(is_active=True).only("id", "event_types", "include_restricted"))
    types = [f"{name}.{'created' if created else 'updated'}"] + (["commitment.done"] if name == "commitment" else [])
    if not any(e.wants(t) for e in endpoints for t in types):
        return
    for instance in instances:
        on_record_saved(sender, instance, created)


def on_record_deleted(sender, instance, **kwargs):
    name = object_name(sender)
    if name is not None:
        record_events(instance, name, [f"{name}.deleted"], deleted=True)


def _became_done(commitment, created: bool) -> bool:
    """Status is done now and was not before this write (the history row before the one just written)."""
    if commitment.status != DONE:
        return False
    if created:
        return True
    rows = commitment.history.order_by("-history_date", "-history_id").values_list("status", flat=True)[:2]
    rows = list(rows)
    return len(rows) < 2 or rows[1] != DONE


def record_events(instance, name: str, types: list[str], *, deleted: bool = False) -> list[Event]:
    """Write the events of one write, for the endpoints that take them. Call inside the write's transaction."""
    endpoints = list(Endpoint.objects.filter(is_active=True).only("id", "event_types", "include_restricted"))
    wanted = {t: [e for e in endpoints if e.wants(t)] for t in types}
    if not any(wanted.values()):
        return []
    restricted = record_is_restricted(instance)
    if restricted:
        wanted = {t: [e for e in targets if e.include_restricted] for t, targets in wanted.items()}
        if not any(wanted.values()):
            return []
    data = _data(instance, name, deleted=deleted)
    now = timezone.now()
    events, deliveries = [], []
    for event_type, targets in wanted.items():
        if not targets:
            continue
        event = Event(type=event_type, object_type=name, object_id=instance.pk, restricted=restricted, occurred_at=now)
        event.body = json.dumps(
            {"type": event_type, "timestamp": now.isoformat(), "data": data},
            cls=DjangoJSONEncoder,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        events.append(event)
        deliveries += [
            Delivery(endpoint_id=e.pk, event=event, webhook_id=Delivery.make_webhook_id(event.pk, e.pk), next_attempt_at=now)
            for e in targets
        ]
    Event.objects.bulk_create(events)
    # Unique per (endpoint, event): a second write of the same row can only be ignored.
    Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    from .tasks import schedule_delivery

    schedule_delivery()
    return events


def _data(instance, name: str, *, deleted: bool) -> dict:
    """What receivers get about the record: its own fields (ids for links), or only its id once deleted."""
    data = {"object": name, "id": instance.pk}
    if deleted:
        data["deleted"] = True
        return data
    fields = serializers.serialize("python", [instance])[0]["fields"]
    data["fields"] = fields
    url = instance.get_absolute_url() if hasattr(instance, "get_absolute_url") else ""
    if url:
        data["url"] = settings.SITE_URL + url
    return data
