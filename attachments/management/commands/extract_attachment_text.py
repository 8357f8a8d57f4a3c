"""`manage.py extract_attachment_text`: read the text of attachments for search, here and now (no worker needed)."""

from collections import Counter

from django.core.management.base import BaseCommand

from attachments import textindex
from attachments.models import Attachment


class Command(BaseCommand):
    help = (
        "Read the text of attachments for search: every pending one (files from before text search, or whose "
        "task never ran), or with --failed also those that failed (after raising a limit), or with --all every "
        "attachment again. Safe to run twice, and beside the workers."
    )

    def add_arguments(self, parser):
        choice = parser.add_mutually_exclusive_group()
        choice.add_argument("--failed", action="store_true", help="Also read again the attachments whose text failed.")
        choice.add_argument("--all", action="store_true", help="Read every attachment again.")
        parser.add_argument("ids", nargs="*", type=int, help="Only these attachment ids.")

    def handle(self, *args, failed=False, all=False, ids=(), **options):
        statuses = [Attachment.TextStatus.PENDING] + ([Attachment.TextStatus.FAILED] if failed else [])
        queryset = Attachment.objects.all() if all else Attachment.objects.filter(text_status__in=statuses)
        if ids:
            queryset = queryset.filter(pk__in=ids)
        counts = Counter()
        for pk in queryset.order_by("pk").values_list("pk", flat=True).iterator():
            status = textindex.extract_attachment(pk, force=True)
            counts[status or "skipped (replaced or deleted meanwhile)"] += 1
        summary = ", ".join(f"{status}: {n}" for status, n in sorted(counts.items())) or "nothing to read"
        self.stdout.write(f"Attachment text: {summary}.")
