"""Who may see what: the one home of the confidentiality rule.

The rule (contract, "Roles"): a signed-in, active user with a role reads
everything except restricted engagements (and the commitments, gifts and
attachments that come from them); officers and superusers see those too, and
so do the staff users who took part in one. A user with no role sees nothing.

Every surface (pages, API, search, exports, feeds, digest, reminders,
briefings, history, imports, attachments, back office) asks this module, in
one of its forms (each function says more):

- one user, one record: `may_use_crm`, `may_see_engagement`,
  `record_is_restricted`, `is_restricted`, and the getters that 404 like a
  missing id (`access_partner`, `access_contact`, `access_agreement`);
- one user, many records, as a `Q` or a queryset: `engagement_q` (and
  `probed_engagement_q` for reads that stop at a LIMIT), `attachment_q`,
  `partners_for`, `contacts_for`, `agreements_for`, `topics_for`;
- caches: `visibility_class` with `class_engagement_q` and `beyond_class_q`;
- many users at once (digest, reminders): `user_may_use_q`,
  `user_sees_all_q`, `user_sees_engagement_q`, `engagement_audience`;
- history: `history_hidden_engagement_ids`, `hidden_history_versions`;
- actions: `may_mark_done`, `may_import` (`IMPORT_PERMISSIONS`),
  `may_find_duplicates`, `may_restore`, `may_undo_delete`, `may_attach`,
  `may_replace_attachment`, `may_delete_attachment`.

It lives in `accounts/`, beside the roles, below every app whose records it
guards (partners, engagements and the pages above them all import it).
"Officer" is spelled in `accounts/roles.py` only.
"""

from __future__ import annotations

from django.apps import apps
from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404

from accounts.roles import ROLES, has_role, is_officer, officer_membership, sees_all_restricted

RESTRICTED = "restricted"

__all__ = [  # fmt: skip
    "ALL", "NONE", "OPEN", "RESTRICTED", "access_agreement", "access_contact", "access_partner",
    "agreements_for", "attended_ids", "attended_probe", "beyond_class_q", "class_engagement_q",
    "contacts_for", "engagement_q", "is_restricted", "may_see_engagement", "may_mark_done", "may_import",
    "may_find_duplicates", "may_restore", "may_undo_delete", "IMPORT_PERMISSIONS", "hidden_history_versions",
    "history_hidden_engagement_ids", "may_use_crm", "partners_for", "probed_engagement_q",
    "record_is_restricted", "sees_all_restricted", "engagement_audience", "topics_for", "user_sees_all_q",
    "user_may_use_q", "user_sees_engagement_q", "visibility_class", "may_enter_back_office", "may_see_engagement_id",
    "attachment_q", "may_attach", "may_replace_attachment", "may_delete_attachment",
]


def may_use_crm(user) -> bool:
    """Signed in, active and holding a role (superusers count): may read the CRM at all."""
    return bool(user is not None and user.is_authenticated and user.is_active and has_role(user))


def is_restricted(confidentiality: str | None) -> bool:
    return confidentiality == RESTRICTED


def _staff_link():
    # By name: this module sits below the apps whose records it guards.
    return apps.get_model("engagements", "Engagement").staff.through


def attended_ids(user):
    """Subquery: ids of the engagements the user took part in (their staff).

    `pk__in=<this>` is evaluated once per query (a hashed subplan), where an
    OR-ed EXISTS per row cost a list page hundreds of ms at 200k engagements.
    """
    return _staff_link().objects.filter(user_id=user.pk).values("engagement_id")


def attended_probe(user, engagement_ref: str) -> Exists:
    """The user took part in the engagement `OuterRef(engagement_ref)`: one probe of the staff link's unique index."""
    return Exists(_staff_link().objects.filter(engagement_id=OuterRef(engagement_ref), user_id=user.pk))


_NOTHING = Q(pk__in=[])


def engagement_q(user, via: str = "") -> Q:
    """The rule as a filter.

    via=""             for a queryset of engagements;
    via="engagement__" for commitments and gifts (a record without an
                       engagement is visible to every user with a role).
    Returns `Q()` for users who see everything and a filter matching
    nothing for users who may not read at all.
    """
    if not may_use_crm(user):
        return _NOTHING
    if sees_all_restricted(user):
        return Q()
    if not via:
        return ~Q(confidentiality=RESTRICTED) | Q(pk__in=attended_ids(user))
    return (
        Q(**{f"{via}isnull": True})
        | ~Q(**{f"{via}confidentiality": RESTRICTED})
        | Q(**{f"{via.removesuffix('__')}_id__in": attended_ids(user)})
    )


def probed_engagement_q(user, via: str = "") -> Q:
    """`engagement_q` with the attendance check written as a probe per row.

    The same rule; PostgreSQL charges the hashed subplan's set-up of
    `engagement_q` to every probe of a nested loop, so for reads that probe few
    rows or stop at a LIMIT this form is much faster (3.5 s against 13 ms for
    recent activity of a member of staff with thousands of meetings).
    """
    if not may_use_crm(user):
        return _NOTHING
    if sees_all_restricted(user):
        return Q()
    if not via:
        return ~Q(confidentiality=RESTRICTED) | Q(attended_probe(user, "pk"))
    return (
        Q(**{f"{via}isnull": True})
        | ~Q(**{f"{via}confidentiality": RESTRICTED})
        | Q(attended_probe(user, f"{via.removesuffix('__')}_id"))
    )


def may_see_engagement(user, engagement) -> bool:
    """The rule for one loaded engagement (one query at most, for its staff)."""
    if engagement is None:
        return may_use_crm(user)
    if not may_use_crm(user):
        return False
    if not is_restricted(engagement.confidentiality) or sees_all_restricted(user):
        return True
    return _staff_link().objects.filter(engagement_id=engagement.pk, user_id=user.pk).exists()


ALL, OPEN, NONE = "all", "open", "none"


def visibility_class(user) -> str:
    """A cache key part: the class whose shared rows a cache entry may hold.

    "none"  may read nothing;
    "all"   sees every engagement (officers, superusers);
    "open"  everyone else with a role: every engagement but the restricted
            ones, plus (not part of the class) the restricted ones they took
            part in.

    Every member of a class sees `class_engagement_q(cls)`, and no member sees
    less; what a user sees on top of it is `beyond_class_q(user)`, always a
    few rows, which a cached read lays over its shared entry live. So for
    every user: engagement_q(user) == class_engagement_q(cls) | beyond_class_q(user)
    (tests/unit/test_access_rule.py). One entry per class, not per user: the
    dashboard's quiet partners and charts are shared by every viewer.
    """
    if not may_use_crm(user):
        return NONE
    if sees_all_restricted(user):
        return ALL
    return OPEN


def class_engagement_q(cls: str, via: str = "") -> Q:
    """The engagements (or, `via="engagement__"`, their commitments and gifts) every member of `cls` sees."""
    if cls == ALL:
        return Q()
    if cls == OPEN:
        if not via:
            return ~Q(confidentiality=RESTRICTED)
        return Q(**{f"{via}isnull": True}) | ~Q(**{f"{via}confidentiality": RESTRICTED})
    return _NOTHING


def beyond_class_q(user) -> Q:
    """Engagements `user` sees beyond `visibility_class(user)`'s shared rows: the restricted ones they took part in.

    A join on the staff link (a person takes part in few restricted meetings,
    so the rows stay few); matches nothing for the "all" and "none" classes.
    """
    if visibility_class(user) != OPEN:
        return _NOTHING
    return Q(confidentiality=RESTRICTED, staff=user)


def _readable(user, queryset):
    # Partners, contacts, agreements and topics carry no confidentiality: a
    # user of the CRM reads them all, anyone else none.
    return queryset if may_use_crm(user) else queryset.none()


def _objects(label: str):
    # By name, as for the staff link: partners/ sits above this module.
    return apps.get_model(*label.split(".")).objects.all()


def partners_for(user, queryset=None):
    """Partners `user` may read (`queryset`: a partner queryset shaped by the caller, default all)."""
    return _readable(user, _objects("partners.Partner") if queryset is None else queryset)


def contacts_for(user, queryset=None):
    """Contacts `user` may read (as partners)."""
    return _readable(user, _objects("partners.Contact") if queryset is None else queryset)


def agreements_for(user, queryset=None):
    """Agreements `user` may read (as partners)."""
    return _readable(user, _objects("partners.Agreement") if queryset is None else queryset)


def topics_for(user, queryset=None):
    """Topics `user` may read (as partners)."""
    return _readable(user, _objects("partners.Topic") if queryset is None else queryset)


def access_partner(user, pk, queryset=None):
    """The partner `pk` if `user` may read it, else Http404 (the same answer as for a missing id)."""
    return get_object_or_404(partners_for(user, queryset), pk=pk)


def access_contact(user, pk, queryset=None):
    """The contact `pk` if `user` may read it, else Http404."""
    return get_object_or_404(contacts_for(user, queryset), pk=pk)


def access_agreement(user, pk, queryset=None):
    """The agreement `pk` if `user` may read it, else Http404."""
    return get_object_or_404(agreements_for(user, queryset), pk=pk)


def user_sees_all_q(user_ref: str = "pk") -> Q:
    """SQL form of `sees_all_restricted` over a query of users.

    `user_ref` names the user's id from the queried model (`"pk"` for users,
    `"owner_id"` for records with an owner); superuser and officer are
    checked without joins that would multiply rows.
    """
    prefix = "" if user_ref == "pk" else user_ref.removesuffix("_id") + "__"
    return Q(**{f"{prefix}is_superuser": True}) | Q(officer_membership(user_ref))


def history_hidden_engagement_ids(user, engagement_ids) -> set[int]:
    """Of `engagement_ids`, those whose restricted past the user may not read (history versions).

    An engagement counts as restricted here when it is restricted now or any
    of its recorded versions was (deleted ones included), so a version
    written while it was restricted, or a commitment's or gift's version
    written while it belonged to it, stays hidden after it was made internal
    or the record was moved off it. Users who see restricted engagements see
    them all; staff see those they take part in now. Three queries at most.
    """
    ids = {pk for pk in engagement_ids if pk is not None}
    if not ids or (may_use_crm(user) and sees_all_restricted(user)):
        return set()
    if not may_use_crm(user):
        return ids
    engagement = apps.get_model("engagements", "Engagement")
    # Today's row too: a write that bypassed history (a queryset update) still counts.
    restricted_now = engagement.objects.filter(pk__in=ids, confidentiality=RESTRICTED).values("pk")
    restricted = set(
        engagement.history.filter(Q(confidentiality=RESTRICTED) | Q(id__in=restricted_now), id__in=ids)
        .order_by().values_list("id", flat=True).distinct()
    ) | set(restricted_now.values_list("pk", flat=True))
    if not restricted:
        return set()
    attended = set(
        _staff_link().objects.filter(user_id=user.pk, engagement_id__in=restricted).values_list("engagement_id", flat=True)
    )
    return restricted - attended


def hidden_history_versions(user, versions) -> set[int]:
    """history_ids of the versions (simple-history rows of one model) the user may not read.

    An engagement's version is hidden when its confidentiality was restricted
    then; a commitment's or gift's (any record with an engagement) when that
    engagement is or ever was restricted. Either way only for users who do
    not see that engagement (`history_hidden_engagement_ids`). Other records
    have no restricted versions.
    """
    versions = list(versions)
    if not versions:
        return set()
    if versions[0].instance_type._meta.label_lower == "engagements.engagement":
        restricted = [v for v in versions if is_restricted(v.confidentiality)]
        hidden = history_hidden_engagement_ids(user, {v.id for v in restricted})
        return {v.history_id for v in restricted if v.id in hidden}
    if hasattr(versions[0], "engagement_id"):
        hidden = history_hidden_engagement_ids(user, {v.engagement_id for v in versions})
        return {v.history_id for v in versions if v.engagement_id in hidden}
    return set()


def user_sees_engagement_q(user_ref: str, via: str = "") -> Q:
    """SQL: the user named by each row (`user_ref`, e.g. `"owner_id"`) may see that row's engagement.

    For set-based reads that pair a user with an engagement row by row, such
    as reminders (a commitment's owner and its engagement, an engagement's
    owner and itself). `via` as in `engagement_q`: `""` for a query of
    engagements, `"engagement__"` for records linked to one (no engagement:
    visible). The rule of `may_see_engagement` for the restricted value: not
    restricted, or the user sees all (`user_sees_all_q`), or took part. Whether
    the user holds a role at all is the caller's to check.
    """
    if not via:
        unrestricted = ~Q(confidentiality=RESTRICTED)
        engagement_ref = "pk"
    else:
        unrestricted = Q(**{f"{via}isnull": True}) | ~Q(**{f"{via}confidentiality": RESTRICTED})
        engagement_ref = f"{via.removesuffix('__')}_id"
    took_part = Exists(
        _staff_link().objects.filter(engagement_id=OuterRef(engagement_ref), user_id=OuterRef(user_ref))
    )
    return unrestricted | user_sees_all_q(user_ref) | Q(took_part)


class EngagementAudience:
    """Which of a set of users may see which of a set of engagements, answered in Python.

    Built by `engagement_audience` in two set-based queries, for reads that
    apply the rule to many (user, engagement) pairs at once, such as the
    weekly digest (one email per user over the same rows).
    """

    def __init__(self, sees_all: set[int], restricted: set[int], attended: dict[int, set[int]]):
        self.sees_all = sees_all
        self.restricted = restricted
        self.attended = attended

    def sees(self, user_id: int, engagement_id: int | None) -> bool:
        """No engagement or an unrestricted one: yes; a restricted one: officers, superusers, its staff."""
        if engagement_id is None or engagement_id not in self.restricted:
            return True
        return user_id in self.sees_all or user_id in self.attended.get(engagement_id, ())


def engagement_audience(user_ids, confidentiality_by_engagement: dict[int, str]) -> EngagementAudience:
    """The rule for every pair of `user_ids` x the engagements given with their confidentiality.

    At most two queries: the users among `user_ids` who see everything, and
    the staff of the restricted engagements (none when there are none).
    """
    from django.contrib.auth import get_user_model

    restricted = {pk for pk, value in confidentiality_by_engagement.items() if is_restricted(value)}
    users = list(user_ids)
    sees_all = set(
        get_user_model().objects.filter(pk__in=users, is_active=True).filter(user_sees_all_q()).values_list("pk", flat=True)
    )
    attended: dict[int, set[int]] = {}
    if restricted:
        for engagement_id, user_id in _staff_link().objects.filter(engagement_id__in=restricted).values_list(
            "engagement_id", "user_id"
        ):
            attended.setdefault(engagement_id, set()).add(user_id)
    return EngagementAudience(sees_all, restricted, attended)


def user_may_use_q(user_ref: str = "pk") -> Q:
    """SQL form of `may_use_crm` over a query of users (`"pk"`) or of records naming one (`"owner_id"`):
    active, and a superuser or holding one of the roles. Who may be emailed anything from the CRM."""
    from django.contrib.auth import get_user_model

    prefix = "" if user_ref == "pk" else user_ref.removesuffix("_id") + "__"
    membership = get_user_model().groups.through.objects.filter(user_id=OuterRef(user_ref), group__name__in=ROLES)
    return Q(**{f"{prefix}is_active": True}) & (Q(**{f"{prefix}is_superuser": True}) | Q(Exists(membership)))


def may_enter_back_office(user) -> bool:
    """Superusers only may enter /admin/: the back office is for administrators.

    Officers already do every record task on the pages (deletes and history
    restores included); what only the back office offers is the
    administration of users, roles and two-factor devices, which is no role's
    business. `is_staff` alone grants nothing.
    """
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_superuser)


def may_see_engagement_id(user, engagement_id) -> bool:
    """The rule for a record pointing at engagement `engagement_id` (None: no engagement),
    such as a stored version of a deleted commitment or gift.

    An id whose engagement no longer exists is judged as restricted: only
    those who see every restricted engagement may see it.
    """
    if not may_use_crm(user):
        return False
    if engagement_id is None or sees_all_restricted(user):
        return True
    engagement = apps.get_model("engagements", "Engagement")._default_manager.filter(pk=engagement_id).first()
    return engagement is not None and may_see_engagement(user, engagement)


def record_is_restricted(record) -> bool:
    """Whether one loaded record is, or derives from, a restricted engagement.

    An engagement by its own confidentiality; a commitment or gift by its
    engagement's (one query unless the engagement is loaded); records that
    carry no confidentiality (partners, agreements, missions, contacts) are
    never restricted. For what leaves the CRM about one record (webhooks).
    """
    if hasattr(record, "confidentiality"):
        return is_restricted(record.confidentiality)
    engagement_id = getattr(record, "engagement_id", None)
    if engagement_id is None:
        return False
    cached = record._state.fields_cache.get("engagement")
    if cached is not None:
        return is_restricted(cached.confidentiality)
    Engagement = apps.get_model("engagements", "Engagement")
    confidentiality = Engagement._base_manager.filter(pk=engagement_id).values_list("confidentiality", flat=True).first()
    return is_restricted(confidentiality)


def may_mark_done(user, commitment) -> bool:
    """May `user` mark `commitment` done: a role that may change commitments, and its engagement visible to them.

    The one check behind every "Mark done" button and the reminder email's link (whose token proves only which
    user and commitment the link was made for: it grants nothing by itself).
    """
    return bool(
        may_use_crm(user)
        and user.has_perm("engagements.change_commitment")
        and may_see_engagement_id(user, commitment.engagement_id)
    )


# What a user needs to import each kind (adding; changing existing rows needs change_*). imports.importer reads it.
IMPORT_PERMISSIONS = {
    "partners": "partners.add_partner",
    "contacts": "partners.add_contact",
    "engagements": "engagements.add_engagement",
    "gifts": "engagements.add_gift",
    "agreements": "partners.add_agreement",
    "missions": "engagements.add_trademission",
}


def may_import(user) -> bool:
    """May import at least one kind of record (the importer's page and its navigation item)."""
    return may_use_crm(user) and any(user.has_perm(perm) for perm in IMPORT_PERMISSIONS.values())


def may_find_duplicates(user) -> bool:
    """Officers find and merge duplicates."""
    return may_use_crm(user) and is_officer(user)


def may_restore(user) -> bool:
    """Officers restore any record to an earlier version (history pages)."""
    return may_use_crm(user) and is_officer(user)


def may_undo_delete(user, *, deleted_by_id) -> bool:
    """Undo a delete: the user who deleted the record, or anyone who may restore.

    Confidentiality is the caller's to check on the deleted version (history.selectors.version_hidden).
    """
    if not may_use_crm(user):
        return False
    return (deleted_by_id is not None and user.pk == deleted_by_id) or may_restore(user)


def attachment_q(user) -> Q:
    """The rule as a filter over attachments: as visible as the record they are kept with.

    An attachment of an engagement, or of a commitment or gift of one, follows
    that engagement's rule (`engagement_q`); one of a partner, agreement or
    mission (no confidentiality of their own), or of a commitment or gift
    without an engagement, is read by every user of the CRM. Nothing for users
    without a role.
    """
    if not may_use_crm(user):
        return _NOTHING
    return (
        engagement_q(user, via="engagement__")
        & engagement_q(user, via="commitment__engagement__")
        & engagement_q(user, via="gift__engagement__")
    )


def may_attach(user, model_label: str) -> bool:
    """Upload to a record of `model_label` ("engagements.Engagement"): whoever may edit such a record
    (staff: engagements, commitments, gifts; officers: every record). Visibility of the record is the caller's."""
    app_label, model = model_label.lower().split(".")
    return may_use_crm(user) and user.has_perm(f"{app_label}.change_{model}")


def may_replace_attachment(user) -> bool:
    """Replace a file with a new version (the old one stays in history): officers and superusers."""
    return may_use_crm(user) and user.has_perm("attachments.change_attachment")


def may_delete_attachment(user) -> bool:
    """Delete an attachment (kept in history): officers and superusers (the role's delete permission,
    which diplomacy_crm.deletion asks too)."""
    return may_use_crm(user) and user.has_perm("attachments.delete_attachment")
