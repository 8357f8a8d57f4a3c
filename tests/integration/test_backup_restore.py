"""Back up, destroy, restore: the data comes back identical (PostgreSQL)."""

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def fingerprint() -> dict[str, str]:
    """md5 of every row of every table of ours, in primary-key order."""
    with connection.cursor() as cursor:
        tables = [t for t in connection.introspection.table_names(cursor) if not t.startswith("django_session")]
        result = {}
        for table in tables:
            cursor.execute(f'SELECT count(*), md5(coalesce(string_agg(t::text, \'|\' ORDER BY t::text), \'\')) FROM "{table}" t')
            result[table] = cursor.fetchone()
    return result


def test_a_backup_restores_the_data_exactly(postgres_required, tmp_path):
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.fail("pg_dump/pg_restore are missing (postgresql-client)")
    call_command("load_demo", stdout=io.StringIO())
    before = fingerprint()
    assert before["partners_partner"][0] > 30 and before["engagements_historicalengagement"][0] > 10

    env = {**os.environ, "DATABASE_URL": database_url()}
    dump = tmp_path / "crm.dump"
    subprocess.run([ROOT / "scripts/backup.sh", dump], env=env, check=True, cwd=ROOT, capture_output=True)
    assert dump.stat().st_size > 10_000

    # Destroy: empty every table of the app.
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE engagements_commitment, engagements_gift, engagements_engagement, engagements_trademission, "
            "partners_contact, partners_agreement, partners_partner, partners_historicalpartner CASCADE"
        )
    assert fingerprint() != before

    connection.close()  # pg_restore --clean drops tables: hold no locks on them
    result = subprocess.run([ROOT / "scripts/restore.sh", dump], env=env, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert fingerprint() == before


def test_restore_refuses_a_corrupt_dump_and_changes_nothing(postgres_required, tmp_path):
    call_command("load_demo", stdout=io.StringIO())
    before = fingerprint()
    bad = tmp_path / "bad.dump"
    bad.write_bytes(b"PGDMP\x00garbage" * 100)
    connection.close()
    result = subprocess.run(
        [ROOT / "scripts/restore.sh", bad], env={**os.environ, "DATABASE_URL": database_url()},
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode != 0
    assert fingerprint() == before


def test_a_backup_is_private_and_copied_off_the_machine(postgres_required, tmp_path):
    """Dumps are 0600 (they hold every confidential note); BACKUP_COPY_CMD gets the finished dump."""
    offsite = tmp_path / "offsite"
    offsite.mkdir()
    copier = tmp_path / "copy-offsite"
    copier.write_text(f'#!/bin/sh\ncp "$1" {offsite}/\n')
    copier.chmod(0o755)
    env = {**os.environ, "DATABASE_URL": database_url(), "BACKUP_COPY_CMD": str(copier)}
    dump = tmp_path / "backups" / "crm.dump"
    result = subprocess.run([ROOT / "scripts/backup.sh", dump], env=env, cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(dump)
    assert dump.stat().st_mode & 0o777 == 0o600
    assert (offsite / "crm.dump").read_bytes() == dump.read_bytes()

    # A copy that fails fails the backup loudly, and the local dump is kept.
    failing = {**env, "BACKUP_COPY_CMD": "false"}
    second = tmp_path / "backups" / "crm2.dump"
    result = subprocess.run([ROOT / "scripts/backup.sh", second], env=failing, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 3 and "off-machine copy failed" in result.stderr
    assert second.stat().st_mode & 0o777 == 0o600
