"""The import pass: one transaction, a savepoint per row, rolled back for a dry run or on any bad row (see imports/importer.py).

With `skip_invalid` a commit writes the good rows and leaves the bad ones
out (each bad row's savepoint is rolled back, so nothing of it stays): all
the good rows or none, in one transaction. Every bad row is listed
(`ImportResult.errors`, one entry per problem) whatever the choice, so the
check shows them all and `bad_rows_file` can give them back.
"""

from collections.abc import Callable
from contextlib import nullcontext

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from .importer import (
    KINDS,
    PREVIEW_ROWS,
    ImportResult,
    MappingError,
    RowError,
    RowInvalid,
    TemplateGap,
    _cells_of,
    _is_empty,
    _Rollback,
    check_mapping,
    default_mapping,
)
from .reader import Table
from .rows import IMPORTERS, Cells, validation_errors

# --- The pass ------------------------------------------------------------------------

# One key for every import commit: commits run one after another, so two jobs
# of one file (or two files naming the same partner) cannot both find a record
# missing and both create it; the second commit matches what the first wrote.
COMMIT_LOCK_KEY = 0x1D_1A4E_0016


def _serialize_commits() -> None:
    """Wait for any other import commit to finish (PostgreSQL advisory lock held until this transaction ends).

    A frozen process must not hold the lock for ever: its session is ended by
    the server once it has sat idle in its transaction for two leases, which
    frees the lock (and rolls its import back; its job is resumed by then).
    """
    if connection.vendor == "postgresql":
        idle_ms = int(2000 * max(30, settings.CRM.get("IMPORT_LEASE_SECONDS", 90)))
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('idle_in_transaction_session_timeout', %s, true)", [str(idle_ms)])
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [COMMIT_LOCK_KEY])



def _one_row(importer, kind: str, number: int, row: list, width: int, cells_of, add_errors, result: ImportResult):
    """Check one row (and, for an importer that writes in import_row, write it in its own savepoint)."""
    values = cells_of(row)
    gaps = [(name, value.message()) for name, value in values.items() if isinstance(value, TemplateGap)]
    cells = Cells(values)
    if len(row) > width and any(not _is_empty(v) for v in row[width:]):
        add_errors(number, [("", f"the row has {len(row)} cells but the header only {width}.")])
        return
    if gaps:
        add_errors(number, gaps)
        return
    in_commitment = False
    try:
        # A savepoint per row only for an importer that writes in import_row (the kinds
        # in imports/kinds/ only read there and write in finish()).
        with transaction.atomic() if getattr(importer, "writes_rows", True) else nullcontext():
            in_commitment = cells.has("commitment_description")
            outcomes = importer.import_row(number, cells)
    except RowInvalid as exc:
        add_errors(number, exc.errors)
    except ValidationError as exc:
        add_errors(number, validation_errors(exc, kind, in_commitment))
    except DatabaseError as exc:
        add_errors(number, [("", f"the database refused this row ({str(exc).splitlines()[0][:200]}).")])
    else:
        for record, action, label in outcomes:
            by_action = result.counts.setdefault(record, {"created": 0, "updated": 0, "unchanged": 0})
            by_action[action] += 1
        if len(result.preview) < PREVIEW_ROWS:
            result.preview.append({
                "row": number,
                "outcomes": [{"record": r, "action": a, "label": lbl} for r, a, lbl in outcomes],
            })


def run_import(
    *,
    kind: str,
    table: Table,
    mapping: dict | None = None,
    defaults: dict | None = None,
    actor=None,
    commit: bool = False,
    skip_invalid: bool = False,
    options: dict | None = None,
    progress: Callable[[int], None] | None = None,  # called after each row with the rows done
    on_commit_success: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    """Check (commit=False) or import (commit=True) every row of `table`; see the module docstring.

    Writes happen only when `commit` is true and no row has an error (or,
    with `skip_invalid`, whatever the bad rows); then `on_commit_success(result)`
    runs inside the same transaction (the import job marks itself imported
    there, so its status and the data commit together).
    Raises MappingError when the mapping does not fit the headers.
    """
    if kind not in IMPORTERS:
        raise MappingError([f"Unknown kind “{kind}”: use one of {', '.join(KINDS)}."])
    mapping = default_mapping(kind, table.headers) if mapping is None else {k: v for k, v in mapping.items() if v}
    defaults = {k: v for k, v in (defaults or {}).items() if v not in (None, "")}
    check_mapping(kind, table.headers, mapping, defaults)
    cells_of, column_names = _cells_of(table.headers, mapping, defaults)
    result = ImportResult(kind=kind, total_rows=len(table.rows), warnings=list(table.warnings))
    unmapped = [h for h in table.headers if h not in mapping.values() and not any(
        "{" + h + "}" in spec for spec in mapping.values())]
    if unmapped:
        result.warnings.append(f"Columns not imported: {', '.join(unmapped[:30])}{' …' if len(unmapped) > 30 else ''}.")

    def add_errors(number, pairs):
        for name, message in pairs:
            result.errors.append(RowError(number, column_names.get(name, name), message))

    try:
        with transaction.atomic():
            if commit:
                _serialize_commits()  # before the importer reads anything
            importer = IMPORTERS[kind](actor, options or {})
            if hasattr(importer, "prepare"):  # read the candidates of the whole file in a few queries
                importer.prepare([cells_of(row) for _, row in table.rows])
            for done, (number, row) in enumerate(table.rows, start=1):
                _one_row(importer, kind, number, row, len(table.headers), cells_of, add_errors, result)
                if progress:  # after every row: the callback decides when to write (imports/services.py)
                    progress(done)
            result.warnings.extend(importer.warnings[:200])
            if commit and (result.ok or skip_invalid):
                if hasattr(importer, "finish"):  # the bulk writes, outside the rows' savepoints
                    importer.finish()
                result.committed = True
                if on_commit_success:
                    on_commit_success(result)
            else:
                raise _Rollback
    except _Rollback:
        pass
    return result
