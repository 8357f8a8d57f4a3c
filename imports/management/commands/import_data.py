"""python manage.py import_data KIND FILE [--dry-run] [--skip-invalid] [--map FIELD=HEADER|-] [--set FIELD=VALUE] [--user USERNAME]

The same importer as the import page. First prints the mapping it will use
(each column of the file → the field it fills, and which were guessed), then
a summary. When any row is wrong:
- by default it writes nothing, prints every error with its row number and
  exits with status 1;
- with --skip-invalid it imports the good rows (all of them or none) and
  exits 0 when they went in;
in both cases the bad rows are written to a file in the input's own columns
and format plus an "import error" column (--bad-rows PATH, default
FILE-bad-rows.csv/.xlsx beside the input), ready to fix and import again.
Status 2 when the file or the mapping cannot be used at all.

--map states the whole mapping: the fields it names are read from the given
columns (FIELD=- leaves a field out); only the fields it does not name are
guessed from columns named like them, and only from columns it does not use.
"""

import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from imports.badrows import bad_rows_file
from imports.importer import IGNORE, KINDS, MappingError, mapping_rows, resolve_mapping
from imports.reader import ImportFileError, read_table
from imports.run import run_import
from imports.services import max_upload_bytes


def _pairs(values: list[str], option: str) -> dict:
    pairs = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise CommandError(f"{option} expects FIELD=VALUE, not {item!r}.", returncode=2)
        pairs[name.strip()] = value.strip() if value.strip() == IGNORE else value
    return pairs


class Command(BaseCommand):
    help = "Import partners, contacts or engagements (with commitments) from a CSV or XLSX file."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Check every row and report; write nothing.")
        parser.add_argument(
            "--skip-invalid", action="store_true",
            help="Import the good rows and leave the bad ones out (default: all or nothing).",
        )
        parser.add_argument(
            "--bad-rows", metavar="PATH",
            help="Where to write the bad rows (default: FILE-bad-rows.csv or .xlsx beside FILE).",
        )
        parser.add_argument("--user", help="Username recorded in the history as the importer (and whose rights apply).")
        parser.add_argument(
            "--map", action="append", metavar="FIELD=HEADER",
            help="Read FIELD from the column HEADER (or a template such as '{type} of {operator}'); FIELD=- leaves "
                 "the field out. Fields not named are guessed from same-named columns. Repeatable.",
        )
        parser.add_argument(
            "--set", action="append", metavar="FIELD=VALUE", help="Use VALUE where FIELD's cell is empty. Repeatable."
        )
        parser.add_argument("--keep-titles", action="store_true", help="Contacts: do not move titles out of full_name.")

    def handle(self, *args, kind, file, dry_run, skip_invalid, bad_rows, user, map, set, keep_titles, **options):
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(f"No active user {user!r}.", returncode=2)
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}", returncode=2)
        if path.stat().st_size > max_upload_bytes():
            raise CommandError(f"{file} is larger than {max_upload_bytes() // 1_048_576} MB; split it.", returncode=2)
        defaults = _pairs(set, "--set")
        try:
            table = read_table(path.read_bytes(), path.name)
            mapping, guessed = resolve_mapping(kind, table.headers, _pairs(map, "--map"))
            self._print_mapping(kind, table.headers, mapping, defaults, guessed)
            started = time.perf_counter()
            result = run_import(
                kind=kind, table=table, mapping=mapping, defaults=defaults, actor=actor,
                commit=not dry_run, skip_invalid=skip_invalid, options={"split_titles": not keep_titles},
            )
            seconds = time.perf_counter() - started
        except ImportFileError as exc:
            raise CommandError(f"{file}: {exc}", returncode=2) from None
        except MappingError as exc:
            raise CommandError("The columns do not fit: " + " ".join(exc.messages), returncode=2) from None

        for warning in result.warnings:
            self.stdout.write(f"warning: {warning}")
        self.stdout.write(f"{result.total_rows} rows read from {path.name}; {result.summary()}.")
        self.stdout.write(f"{'Checked' if dry_run else 'Checked and imported'} in {seconds:.1f} s "
                          f"({result.total_rows / max(seconds, 1e-6):,.0f} rows/s).")
        bad = result.bad_rows
        for error in result.errors:
            self.stderr.write(f"Row {error.row}" + (f", column {error.column}" if error.column else "") + f": {error.message}")
        if bad:
            target = Path(bad_rows) if bad_rows else None
            data, name, _ = bad_rows_file(table, [e.as_dict() for e in result.errors], path.name)
            target = target or path.with_name(name)
            target.write_bytes(data)
            self.stdout.write(f"{len(bad)} bad row(s) written to {target} (the file's columns plus “import error”).")
        if result.errors and not result.committed and not (dry_run and skip_invalid):
            if dry_run:
                advice = "add --skip-invalid to import the good rows." if bad else "fix the file."
            else:
                advice = "nothing was imported."
            raise CommandError(
                f"{len(result.errors)} error(s) in {len(bad)} row(s): {advice}", returncode=1,
            )
        if dry_run:
            outcome = f"{len(bad)} bad row(s) would be left out" if bad else "no errors"
            self.stdout.write(self.style.SUCCESS(
                f"Dry run: {outcome}; {result.count('created')} records would be created. Nothing was written."
            ))
        else:
            left_out = f"; {len(bad)} bad row(s) left out" if bad else ""
            self.stdout.write(self.style.SUCCESS(
                f"Imported: {result.count('created')} created, {result.count('updated')} updated, "
                f"{result.count('unchanged')} unchanged{left_out}."
            ))

    def _print_mapping(self, kind, headers, mapping, defaults, guessed):
        self.stdout.write("Mapping (column → field):")
        for row in mapping_rows(kind, headers, mapping, defaults):
            if row["column"] is None:
                self.stdout.write(f"  (fixed value) {row['value']!r} → {row['fields'][0]} where the cell is empty")
                continue
            fields = ", ".join(f + (" (guessed)" if f in guessed else "") for f in row["fields"]) or "not imported"
            self.stdout.write(f"  {row['column']} → {fields}")
        for name, spec in mapping.items():
            if "{" in spec:
                self.stdout.write(f"  template {spec!r} → {name}")
        if guessed:
            self.stdout.write(f"Guessed from the column names: {', '.join(guessed)} (state them with --map, or FIELD=- to leave one out).")
