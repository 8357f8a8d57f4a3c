"""The back office (/admin/): who may enter, and what they see there.

**Superusers only** (`accounts.access.may_enter_back_office`). Officers
already do every record task on the pages, deletes and history restores
included, through the same services and access rule as everything else; what
only the back office offers is the administration of users, roles and
two-factor devices, which is an administrator's job, not a role's. So
`is_staff` grants nothing by itself, and a viewer or member of staff who
was given it (as `load_demo` once did) stays outside.

Whoever enters is still held to the access rule, as defence in depth (the
door could be widened one day; a superuser sees everything anyway):

- every changelist, change page and inline of a CRM record goes through the
  model's `visible_to(user)` (`accounts/access.py`);
- foreign-key and many-to-many choices, autocomplete widgets included, are
  the related admin's own (filtered) queryset, so a choice outside it is
  refused with Django's usual "Select a valid choice", exactly as a missing
  id is;
- a history list or version of a record the user may not see is a 404
  (django-simple-history would fall back to the stored version), versions
  written while the user could not see the record are left out, and a
  revert needs the change permission and is one `save_record` (one history
  row, the actor recorded).
"""

from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.utils import unquote
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from simple_history.admin import SimpleHistoryAdmin
from simple_history.manager import SIMPLE_HISTORY_REVERSE_ATTR_NAME

from accounts.access import may_enter_back_office, may_use_crm, sees_all_restricted

from .deletion import delete_record, is_referable, references_to
from .services import record_history, save_record


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


class BackOfficeSite(admin.AdminSite):
    """The default admin site (see `diplomacy_crm.apps.BackOfficeAdminConfig`): superusers only."""

    site_header = "International Affairs CRM: back office"
    site_title = "CRM back office"

    def has_permission(self, request):
        return may_enter_back_office(request.user)


def visible_queryset(queryset, user):
    """The records of `queryset` the user may see: the model's `visible_to` when it has one."""
    if hasattr(queryset, "visible_to"):
        return queryset.visible_to(user)
    return queryset if may_use_crm(user) else queryset.none()


class VisibleChoicesMixin:
    """Foreign-key and many-to-many choices limited to what the related admin shows this user.

    Django's own `get_field_queryset` only borrows the related admin's
    ordering and offers every row of the table; here the choices are the
    related admin's `get_queryset(request)`, the same rows its changelist
    and autocomplete show. An id outside them fails validation with the
    message a missing id gets.
    """

    def get_field_queryset(self, db, db_field, request):
        try:
            related_admin = self.admin_site.get_model_admin(db_field.remote_field.model)
        except NotRegistered:
            return super().get_field_queryset(db, db_field, request)
        queryset = related_admin.get_queryset(request).using(db)
        ordering = related_admin.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset


class VisibleInline(VisibleChoicesMixin, admin.TabularInline):
    """An inline showing only the related records the user may see."""

    def get_queryset(self, request):
        return visible_queryset(super().get_queryset(request), request.user)


class OneHistoryRowAdmin(RefuseDeleteInUseMixin, VisibleChoicesMixin, SimpleHistoryAdmin):
    """A back-office save leaves one history row, like the pages and the API (S8).

    The admin saves the record, then its many-to-many fields (save_related),
    and django-simple-history would write a row for each step that changes
    something. Here history is silenced for the record during both, and one
    row with the final fields and relations is written at the end, inside the
    admin's transaction. Inline records are records of their own: each of their
    writes keeps its own row.

    History pages obey the access rule: see `history_view` and
    `history_form_view`.
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

    # --- history, under the access rule ------------------------------------------
    def get_form(self, request, obj=None, change=False, **kwargs):
        """On a history version page, the form shows the version's many-to-many links, not today's."""
        form_class = super().get_form(request, obj, change, **kwargs)
        version = getattr(obj, SIMPLE_HISTORY_REVERSE_ATTR_NAME, None)  # set on a version's `.instance`
        if version is None:
            return form_class
        links = {}
        for field in getattr(version, "_history_m2m_fields", []):
            target = self.model._meta.get_field(field.name).m2m_reverse_field_name()
            links[field.name] = [row[target] for row in getattr(version, field.name).values(target)]

        class VersionForm(form_class):
            def __init__(self, *args, **form_kwargs):
                super().__init__(*args, **form_kwargs)
                for name, ids in links.items():
                    if name in self.fields:
                        self.initial[name] = ids

        return VersionForm

    def version_visible(self, user, record) -> bool:
        """May `user` see `record` as a stored version holds it (the live record may be gone)?

        Records without a confidentiality rule: whoever may use the CRM.
        Admins of confidential records override this with the rule's form
        for one stored record (`accounts.access`).
        """
        return may_use_crm(user)

    def _check_record_visible(self, request, object_id):
        """404 unless the record is in this user's queryset or, deleted, its latest version is visible."""
        pk_name = self.model._meta.pk.attname
        try:
            object_id = self.model._meta.pk.to_python(object_id)
        except ValidationError:
            raise Http404 from None  # not an id at all: as missing as any other
        if self.get_queryset(request).filter(**{pk_name: object_id}).exists():
            return
        if self.model._default_manager.filter(**{pk_name: object_id}).exists():
            raise Http404  # exists, but not for this user: the same answer as a missing id
        history = getattr(self.model, self.model._meta.simple_history_manager_attribute)
        latest = history.filter(**{pk_name: object_id}).order_by("-history_date", "-history_id").first()
        if latest is None or not self.version_visible(request.user, latest.instance):
            raise Http404

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        """The versions listed: those written while this user could see the record."""
        queryset = super().get_history_queryset(request, history_manager, pk_name, object_id)
        if type(self).version_visible is OneHistoryRowAdmin.version_visible or sees_all_restricted(request.user):
            return queryset  # no confidentiality rule for this model, or a user who sees every version
        hidden = [row.history_id for row in queryset if not self.version_visible(request.user, row.instance)]
        return queryset.exclude(history_id__in=hidden) if hidden else queryset

    def history_view(self, request, object_id, extra_context=None):
        self._check_record_visible(request, unquote(object_id))
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """One version: a 404 unless visible; a revert (POST) needs change permission and is one save_record."""
        object_id = unquote(object_id)
        self._check_record_visible(request, object_id)
        history = getattr(self.model, self.model._meta.simple_history_manager_attribute)
        try:
            version_id = history.model._meta.pk.to_python(unquote(version_id))
        except ValidationError:
            raise Http404 from None
        version = history.filter(**{self.model._meta.pk.attname: object_id, "history_id": version_id}).first()
        if version is None or not self.version_visible(request.user, version.instance):
            raise Http404
        if request.method == "POST":
            if not self.has_change_permission(request, version.instance) or self.revert_disabled(request, version.instance):
                raise PermissionDenied
            response = self._revert(request, version)
            if response is not None:
                return response
        return super().history_form_view(request, object_id, version_id, extra_context)

    def _revert(self, request, version):
        """Save the version as the record's current state (one history row), or None to show the form's errors."""
        record = version.instance
        exists = self.model._default_manager.filter(pk=record.pk).exists()
        record._state.adding = not exists
        form = self.get_form(request, record)(request.POST, request.FILES, instance=record)
        if not form.is_valid():
            return None  # simple-history renders the bound form with its errors
        m2m = {
            field.name: form.cleaned_data[field.name]
            for field in self.model._meta.many_to_many
            if field.name in form.cleaned_data
        }
        try:
            with transaction.atomic():
                record = form.save(commit=False)
                save_record(record, actor=request.user, m2m=m2m)
        except ValidationError as error:
            # A rule the form does not check (full_clean without exclusions): nothing was written.
            messages.error(request, "This version cannot be restored: " + " ".join(error.messages))
            return HttpResponseRedirect(request.path)
        self.log_change(request, record, self.construct_change_message(request, form, []))
        return self.response_change(request, record)


class VisibleToUserAdmin(OneHistoryRowAdmin):
    """The back office obeys confidentiality too: rows only for those who may see them."""

    def get_queryset(self, request):
        return visible_queryset(super().get_queryset(request), request.user)


__all__ = ["BackOfficeSite", "OneHistoryRowAdmin", "VisibleChoicesMixin", "VisibleInline", "VisibleToUserAdmin"]
