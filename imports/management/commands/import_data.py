"""python manage.py import_data {partners,contacts,engagements} FILE [--dry-run] [--user USERNAME]

The same importer as the import page. Prints a summary; when any row is
wrong it writes nothing, prints every error with its row number and exits
with status 1 (2 when the file or the mapping cannot be used at all).
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from imports.importer import KINDS, MappingError
from imports.reader import ImportFileError, read_table
from imports.run import run_import
from imports.services import max_upload_bytes


def _pairs(values: list[str], option: str) -> dict:
    pairs = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise CommandError(f"{option} expects FIELD=VALUE, not {item!r}.", returncode=2)
        pairs[name.strip()] = value
    return pairs


class Command(BaseCommand):
    help = "Import partners, contacts or engagements (with commitments) from a CSV or XLSX file."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Check every row and report; write nothing.")
        parser.add_argument("--user", help="Username recorded in the history as the importer (and whose rights apply).")
        parser.add_argument(
            "--map", action="append", metavar="FIELD=HEADER",
            help="Read FIELD from the column HEADER (or a template such as '{type} of {operator}'). Repeatable.",
        )
        parser.add_argument(
            "--set", action="append", metavar="FIELD=VALUE", help="Use VALUE where FIELD's cell is empty. Repeatable."
        )
        parser.add_argument("--keep-titles", action="store_true", help="Contacts: do not move titles out of full_name.")

    def handle(self, *args, kind, file, dry_run, user, map, set, keep_titles, **options):
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
        try:
            table = read_table(path.read_bytes(), path.name)
            mapping = None
            if map:
                from imports.importer import default_mapping

                mapping = {**default_mapping(kind, table.headers), **_pairs(map, "--map")}
            result = run_import(
                kind=kind, table=table, mapping=mapping, defaults=_pairs(set, "--set"), actor=actor,
                commit=not dry_run, options={"split_titles": not keep_titles},
            )
        except ImportFileError as exc:
            raise CommandError(f"{file}: {exc}", returncode=2) from None
        except MappingError as exc:
            raise CommandError("The columns do not fit: " + " ".join(exc.messages), returncode=2) from None

        for warning in result.warnings:
            self.stdout.write(f"warning: {warning}")
        verb = "would be" if dry_run else "were"
        self.stdout.write(f"{result.total_rows} rows read from {path.name}; {result.summary()}.")
        if result.errors:
            for error in result.errors:
                self.stderr.write(f"Row {error.row}" + (f", column {error.column}" if error.column else "") + f": {error.message}")
            raise CommandError(
                f"{len(result.errors)} error(s) in {len({e.row for e in result.errors})} row(s): nothing was imported.",
                returncode=1,
            )
        if dry_run:
            self.stdout.write(self.style.SUCCESS(f"Dry run: no errors; {result.count('created')} records {verb} created. Nothing was written."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported: {result.count('created')} created, {result.count('updated')} updated, {result.count('unchanged')} unchanged."))
