"""P6: the reminder scan reads its due commitments through the partial index, whatever the table size.

QUALITY.md P6 and test design 3.3: seed 100k commitments (~90 % done) and
100k engagements with `INSERT ... SELECT generate_series` (a few seconds),
ANALYZE, then `EXPLAIN (FORMAT JSON, ANALYZE, BUFFERS)` the exact SQL that
`notifications.selectors.due_commitments` emits (one range of due dates:
today - 62 days to today + the longest lead time in use), walk the plan and
assert:
- no Seq Scan on the commitment table (nor on engagements: they are not joined);
- the partial index `commitment_open_due` is used;
- the whole query touches at most 2 % of the commitment table's pages;
- the outbox lookup of existing keys (the anti-join of `services.enqueue`)
  uses the outbox's unique index.

The data: commitments were created day by day over ten years (~25 a day), each
due 1 to 8 weeks after it was created; the past ones are 97 % done, the ones
still ahead 45 % done, so ~9 % are open. Owners have lead times of 7 and 14
days. Descriptions are a realistic sentence (~140 characters); the 2 % share
depends on that. Every scan is the same: reminders go by window, so there is
no catch-up after a missed scan that would read more. The scan is an
index-only scan of a ~80-day range: right after the bulk load (no visibility
map yet) it also checks one heap page per row and is held to the window's
size; after VACUUM (what autovacuum does on a live table) to 2 % of the table.
"""

import datetime as dt
import json
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Profile
from diplomacy_crm.officetime import office_today
from engagements.models import Commitment, Engagement
from notifications import selectors, services
from notifications.models import OutboxMessage

from .notification_helpers import give_role

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.slow]

COMMITMENTS = 100_000
ENGAGEMENTS = 100_000
DAYS = 3650 + 365  # ten years back, one ahead
OUTBOX_ROWS = 50_000
PARTIAL_INDEX = "commitment_open_due"


def seed(today: dt.date, owner_ids: list[int]) -> None:
    owners = "ARRAY[" + ",".join(str(pk) for pk in owner_ids) + "]::bigint[]"
    start = today - dt.timedelta(days=3650)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Engagement._meta.db_table}
                (created_at, updated_at, title, kind, status, starts_at, location, is_virtual, city_officials,
                 summary, outcomes, confidentiality, owner_id, venue_timezone, ical_uid, ical_sequence)
            SELECT now(), now(), 'Meeting ' || g, 'meeting', 'held',
                   %(start)s::timestamptz + (g * interval '1 day' * {DAYS} / {ENGAGEMENTS}), 'City Hall', false, '',
                   '', '', CASE WHEN g %% 20 = 0 THEN 'restricted' ELSE 'internal' END,
                   ({owners})[1 + g %% {len(owner_ids)}], '', '', 0
            FROM generate_series(1, {ENGAGEMENTS}) AS g
            """,
            {"start": start},
        )
        cursor.execute(f"SELECT min(id) FROM {Engagement._meta.db_table}")
        first_engagement = cursor.fetchone()[0]
        # Row g was created on day `created` and is due 7 to 62 days later (a pseudo-random spread).
        cursor.execute(
            f"""
            INSERT INTO {Commitment._meta.db_table}
                (created_at, updated_at, description, made_by, engagement_id, owner_id, due_date, status,
                 completed_on, priority)
            SELECT now(), now(), 'Send the signed follow-up note on item ' || g
                   || ' to the consulate''s trade section, with the annex of contact persons and the draft agenda', 'city',
                   CASE WHEN g %% 3 = 0 THEN {first_engagement} + (g * 7919) %% {ENGAGEMENTS} END,
                   ({owners})[1 + (g * 31) %% {len(owner_ids)}], due,
                   CASE WHEN (g * 2654435761) %% 100 < CASE WHEN due < %(today)s THEN 97 ELSE 45 END
                        THEN 'done' WHEN g %% 2 = 0 THEN 'open' ELSE 'in_progress' END,
                   CASE WHEN (g * 2654435761) %% 100 < CASE WHEN due < %(today)s THEN 97 ELSE 45 END
                        THEN least(due, %(today)s) END,
                   2
            FROM (
                SELECT g, %(start)s::date + (g * {DAYS} / {COMMITMENTS} - 62) + 7 + (g * 7907) %% 56 AS due
                FROM generate_series(1, {COMMITMENTS}) AS g
            ) AS rows
            """,
            {"start": start, "today": today},
        )
        # A year of sent reminders in the outbox, so that its key lookup meets a real table.
        cursor.execute(
            f"""
            INSERT INTO {OutboxMessage._meta.db_table}
                (key, kind, to_email, subject_type, subject_id, period, summary, context, status, attempts,
                 failures, last_error, next_attempt_at, claim_token, rendered_subject, created_at, sent_at)
            SELECT 'commitment_due_soon:commitment:' || g || ':2000-01-01:u0', 'commitment_due_soon',
                   'old@city.example.org', 'commitment', g, '2000-01-01', '', '{{}}', 'sent', 1, 0, '', now(), '', '',
                   now(), now()
            FROM generate_series(1, {OUTBOX_ROWS}) AS g
            """
        )
        cursor.execute(f"ANALYZE {OutboxMessage._meta.db_table}")
        cursor.execute(f"ANALYZE {Commitment._meta.db_table}")
        cursor.execute(f"ANALYZE {Engagement._meta.db_table}")
        cursor.execute("ANALYZE auth_user")


def plan_nodes(node):
    yield node
    for child in node.get("Plans", ()):
        yield from plan_nodes(child)


def explain(queryset) -> dict:
    return json.loads(queryset.explain(format="json", analyze=True, buffers=True))[0]


def relpages(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpages FROM pg_class WHERE relname = %s", [table])
        return cursor.fetchone()[0]


@pytest.fixture
def big_office(postgres_required, django_user_model):
    owners = [django_user_model.objects.create_user(f"owner{i}", email=f"owner{i}@city.example.org") for i in range(40)]
    give_role(owners)
    Profile.objects.filter(user__in=owners[::4]).update(reminder_lead_days=14)
    today = office_today(timezone.now())
    seed(today, [o.pk for o in owners])
    return today


def assert_p6(plan: dict, label: str, *, share: float | None = 0.02) -> dict:
    table = Commitment._meta.db_table
    nodes = list(plan_nodes(plan["Plan"]))
    seq_scans = [n["Relation Name"] for n in nodes if n["Node Type"] == "Seq Scan"]
    indexes = {n["Index Name"] for n in nodes if "Index Name" in n}
    buffers = plan["Plan"]["Shared Hit Blocks"] + plan["Plan"]["Shared Read Blocks"]
    pages = relpages(table)
    figures = {
        "label": label,
        "rows": plan["Plan"]["Actual Rows"],
        "buffers": buffers,
        "pages": pages,
        "share": round(buffers / pages, 4),
        "ms": plan["Execution Time"],
        "indexes": sorted(indexes),
    }
    print(f"P6 {figures}")
    assert table not in seq_scans, (label, figures, seq_scans)
    assert Engagement._meta.db_table not in seq_scans, (label, figures, seq_scans)
    assert PARTIAL_INDEX in indexes, (label, figures)
    if share is not None:
        assert buffers <= share * pages, (label, figures)
    return figures


def _sessions_holding_back_vacuum(cursor) -> list:
    """Other sessions of this database with a snapshot or a transaction id (an autoanalyze started
    during the bulk load, a test's idle transaction): VACUUM cannot mark pages all-visible past them."""
    cursor.execute(
        "SELECT pid, backend_type, state, backend_xmin, backend_xid, left(query, 200) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL)"
    )
    return cursor.fetchall()


def _vacuum_as_autovacuum_would(cursor, table: str, wait: float = 5.0) -> list:
    """VACUUM ANALYZE `table` once no other session holds it back (waiting up to `wait` s); returns
    the sessions still holding it back (for the failure message)."""
    deadline = time.monotonic() + wait
    while (holders := _sessions_holding_back_vacuum(cursor)) and time.monotonic() < deadline:
        time.sleep(0.2)
    # The test database commits asynchronously (test_settings); VACUUM marks a page all-visible only
    # once its rows' commit hint bits are set, which waits for their WAL to reach disk. One synchronous
    # commit flushes everything before it.
    cursor.execute("SET synchronous_commit = on")
    cursor.execute("SELECT txid_current()")
    cursor.execute(f"VACUUM ANALYZE {table}")
    cursor.execute("RESET synchronous_commit")
    return holders


@pytest.mark.django_db(transaction=True)  # VACUUM cannot run inside the test's transaction
def test_p6_reminder_scan_reads_a_few_index_pages_not_the_table(big_office):
    today = big_office
    assert Commitment.objects.count() == COMMITMENTS
    open_share = Commitment.objects.open().count() / COMMITMENTS
    assert 0.05 < open_share < 0.15, open_share  # ~90 % done, as P6 states
    leads = {owner.lead_days for owner in selectors.reminder_owners().values()}
    assert leads == {7, 14}
    first, last = selectors.scan_window(today, leads)
    assert (today - first).days == 62 and (last - today).days == 14

    # Straight after a bulk load no heap page is all-visible yet, so the index-only scan checks
    # one heap page per row it returns: bounded by the window's rows, not by the table.
    cold = assert_p6(explain(selectors.due_commitments(today, leads=leads)), "window, before VACUUM", share=None)
    assert 20 <= cold["rows"] <= 600, cold
    assert cold["buffers"] <= cold["rows"] + 30, cold
    # Autovacuum sets the visibility map of a live table (QUALITY, Calibration): then the
    # window is a few pages of the partial index, well within 2 % of the table.
    # A live table is vacuumed again and again; here a few rounds stand in for that, each once
    # other sessions let go (a busy machine's autoanalyze can hold the first one back).
    holders = []
    with connection.cursor() as cursor:
        for _ in range(5):
            holders = _vacuum_as_autovacuum_would(cursor, Commitment._meta.db_table)
            plan = explain(selectors.due_commitments(today, leads=leads))
            if plan["Plan"]["Shared Hit Blocks"] + plan["Plan"]["Shared Read Blocks"] <= 0.02 * relpages(Commitment._meta.db_table):
                break
            print(f"P6: the visibility map is not set yet; sessions holding VACUUM back: {holders}")
            time.sleep(1)
    warm = assert_p6(explain(selectors.due_commitments(today, leads=leads)), "window")
    assert warm["rows"] == cold["rows"]


def test_p6_the_scan_finds_each_window_and_the_outbox_lookup_uses_its_unique_index(big_office):
    today = big_office
    now = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        created = services.enqueue_due_reminders(now=now)
    assert created > 20
    assert len(queries) <= 10, [q["sql"][:100] for q in queries.captured_queries]
    # Every reminder written is for a commitment whose window holds today.
    periods = OutboxMessage.objects.exclude(period="2000-01-01").values_list("kind", "period")
    for kind, period in periods:
        due = dt.date.fromisoformat(period.split("/")[0])
        if kind == OutboxMessage.Kind.COMMITMENT_DUE_TODAY:
            assert due == today
        elif kind == OutboxMessage.Kind.COMMITMENT_OVERDUE:
            assert period.endswith(f"/w{(today - due).days // 7}") and 1 <= (today - due).days <= 62
        else:
            assert 1 <= (due - today).days <= 14
    # A second scan of the same hour writes nothing and reads no details.
    with CaptureQueriesContext(connection) as again:
        assert services.enqueue_due_reminders(now=now) == 0
    assert len(again) <= len(queries)

    # The anti-join of services.enqueue: which of these keys are already in the outbox.
    keys = list(OutboxMessage.objects.exclude(period="2000-01-01").values_list("key", flat=True)) + ["none:0:0:x:u0"]
    plan = explain(OutboxMessage.objects.filter(key__in=keys).values_list("key", flat=True))
    nodes = list(plan_nodes(plan["Plan"]))
    unique_index = {n.get("Index Name") for n in nodes} & {
        index for index in _unique_indexes(OutboxMessage._meta.db_table)
    }
    assert unique_index, [(n["Node Type"], n.get("Index Name")) for n in nodes]
    assert not [n for n in nodes if n["Node Type"] == "Seq Scan"]


def _unique_indexes(table: str) -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    # The unique index, or its varchar_pattern_ops twin Django adds for LIKE (the same column,
    # equally good for equality; the planner picks either for a few hundred keys).
    return {name for name, c in constraints.items() if c["columns"] == ["key"] and c["index"] or c["unique"] and c["columns"] == ["key"]}
