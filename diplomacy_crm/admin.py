"""Back-office pieces shared by the apps' admin classes."""

from simple_history.admin import SimpleHistoryAdmin

from .services import record_history


class OneHistoryRowAdmin(SimpleHistoryAdmin):
    """A back-office save leaves one history row, like the pages and the API (S8).

    The admin saves the record, then its many-to-many fields (save_related),
    and django-simple-history would write a row for each step that changes
    something. Here history is silenced for the record during both, and one
    row with the final fields and relations is written at the end, inside the
    admin's transaction. Inline records are records of their own: each of their
    writes keeps its own row.
    """

    def save_model(self, request, obj, form, change):
        obj._history_user = request.user
        obj.skip_history_when_saving = True
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        obj = form.instance
        try:
            super().save_related(request, form, formsets, change)
        finally:
            obj.__dict__.pop("skip_history_when_saving", None)
        record_history(obj, created=not change)
