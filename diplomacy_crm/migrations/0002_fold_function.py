"""`crm_fold(text)` on PostgreSQL: lower(unaccent(text)), the accent folding of the list and API filters.

SQLite gets the same function from Python (diplomacy_crm.text.register_sqlite_fold);
this migration does nothing there.
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE OR REPLACE FUNCTION crm_fold(text) RETURNS text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    AS $$ SELECT lower(unaccent($1)) $$;
"""
DROP = "DROP FUNCTION IF EXISTS crm_fold(text);"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("diplomacy_crm", "0001_submit_token")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
