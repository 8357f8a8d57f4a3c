"""Search inside documents: the attachments table gets the stored, GIN-indexed `search_vector` of 0002.

    search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('crm_unaccent', translate(filename, '._', '  ')), 'A')
        || setweight(to_tsvector('crm_unaccent', text), 'D')) STORED

- The file name is weight A, the text read from the file (attachments/
  textindex.py, at most ATTACHMENT_TEXT_MAX_CHARS) weight D, so a name hit
  outranks a hit deep in a document. Dots and underscores of the name are read
  as spaces: PostgreSQL's parser takes "minutes.pdf" for one host name and
  "signed_mou" for one word, so neither "minutes" nor "mou" would match.
  translate() is IMMUTABLE, as a generated column requires.
- Everything 0002 says holds here: the column is not a model field,
  simple-history's table does not get it (and leaves the text out anyway),
  and a later migration that ALTERs the type of `filename` or `text` must drop
  this column first and re-add it.
- A tsvector holds at most 1 MB; the worker halves a text whose vector would
  not fit (attachments/textindex.py `_store`), and the default 200,000
  characters stay well below it.
- SQLite: nothing (the search falls back to fold + LIKE).

SPECS is a frozen copy of the "document" entry of dashboard.search.TYPES (a test checks they agree).
"""

from django.db import migrations

CONFIG = "crm_unaccent"
COLUMN = "search_vector"

SPECS = [
    ("attachments_attachment", "search_document_fts", (("filename", "A"), ("text", "D"))),
]
# How a column is read into the vector, where not as it is.
READ_AS = {"filename": "translate(\"filename\", '._', '  ')"}


def vector_sql(fields) -> str:
    parts = []
    for column, weight in fields:
        value = READ_AS.get(column, f'"{column}"')
        parts.append(f"setweight(to_tsvector('{CONFIG}'::regconfig, COALESCE({value}::text, '')), '{weight}')")
    return " || ".join(parts)


def add_stored_vectors(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, index, fields in SPECS:
        schema_editor.execute(
            f'ALTER TABLE "{table}" ADD COLUMN "{COLUMN}" tsvector GENERATED ALWAYS AS ({vector_sql(fields)}) STORED'
        )
        schema_editor.execute(f'CREATE INDEX "{index}" ON "{table}" USING gin ("{COLUMN}")')


def remove_stored_vectors(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, index, _fields in SPECS:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{index}"')
        schema_editor.execute(f'ALTER TABLE "{table}" DROP COLUMN IF EXISTS "{COLUMN}"')


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0002_stored_search_vectors"),
        ("attachments", "0002_attachment_text"),
    ]

    operations = [migrations.RunPython(add_stored_vectors, remove_stored_vectors, elidable=False)]
