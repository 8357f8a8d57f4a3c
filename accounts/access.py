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
- `attended_probe(user, ref)`: the attendance check as a per-row probe, for
  reads that stop at a LIMIT (see `probed_engagement_q`);
- `may_see_engagement(user, engagement)`: the rule for one loaded record;
- `visibility_class(user)`: the key caches use: users of one class see the
  same rows;
- `is_restricted(value)`: is a confidentiality value the restricted one;
- `user_sees_all_q(user_ref)`: the users (rows of a query over users, or
  over records pointing at one through `user_ref`) who see every restricted
  engagement, for set-based reads such as the digest and reminders.

It lives in `accounts/`, beside the roles, below every app whose records it
guards (partners, engagements and the pages above them all import it).

"Officer" is spelled in `accounts/roles.py` only.
"""

from __future__ import annotations

from django.apps import apps
from django.db.models import Exists, OuterRef, Q

from accounts.roles import has_role, officer_membership, sees_all_restricted

RESTRICTED = "restricted"

__all__ = [
    "RESTRICTED",
    "attended_ids",
    "attended_probe",
    "engagement_q",
    "is_restricted",
    "may_see_engagement",
    "may_use_crm",
    "probed_engagement_q",
    "sees_all_restricted",
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


def visibility_class(user) -> str:
    """A cache key part: users of one class see the same records.

    "none" may read nothing; "all" sees every restricted engagement; any other
    user sees the unrestricted ones plus those they took part in, so their
    class is their own.
    """
    if not may_use_crm(user):
        return "none"
    if sees_all_restricted(user):
        return "all"
    return f"user:{user.pk}"


def user_sees_all_q(user_ref: str = "pk") -> Q:
    """SQL form of `sees_all_restricted` over a query of users.

    `user_ref` names the user's id from the queried model (`"pk"` for users,
    `"owner_id"` for records with an owner); superuser and officer are
    checked without joins that would multiply rows.
    """
    prefix = "" if user_ref == "pk" else user_ref.removesuffix("_id") + "__"
    return Q(**{f"{prefix}is_superuser": True}) | Q(officer_membership(user_ref))


# --- Appended for the back office and stored versions (h2) ----------------------------

__all__ += ["may_enter_back_office", "may_see_engagement_id"]


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
