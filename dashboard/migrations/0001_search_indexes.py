"""Full-text search on PostgreSQL: an accent-insensitive configuration and one GIN index per searched type.

`crm_unaccent` is the english configuration with the unaccent dictionary in
front of the stemmer for words with non-ASCII letters, so "São Paulo" and
"Sao Paulo" give the same lexemes. Each index is built from the same
SearchVector expression the search query uses (dashboard/search.py), so the
planner can use it; SPECS below is a frozen copy of search.TYPES' fields,
and tests/unit/test_search_fallback.py checks that they still agree.

The indexes live here, with the search feature, rather than in the models'
Meta.indexes: the model state stays the same on every database, and on
SQLite (no tsvector, no GIN) every operation does nothing.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

CONFIG = "crm_unaccent"

SPECS = [
    ("partners", "Partner", "search_partner_fts", (("name", "A"), ("city", "B"), ("description", "C"))),
    ("partners", "Contact", "search_contact_fts", (("full_name", "A"), ("title", "B"), ("protocol_notes", "C"))),
    ("engagements", "Engagement", "search_engagement_fts", (("title", "A"), ("summary", "B"), ("outcomes", "C"))),
    (
        "engagements",
        "TradeMission",
        "search_mission_fts",
        (("name", "A"), ("cities", "B"), ("objectives", "C"), ("outcomes", "C")),
    ),
    ("engagements", "Commitment", "search_commitment_fts", (("description", "A"),)),
    ("partners", "Agreement", "search_agreement_fts", (("title", "A"), ("summary", "B"))),
]

CREATE_CONFIG = f"""
CREATE EXTENSION IF NOT EXISTS unaccent;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = '{CONFIG}') THEN
        CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = english);
        ALTER TEXT SEARCH CONFIGURATION {CONFIG}
            ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;
    END IF;
END
$$;
"""
DROP_CONFIG = f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIG};"


def vector(fields):
    result = None
    for name, weight in fields:
        part = SearchVector(name, weight=weight, config=CONFIG)
        result = part if result is None else result + part
    return result


def gin_index(name, fields):
    return GinIndex(vector(fields), name=name)


def create_search(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_CONFIG)
    for app_label, model_name, name, fields in SPECS:
        schema_editor.add_index(apps.get_model(app_label, model_name), gin_index(name, fields))


def drop_search(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for app_label, model_name, name, fields in SPECS:
        schema_editor.remove_index(apps.get_model(app_label, model_name), gin_index(name, fields))
    schema_editor.execute(DROP_CONFIG)


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0001_initial"),
        ("engagements", "0002_mission_countries_itinerary_order"),
    ]

    operations = [migrations.RunPython(create_search, drop_search, elidable=False)]
