"""The import pass: one transaction, a savepoint per row, rolled back for a dry run or on any bad row (see imports/importer.py)."""

from collections.abc import Callable
from contextlib import nullcontext

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from .importer import (
    KINDS,
    MAX_ERRORS,
    PREVIEW_ROWS,
    ImportResult,
    MappingError,
    RowError,
    RowInvalid,
    _cells_of,
    _is_empty,
    _Rollback,
    check_mapping,
    default_mapping,
)
from .reader import Table
from .rows import IMPORTERS, Cells, validation_errors

# --- The pass ------------------------------------------------------------------------


def run_import(
    *,
    kind: str,
    table: Table,
    mapping: dict | None = None,
    defaults: dict | None = None,
    actor=None,
    commit: bool = False,
    options: dict | None = None,
    progress: Callable[[int], None] | None = None,  # called after each row with the rows done
    on_commit_success: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    """Check (commit=False) or import (commit=True) every row of `table`; see the module docstring.

    Writes happen only when `commit` is true and no row has an error; then
    `on_commit_success(result)` runs inside the same transaction (the import
    job marks itself imported there, so its status and the data commit together).
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
            importer = IMPORTERS[kind](actor, options or {})
            if hasattr(importer, "prepare"):  # read the candidates of the whole file in a few queries
                importer.prepare([cells_of(row) for _, row in table.rows])
            for done, (number, row) in enumerate(table.rows, start=1):
                cells = Cells(cells_of(row))
                if len(row) > len(table.headers) and any(not _is_empty(v) for v in row[len(table.headers):]):
                    add_errors(number, [("", f"the row has {len(row)} cells but the header only {len(table.headers)}.")])
                else:
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
                if len(result.errors) >= MAX_ERRORS:
                    result.errors.append(RowError(number, "", f"More than {MAX_ERRORS} errors: stopped checking here."))
                    break
                if progress:  # after every row: the callback decides when to write (imports/services.py)
                    progress(done)
            result.warnings.extend(importer.warnings[:200])
            if commit and result.ok:
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
