"""The one world every test folder builds on: the cast (a user per role) and the records.

- `make_user`, `CAST`, `make_cast_member`, `make_superuser`: the cast, one member per role of
  accounts/roles.py (usernames as the fixtures in tests/conftest.py give them). tests/conftest.py's
  `viewer`, `staff_user`, `other_staff`, `officer`, `superuser` fixtures and `client_for(role)` use
  them; tests/api/conftest.py creates the same cast once per module; tests/security/conftest.py's
  `matrix_world` adds the edge cases (no role, role removed) to it.
- `build_directory()`: the records any body needs (a topic, a partner in Japan, its consul, a
  mission), no meetings. `api_world` (tests/api/conftest.py) is this.
- `build_world(staff_user)`: the directory plus a partner in Viet Nam, a public and a restricted
  meeting (staff_user took part), commitments and an agreement: the `world` fixture
  (tests/conftest.py). `matrix_world` (tests/security/conftest.py) is this plus one meeting per
  confidentiality case, each with a unique marker.
- `build_graph(n, staff)`: n meetings with all their links, for the query-budget tests.

Import the names a test needs: `from tests.world import SECRET, PUBLIC`.
"""

import datetime as dt

from django.contrib.auth.models import Group
from django.utils import timezone

from engagements.models import Engagement
from tests.factories import (
    AgreementFactory,
    CommitmentFactory,
    ContactFactory,
    EngagementFactory,
    PartnerFactory,
    TopicFactory,
    TradeMissionFactory,
)

# Unique strings: a restricted record's text must never appear for outsiders.
SECRET = "ZQX-RESTRICTED-MARKER-41"
SECRET_PROMISE = "ZQX-RESTRICTED-PROMISE-77"
PUBLIC = "Open meeting on green hydrogen"
PASSWORD = "correct horse battery staple"

# The cast: role (as accounts/roles.py and client_for name it) -> (username, group, extra fields).
CAST = {
    "viewer": ("vera_viewer", "viewer", {"first_name": "Vera", "last_name": "Viewer"}),
    "staff": ("sam_staff", "staff", {"first_name": "Sam", "last_name": "Staff"}),
    "other_staff": ("olga_staff", "staff", {"first_name": "Olga", "last_name": "Other"}),
    "officer": ("omar_officer", "officer", {"first_name": "Omar", "last_name": "Officer"}),
}

__all__ = [
    "SECRET", "SECRET_PROMISE", "PUBLIC", "PASSWORD", "CAST", "make_user", "make_cast_member", "make_superuser",
    "build_directory", "build_world", "build_graph",
]  # fmt: skip


def make_user(user_model, username, role=None, **extra):
    """A user with the house password and, given a role, that role's group."""
    user = user_model.objects.create_user(
        username=username,
        email=extra.pop("email", f"{username}@city.example.org"),
        password=PASSWORD,
        **extra,
    )
    if role:
        if not Group.objects.filter(name=role).exists():
            # A transactional test's flush empties the groups the migration made.
            from accounts.roles import sync_role_groups

            sync_role_groups()
        user.groups.add(Group.objects.get(name=role))
    return user


def make_cast_member(user_model, role: str, **extra):
    """The cast's member for `role` ("viewer", "staff", "other_staff", "officer"); extra fields override."""
    username, group, fields = CAST[role]
    return make_user(user_model, username, group, **{**fields, **extra})


def make_superuser(user_model):
    return user_model.objects.create_superuser("root_admin", "root@city.example.org", PASSWORD)


def build_directory() -> dict:
    """The records any request body may need: a topic, a partner in Japan, its consul, a mission. No meetings."""
    japan = PartnerFactory(name="Ministry of Economy (Japan)", country="JP", kind="national_government", priority=1)
    return {
        "topic": TopicFactory(name="Climate and clean energy", slug="climate"),
        "japan": japan,
        "consul": ContactFactory(partner=japan, full_name="Kenji Sato", honorific="H.E.", title="Consul General"),
        "mission": TradeMissionFactory(name="Mayor's trade mission to Asia", objectives="Nonstop flights to Hanoi"),
    }


def build_world(staff_user) -> dict:
    """The directory, a partner in Viet Nam, a public and a restricted meeting (staff_user took part), commitments."""
    directory = build_directory()
    topic, japan, consul, mission = (directory[key] for key in ("topic", "japan", "consul", "mission"))
    vietnam = PartnerFactory(name="Office of the Prime Minister of Viet Nam", country="VN", city="Hanoi", kind="national_government")
    public = EngagementFactory(
        title=PUBLIC,
        partners=[japan],
        contacts=[consul],
        topics=[topic],
        staff=[staff_user],
        summary="Hydrogen for the grid.",
        starts_at=timezone.now() - dt.timedelta(days=10),
    )
    restricted = EngagementFactory(
        title=f"Briefing {SECRET}",
        partners=[vietnam],
        staff=[staff_user],
        confidentiality=Engagement.Confidentiality.RESTRICTED,
        trade_mission=mission,
        summary=f"Human rights raised. {SECRET}",
        starts_at=timezone.now() - dt.timedelta(days=5),
    )
    open_promise = CommitmentFactory(description="Send the hydrogen study", engagement=public, partner=japan)
    secret_promise = CommitmentFactory(description=SECRET_PROMISE, engagement=restricted, partner=vietnam)
    agreement = AgreementFactory(title="Green hydrogen MOU", partners=[japan])
    return {
        "topic": topic,
        "japan": japan,
        "vietnam": vietnam,
        "consul": consul,
        "mission": mission,
        "public": public,
        "restricted": restricted,
        "open_promise": open_promise,
        "secret_promise": secret_promise,
        "agreement": agreement,
    }


def build_graph(n: int, staff: list, *, prefix: str = "Row") -> dict:
    """n engagements, each with 3 partners, 2 contacts, 2 staff, 2 commitments, a topic and a mission;
    every third one restricted; n agreements and contacts to match. Factories also write history rows.
    """
    topic = TopicFactory(name="Trade and investment", slug="trade")
    mission = TradeMissionFactory(name=f"{prefix} mission")
    engagements = []
    for i in range(n):
        partners = [PartnerFactory(name=f"{prefix} partner {i}-{k}") for k in range(3)]
        contacts = [ContactFactory(partner=partners[k]) for k in range(2)]
        engagement = EngagementFactory(
            title=f"{prefix} meeting {i}",
            partners=partners,
            contacts=contacts,
            staff=staff,
            topics=[topic],
            trade_mission=mission,
            confidentiality=Engagement.Confidentiality.RESTRICTED if i % 3 == 0 else Engagement.Confidentiality.INTERNAL,
        )
        for k in range(2):
            CommitmentFactory(engagement=engagement, partner=partners[k], owner=staff[0], trade_mission=mission if k else None)
        AgreementFactory(title=f"{prefix} agreement {i}", partners=partners[:2])
        mission.delegates.add(contacts[0])
        mission.partners.add(partners[0])
        engagements.append(engagement)
    return {"engagements": engagements, "mission": mission, "topic": topic}
