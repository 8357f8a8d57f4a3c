"""A whole-database fingerprint for "nothing changed" assertions.

Every row of every table of the core apps (partners, engagements): the
records, their many-to-many links, their history rows and the history of
their links, each table read in key order and hashed. Two equal snapshots
mean not a byte of those tables changed: no row written, touched, linked,
unlinked or deleted, and no history row added.
"""

import hashlib

from django.apps import apps
from django.db import connection

SNAPSHOT_APPS = ("partners", "engagements")


def core_tables() -> list[str]:
    tables = set()
    for label in SNAPSHOT_APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            tables.add(model._meta.db_table)
    return sorted(tables)


def database_snapshot() -> dict[str, str]:
    """table name -> md5 of all its rows in key order (plus the row count, for readable diffs)."""
    digests = {}
    with connection.cursor() as cursor:
        for table in core_tables():
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted} ORDER BY 1")  # noqa: S608 (table names from the app registry)
            rows = cursor.fetchall()
            digest = hashlib.md5(repr(rows).encode(), usedforsecurity=False).hexdigest()
            digests[table] = f"{len(rows)} rows {digest}"
    return digests
