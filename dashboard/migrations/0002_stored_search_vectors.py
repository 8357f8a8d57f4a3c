"""Full-text search on PostgreSQL: a stored tsvector per searched table, with the GIN index on it.

0001 indexed the weighted tsvector *expression*. The index finds the matches,
but ranking (ts_rank) and any recheck had to run to_tsvector() again on the
text of every candidate row, which is most of a search's cost for a common
word. Here each searched table gets a column

    search_vector tsvector GENERATED ALWAYS AS (<the same expression>) STORED

which PostgreSQL computes on INSERT and UPDATE, and the GIN index
(same name as before, so plans and tests keep naming it) moves onto it.
dashboard/search.py ranks and filters on the column.

- The expression is 0001's, unchanged: the two-argument to_tsvector(regconfig,
  text) is IMMUTABLE, whatever dictionaries the `crm_unaccent` configuration
  (made in 0001: unaccent, then english_stem) chains, which is why 0001 could
  index it and why it may be a generated column.
- The column is not a model field: Django never selects or writes it
  (INSERT/UPDATE list model columns only, and PostgreSQL refuses writes to a
  generated column anyway), simple-history's historical tables are built from
  the model fields and do not get it, and seed_bench's COPY / INSERT ... SELECT
  name their columns.
- Caveat for later schema changes: PostgreSQL refuses to ALTER the type of a
  column a generated column reads (e.g. a longer max_length on Partner.name);
  such a migration must drop the search column first and re-add it (reverse
  and re-apply this operation's SQL for that table). Django drops a column
  with CASCADE, which would drop the search column silently with it.
- SQLite has no tsvector: there every operation does nothing (the search
  falls back to fold + LIKE).

SPECS is a frozen copy of dashboard.search.TYPES (a test checks they agree).
"""

from importlib import import_module

from django.db import migrations

CONFIG = "crm_unaccent"
COLUMN = "search_vector"

# (table, index name, ((column, weight), ...)), in the order of 0001.SPECS.
SPECS = [
    ("partners_partner", "search_partner_fts", (("name", "A"), ("city", "B"), ("description", "C"))),
    ("partners_contact", "search_contact_fts", (("full_name", "A"), ("title", "B"), ("protocol_notes", "C"))),
    ("engagements_engagement", "search_engagement_fts", (("title", "A"), ("summary", "B"), ("outcomes", "C"))),
    (
        "engagements_trademission",
        "search_mission_fts",
        (("name", "A"), ("cities", "B"), ("objectives", "C"), ("outcomes", "C")),
    ),
    ("engagements_commitment", "search_commitment_fts", (("description", "A"),)),
    ("partners_agreement", "search_agreement_fts", (("title", "A"), ("summary", "B"))),
]


def vector_sql(fields) -> str:
    """The weighted tsvector, as 0001's index (Django's SearchVector) spelled it."""
    parts = [
        f"setweight(to_tsvector('{CONFIG}'::regconfig, COALESCE(\"{column}\"::text, '')), '{weight}')"
        for column, weight in fields
    ]
    return " || ".join(parts)


def forward_sql(table, index, fields) -> list[str]:
    return [
        f'DROP INDEX IF EXISTS "{index}"',
        f'ALTER TABLE "{table}" ADD COLUMN "{COLUMN}" tsvector GENERATED ALWAYS AS ({vector_sql(fields)}) STORED',
        f'CREATE INDEX "{index}" ON "{table}" USING gin ("{COLUMN}")',
    ]


def reverse_sql(table, index, fields) -> list[str]:
    return [
        f'DROP INDEX IF EXISTS "{index}"',
        f'ALTER TABLE "{table}" DROP COLUMN IF EXISTS "{COLUMN}"',
    ]


def add_stored_vectors(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, index, fields in SPECS:
        for statement in forward_sql(table, index, fields):
            schema_editor.execute(statement)


def remove_stored_vectors(apps, schema_editor):
    """Back to 0001: no column, and 0001's expression indexes, built by 0001's own code."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, index, fields in SPECS:
        for statement in reverse_sql(table, index, fields):
            schema_editor.execute(statement)
    initial = import_module("dashboard.migrations.0001_search_indexes")
    for app_label, model_name, name, fields in initial.SPECS:
        schema_editor.add_index(apps.get_model(app_label, model_name), initial.gin_index(name, fields))


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0001_search_indexes"),
    ]

    operations = [migrations.RunPython(add_stored_vectors, remove_stored_vectors, elidable=False)]
