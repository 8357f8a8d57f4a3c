"""The three roles of the contract, as Django groups.

viewer  reads everything but restricted engagements (and what derives from them)
staff   also creates and edits engagements, contacts, commitments, gifts,
        and adds partners (from the quick-logging flow)
officer everything: restricted records, partners, agreements, missions, deletes

Superusers count as officers. Group permissions are created by the migration
accounts/0002_roles; code asks `user.has_perm(...)` for writes and
`sees_all_restricted(user)` for confidentiality.
"""

from django.db.models import Exists, OuterRef, Q

VIEWER = "viewer"
STAFF = "staff"
OFFICER = "officer"
ROLES = (VIEWER, STAFF, OFFICER)

# (app_label, model) pairs each role may add/change/delete; every role may view all.
CORE_MODELS = [
    ("partners", "topic"),
    ("partners", "partner"),
    ("partners", "contact"),
    ("partners", "agreement"),
    ("engagements", "engagement"),
    ("engagements", "trademission"),
    ("engagements", "commitment"),
    ("engagements", "gift"),
]
STAFF_WRITES = {
    # Staff may add a missing partner while logging a meeting, not edit partners.
    ("partners", "partner"): ("add",),
    ("partners", "contact"): ("add", "change"),
    ("engagements", "engagement"): ("add", "change"),
    ("engagements", "commitment"): ("add", "change"),
    ("engagements", "gift"): ("add", "change"),
}


def role_permissions() -> dict[str, set[str]]:
    """codename sets per role, as 'app_label.codename'."""
    view = {f"{app}.view_{model}" for app, model in CORE_MODELS}
    staff = set(view)
    for (app, model), verbs in STAFF_WRITES.items():
        staff |= {f"{app}.{verb}_{model}" for verb in verbs}
    officer = set(view)
    for app, model in CORE_MODELS:
        officer |= {f"{app}.{verb}_{model}" for verb in ("add", "change", "delete")}
    officer |= {"notifications.view_outboxmessage", "webhooks.view_endpoint"}
    # Attachments: uploading follows the record's change permission (accounts.access.may_attach);
    # replacing and deleting are officers' (diplomacy_crm.deletion asks the delete permission).
    officer |= {"attachments.change_attachment", "attachments.delete_attachment"}
    return {VIEWER: view, STAFF: staff, OFFICER: officer}


def _group_names(user) -> set[str]:
    """The user's group names, cached on the user object: role checks happen many times per request.

    Read in one query with the groups' permissions, which are then handed to
    Django's ModelBackend cache (`_group_perm_cache`, the set it would build
    from `Permission.objects.filter(group__user=user)`), so that asking the
    role and then `has_perm` costs what `has_perm` alone cost. Not for
    superusers (the backend gives them every permission) nor inactive users
    (it gives them none), nor when the backend already loaded its own.
    """
    if not hasattr(user, "_crm_group_names"):
        if not user.is_authenticated:
            user._crm_group_names = set()
            return user._crm_group_names
        fill = user.is_active and not user.is_superuser and not hasattr(user, "_group_perm_cache")
        if not fill:
            user._crm_group_names = set(user.groups.values_list("name", flat=True))
            return user._crm_group_names
        names, perms = set(), set()
        rows = user.groups.values_list("name", "permissions__content_type__app_label", "permissions__codename")
        for name, app_label, codename in rows:
            names.add(name)
            if codename is not None:
                perms.add(f"{app_label}.{codename}")
        user._crm_group_names = names
        user._group_perm_cache = perms
    return user._crm_group_names


def is_officer(user) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or OFFICER in _group_names(user)))


def has_role(user) -> bool:
    """Holds one of the three roles, or is a superuser; without one a user sees nothing."""
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or _group_names(user) & set(ROLES)))


def sees_all_restricted(user) -> bool:
    """Officers and superusers see every restricted engagement."""
    return is_officer(user)


def officer_membership(user_ref: str = "pk") -> Exists:
    """SQL: the user `OuterRef(user_ref)` is in the officer group (for set-based reads; see accounts.access)."""
    from django.contrib.auth import get_user_model

    membership = get_user_model().groups.through.objects
    return Exists(membership.filter(user_id=OuterRef(user_ref), group__name=OFFICER))


def role_of(user) -> str | None:
    """The highest role a user has, for display."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return "superuser"
    names = _group_names(user)
    for role in (OFFICER, STAFF, VIEWER):
        if role in names:
            return role
    return None


def sync_role_groups(apps=None, verbosity: int = 0) -> None:
    """Create the three groups and give each exactly its permissions.

    Called by the migration that introduces the roles and again after every
    `migrate` (post_migrate), so that permissions of models added later
    (the outbox, say) reach the groups without another data migration.
    """
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    apps = apps or global_apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for app_config in apps.get_app_configs():
        # Permissions are normally made after all migrations; make them now.
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    for role, wanted in role_permissions().items():
        group, _ = Group.objects.get_or_create(name=role)
        match = Q(pk__in=[])
        for dotted in wanted:
            app_label, codename = dotted.split(".")
            match |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(match))
