"""The triage pages' query budgets: the same number of queries with 3 messages as with 40, none in templates."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mailcapture.models import CapturedMessage, MailboxPoll

pytestmark = pytest.mark.django_db


def build(n: int, senders: list) -> list[CapturedMessage]:
    MailboxPoll.objects.create(pk=1, error="")
    return [
        CapturedMessage.objects.create(
            message_id=f"<{uuid.uuid4().hex}@q>", raw=b"From: x@example.net\r\nSubject: Row\r\n\r\nRow body\r\n",
            subject=f"Row message {i}", from_address=f"sender{i}@example.net", from_name=f"Sender {i}",
            status="triage", reason="Unknown sender", sender=senders[i % len(senders)],
            confidentiality="restricted" if i % 3 == 0 else "",
        )
        for i in range(n)
    ]


def count(client, url) -> tuple[int, object]:
    client.get(url)  # warm per-process caches (content types)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries), response


@pytest.mark.parametrize("role", ["officer", "staff"])
def test_the_triage_list_costs_the_same_with_3_or_40_messages(client_for, staff_user, officer, role):
    client = client_for(role)
    counts = {}
    for size in (3, 40):
        CapturedMessage.objects.all().delete()
        MailboxPoll.objects.all().delete()
        messages = build(size, [staff_user, officer])
        counts[size], response = count(client, reverse("mailcapture:triage") + "?per_page=100")
        body = response.content.decode()
        # A colleague's message, marked or unmarked (restricted by default), is only for officers and its sender.
        visible = [m for m in messages if role == "officer" or m.sender == staff_user]
        assert body.count("class=\"mail-row") == len(visible) and body.count("<h1") == 1
        assert all(f"Row message {m.subject[12:]}<" in body for m in visible)
        detail_count, detail = count(client, reverse("mailcapture:triage-detail", args=[visible[-1].pk]))
        assert "Row body" in detail.content.decode()
        counts[f"detail {size}"] = detail_count
    assert counts[3] == counts[40] and counts["detail 3"] == counts["detail 40"], counts
    # session, user, role, perms, COUNT, page, last poll (+ the detail's partner picker count)
    assert counts[3] <= 8 and counts["detail 3"] <= 8, counts


@pytest.mark.parametrize("name", ["mailcapture:triage", "mailcapture:triage-detail"])
def test_the_triage_templates_run_no_queries(client_for, staff_user, officer, name, monkeypatch):
    import django.shortcuts

    import diplomacy_crm.views as shared

    messages = build(3, [staff_user])
    real_render = django.shortcuts.render

    def render_without_db(*args, **kwargs):
        def refuse(execute, sql, params, many, context):
            raise AssertionError(f"query in template: {sql}")

        with connection.execute_wrapper(refuse):
            return real_render(*args, **kwargs)

    monkeypatch.setattr(shared, "render", render_without_db)
    url = reverse(name, args=[messages[0].pk]) if name.endswith("detail") else reverse(name)
    assert client_for(officer).get(url).status_code == 200
