"""Back-office pieces shared by the apps' admin classes."""

from django.db import transaction
from simple_history.admin import SimpleHistoryAdmin

from .deletion import delete_record, is_referable, references_to
from .services import record_history


class RefuseDeleteInUseMixin:
    """Back-office deletes obey the one rule of diplomacy_crm.deletion: a record others point to stays.

    The single delete and the bulk "delete selected" action both ask
    get_deleted_objects() first; a record in use is listed there as
    "protected", which makes Django's own confirmation page refuse the delete
    and say what is in the way (counts, as in the API and the pages). The
    deletes themselves go through delete_record(): the actor is kept on the
    history row with the record's links. Inline rows of a kind others may
    point to (contacts, member partners) are not deleted from the parent's
    form: that path would skip the rule.
    """

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        in_use = []
        for obj in objs:
            refs = references_to(obj, user=request.user)
            if refs:
                in_use.append(f"{obj}: still referred to by {', '.join(str(ref) for ref in refs)}")
        # Ours replace Django's list (which names every protected row): counts of what this user may see.
        return deleted, model_count, perms_needed, in_use or protected

    def delete_model(self, request, obj):
        delete_record(obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                delete_record(obj, actor=request.user)

    def get_inline_instances(self, request, obj=None):
        inlines = super().get_inline_instances(request, obj)
        for inline in inlines:
            if is_referable(inline.model):
                inline.can_delete = False
        return inlines


class OneHistoryRowAdmin(RefuseDeleteInUseMixin, SimpleHistoryAdmin):
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
