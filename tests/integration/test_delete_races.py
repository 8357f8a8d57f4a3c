"""Deletes never orphan, under concurrency (PostgreSQL, real threads and connections).

One thread deletes a partner while another names it on an engagement (or
adds a contact to it). Whatever the interleaving, never both succeed: either
the delete is refused because the link is there, or the partner is gone and
the link failed, leaving no engagement without its partner. Two people
deleting the same record at once delete it once, with one deletion row.
"""

import threading
import time

import pytest
from django.db import connection

from diplomacy_crm.deletion import RecordInUse, delete_record
from engagements.models import Engagement
from engagements.services import engagement_update
from partners.models import Contact, Partner
from partners.services import contact_create
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 12


def _race(link, unlink_target, officer, delay: float):
    """Run the link and the delete at once (the delete `delay` seconds later, to vary who wins)."""
    barrier = threading.Barrier(2)
    outcome = {}

    def run(name, action):
        try:
            barrier.wait(timeout=10)
            if name == "delete":
                time.sleep(delay)
            action()
            outcome[name] = "ok"
        except RecordInUse:
            outcome[name] = "refused"
        except Exception as exc:  # noqa: BLE001 (the losing link fails on the database's foreign key)
            outcome[name] = f"{type(exc).__name__}: {str(exc)[:60]}"
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=("link", link)),
        threading.Thread(target=run, args=("delete", lambda: delete_record(unlink_target(), actor=officer))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcome


def test_a_delete_racing_a_new_link_never_orphans(postgres_required, officer):
    seen = set()
    for round_ in range(ROUNDS):
        partner = factories.PartnerFactory()
        engagement = factories.EngagementFactory()

        def link(pk=engagement.pk, named=partner):
            engagement_update(engagement=Engagement.objects.get(pk=pk), actor=officer, partners=[named])

        outcome = _race(link, lambda pk=partner.pk: Partner.objects.get(pk=pk), officer, delay=(round_ % 4) * 0.01)
        seen.add((outcome["link"][:40], outcome["delete"]))
        exists = Partner.objects.filter(pk=partner.pk).exists()
        linked = list(Engagement.objects.get(pk=engagement.pk).partners.values_list("pk", flat=True))
        if outcome["delete"] == "ok":
            assert not exists and linked == [] and outcome["link"] != "ok", outcome
        else:
            assert outcome == {"link": "ok", "delete": "refused"}, outcome
            assert exists and linked == [partner.pk]
    print(f"\ndelete vs link outcomes over {ROUNDS} rounds: {sorted(seen)}")


def test_a_delete_racing_a_new_contact_never_orphans(postgres_required, officer):
    for round_ in range(ROUNDS):
        partner = factories.PartnerFactory()
        outcome = _race(
            lambda named=partner: contact_create(actor=officer, partner=named, full_name="New"),
            lambda pk=partner.pk: Partner.objects.get(pk=pk),
            officer,
            delay=(round_ % 4) * 0.01,
        )
        exists = Partner.objects.filter(pk=partner.pk).exists()
        contacts = Contact.objects.filter(partner_id=partner.pk).count()
        assert not (outcome["link"] == "ok" and outcome["delete"] == "ok"), outcome
        assert exists or contacts == 0


def test_two_deletes_of_one_record_delete_it_once(postgres_required, officer):
    from django.http import Http404

    for _ in range(ROUNDS // 2):
        contact = factories.ContactFactory()
        barrier = threading.Barrier(2)
        outcomes = []

        def delete(pk=contact.pk):
            try:
                stale = Contact.objects.get(pk=pk)
                barrier.wait(timeout=10)
                delete_record(stale, actor=officer)
                outcomes.append("deleted")
            except Http404:
                outcomes.append("gone")
            finally:
                connection.close()

        threads = [threading.Thread(target=delete) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(outcomes) == ["deleted", "gone"]
        assert Contact.history.filter(id=contact.pk, history_type="-").count() == 1
