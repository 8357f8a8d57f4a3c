"""Record versions: every write moves them on, whoever writes; save_record refuses a stale base."""

import pytest
from django.db import transaction

from diplomacy_crm.services import EditConflict, save_record
from engagements.models import Engagement
from partners.models import Topic
from tests import factories

pytestmark = pytest.mark.django_db


def test_every_save_increments_the_version_in_the_database():
    meeting = factories.EngagementFactory(title="Call")
    assert meeting.version == 1
    meeting.save()  # a plain save, as the back office does
    assert meeting.version == 2
    stamped = meeting.updated_at
    meeting.title = "Call with the consul"
    meeting.save(update_fields=["title"])
    fresh = Engagement.objects.get(pk=meeting.pk)
    assert (fresh.version, fresh.title) == (3, "Call with the consul")
    assert fresh.updated_at > stamped
    topic = Topic.objects.create(name="Ports", slug="ports")
    topic.save()
    assert Topic.objects.get(pk=topic.pk).version == 2


def test_a_stale_base_version_is_refused_and_nothing_is_written(staff_user):
    meeting = factories.EngagementFactory(title="Call", summary="First notes")
    rows = meeting.history.count()
    with transaction.atomic():
        save_record(meeting, actor=staff_user, fields={"summary": "Second notes", "version": 1})
    with pytest.raises(EditConflict) as raised, transaction.atomic():
        save_record(meeting, actor=staff_user, fields={"summary": "Stale notes", "version": 1})
    assert (raised.value.expected, raised.value.current) == (1, 2)
    fresh = Engagement.objects.get(pk=meeting.pk)
    assert (fresh.summary, fresh.version) == ("Second notes", 2)
    assert meeting.history.count() == rows + 1
    latest = meeting.history.latest("history_id")
    assert (latest.version, latest.summary, latest.history_user) == (2, "Second notes", staff_user)


def test_a_write_of_named_fields_keeps_the_others_as_stored(staff_user):
    meeting = factories.EngagementFactory(title="Call", location="City Hall")
    stale = Engagement.objects.get(pk=meeting.pk)
    Engagement.objects.filter(pk=meeting.pk).update(location="Harbour office")
    with transaction.atomic():
        save_record(stale, actor=staff_user, fields={"title": "Port call"})
    fresh = Engagement.objects.get(pk=meeting.pk)
    assert (fresh.title, fresh.location) == ("Port call", "Harbour office")
    assert stale.location == "Harbour office"  # the instance (and its history row) show the stored state
    assert meeting.history.latest("history_id").location == "Harbour office"


def test_a_restored_deleted_record_continues_its_versions(officer):
    from history.services import record_restore

    meeting = factories.EngagementFactory(title="Call")
    with transaction.atomic():
        save_record(meeting, actor=officer, fields={"title": "Call, renamed"})
    first, pk = meeting.history.earliest("history_id"), meeting.pk
    meeting.delete()
    restored = record_restore(historical=first, actor=officer)
    assert restored.version == 3  # after 1 and 2 (and the deletion's row at 2)
    assert Engagement.objects.get(pk=pk).version == 3
