"""Who may see what: the one home of the confidentiality rule.

The rule (contract, "Roles"): a signed-in, active user with a role reads
everything except restricted engagements (and the commitments and gifts
that come from them); officers and superusers see those too, and so do the
staff users who took part in one. A user with no role sees nothing.

Every surface (pages, API, search, exports, feeds, digest, reminders,
briefings, history, imports, back office) asks this module, in one of its
forms:

- `may_use_crm(user)`: may the user read anything at all;
- `sees_all_restricted(user)`: officers and superusers;
- `engagement_q(user, via=...)`: the rule as a `Q` for a queryset of
  engagements (`via=""`) or of records linked to one (`via="engagement__"`);
- `probed_engagement_q(user, via=...)`: the same rule with the attendance
  check as a per-row probe (`attended_probe`), for reads that probe few rows
  or stop at a LIMIT (the dashboard's, the partner timeline's);
- `may_see_engagement(user, engagement)`: the rule for one loaded record;
- `visibility_class(user)`: the key caches use, with `class_engagement_q`
  (the rows every member of a class sees) and `beyond_class_q` (what one
  user sees on top: the restricted engagements they took part in);
- `is_restricted(value)`: is a confidentiality value the restricted one;
- `user_sees_all_q(user_ref)`: the users (rows of a query over users, or
  over records pointing at one through `user_ref`) who see every restricted
  engagement, for set-based reads such as the digest and reminders;
- `partners_for`, `contacts_for`, `agreements_for`, `topics_for` and
  `access_partner`, `access_contact`, `access_agreement`: the records that
  carry no confidentiality of their own, readable by every user who may use
  the CRM (a 404 for anyone else, as for a missing id).

It lives in `accounts/`, beside the roles, below every app whose records it
guards (partners, engagements and the pages above them all import it).

"Officer" is spelled in `accounts/roles.py` only.
"""

from __future__ import annotations

from django.apps import apps
from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404

from accounts.roles import has_role, officer_membership, sees_all_restricted

RESTRICTED = "restricted"

__all__ = [
    "ALL",
    "NONE",
    "OPEN",
    "RESTRICTED",
    "access_agreement",
    "access_contact",
    "access_partner",
    "agreements_for",
    "attended_ids",
    "attended_probe",
    "beyond_class_q",
    "class_engagement_q",
    "contacts_for",
    "engagement_q",
    "is_restricted",
    "may_see_engagement",
    "may_use_crm",
    "partners_for",
    "probed_engagement_q",
    "sees_all_restricted",
    "topics_for",
    "user_sees_all_q",
    "visibility_class",
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
