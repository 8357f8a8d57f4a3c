"""Back up, destroy, restore: the data comes back identical (PostgreSQL), and the attachments' files with it."""

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


@pytest.fixture
def attachment_root(settings, tmp_path):
    """The attachments' file-system storage, in this test's directory, for the app and the scripts alike."""
    root = tmp_path / "attachments"
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    return root


def script_env(attachment_root, **extra) -> dict:
    return {**os.environ, "DATABASE_URL": database_url(), "ATTACHMENT_ROOT": str(attachment_root), **extra}


def fingerprint() -> dict[str, str]:
    """md5 of every row of every table of ours, in primary-key order."""
    with connection.cursor() as cursor:
        tables = [t for t in connection.introspection.table_names(cursor) if not t.startswith("django_session")]
        result = {}
        for table in tables:
            cursor.execute(f'SELECT count(*), md5(coalesce(string_agg(t::text, \'|\' ORDER BY t::text), \'\')) FROM "{table}" t')
            result[table] = cursor.fetchone()
    return result


def test_a_backup_restores_the_data_exactly(postgres_required, tmp_path, attachment_root):
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.fail("pg_dump/pg_restore are missing (postgresql-client)")
    call_command("load_demo", stdout=io.StringIO())
    before = fingerprint()
    assert before["partners_partner"][0] > 30 and before["engagements_historicalengagement"][0] > 10

    env = script_env(attachment_root)
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


def test_restore_refuses_a_corrupt_dump_and_changes_nothing(postgres_required, tmp_path, attachment_root):
    call_command("load_demo", stdout=io.StringIO())
    before = fingerprint()
    bad = tmp_path / "bad.dump"
    bad.write_bytes(b"PGDMP\x00garbage" * 100)
    connection.close()
    result = subprocess.run(
        [ROOT / "scripts/restore.sh", bad], env=script_env(attachment_root),
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode != 0
    assert fingerprint() == before


def test_a_backup_is_private_and_copied_off_the_machine(postgres_required, tmp_path, attachment_root):
    """Dumps and archives are 0600 (they hold every confidential note and file); BACKUP_COPY_CMD gets both."""
    offsite = tmp_path / "offsite"
    offsite.mkdir()
    copier = tmp_path / "copy-offsite"
    copier.write_text(f'#!/bin/sh\ncp "$1" {offsite}/\n')
    copier.chmod(0o755)
    env = script_env(attachment_root, BACKUP_COPY_CMD=str(copier))
    dump = tmp_path / "backups" / "crm.dump"
    archive = tmp_path / "backups" / "crm.attachments.tar.gz"
    result = subprocess.run([ROOT / "scripts/backup.sh", dump], env=env, cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(dump), str(archive)]
    assert dump.stat().st_mode & 0o777 == 0o600 and archive.stat().st_mode & 0o777 == 0o600
    assert (offsite / "crm.dump").read_bytes() == dump.read_bytes()
    assert (offsite / "crm.attachments.tar.gz").read_bytes() == archive.read_bytes()

    # A copy that fails fails the backup loudly, and the local dump is kept.
    failing = {**env, "BACKUP_COPY_CMD": "false"}
    second = tmp_path / "backups" / "crm2.dump"
    result = subprocess.run([ROOT / "scripts/backup.sh", second], env=failing, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 3 and "off-machine copy failed" in result.stderr
    assert second.stat().st_mode & 0o777 == 0o600


def test_a_restore_brings_the_attachments_files_back(postgres_required, tmp_path, attachment_root):
    """Rows and files, replaced versions included: after the restore every row's file is there, byte for byte."""
    import hashlib

    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    from attachments.models import Attachment
    from attachments.services import attach_files, replace_file, storage
    from tests.factories import EngagementFactory
    from tests.world import make_cast_member

    officer = make_cast_member(get_user_model(), "officer")
    meeting = EngagementFactory(title="Port cooperation talks")
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    letter, notes = attach_files(
        record=meeting, actor=officer,
        uploads=[SimpleUploadedFile("letter.pdf", pdf), SimpleUploadedFile("notes.txt", b"Agenda: ports.\n")],
    )  # fmt: skip
    replace_file(attachment=notes, upload=SimpleUploadedFile("notes v2.txt", b"Agenda: ports, rail.\n"), actor=officer)
    before = fingerprint()
    versions = {(row["blob"], row["sha256"]) for row in Attachment.history.values("blob", "sha256")}
    assert len(versions) == 3  # the letter, and both versions of the notes

    env = script_env(attachment_root)
    dump = tmp_path / "crm-20261206-020000.dump"
    result = subprocess.run([ROOT / "scripts/backup.sh", dump], env=env, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr

    # Lose both: the rows (and their history) and the directory of files.
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE attachments_attachment, attachments_historicalattachment")
    shutil.rmtree(attachment_root)
    assert Attachment.objects.count() == 0 and not attachment_root.exists()

    connection.close()
    result = subprocess.run([ROOT / "scripts/restore.sh", dump], env=env, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert fingerprint() == before
    for blob, sha256 in versions:  # every version a row or history row names, as it was
        assert hashlib.sha256(storage().open(blob).read()).hexdigest() == sha256
    # And the download serves them again.
    from django.test import Client

    client = Client()
    client.force_login(officer)
    response = client.get(f"/attachments/{letter.pk}/download/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == pdf


def test_a_restore_without_the_files_archive_says_so(postgres_required, tmp_path, attachment_root):
    # An older backup (a dump alone): the database comes back; the missing files are named, not silently skipped.
    env = script_env(attachment_root)
    dump = tmp_path / "crm.dump"
    subprocess.run([ROOT / "scripts/backup.sh", dump], env=env, cwd=ROOT, check=True, capture_output=True)
    (tmp_path / "crm.attachments.tar.gz").unlink()
    connection.close()
    result = subprocess.run([ROOT / "scripts/restore.sh", dump], env=env, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "the attachments' files were not restored" in result.stderr
