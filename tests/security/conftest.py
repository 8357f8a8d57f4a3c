"""The security suite's `matrix_world`: the common world (tests/world.py), built once per module,
plus what the permission matrix needs.

On top of `build_world(staff)` (the page tests' world: a public and a
restricted meeting, whose SECRET markers are checked as leaks too), three
engagements, one per confidentiality case, each carrying a unique
marker (`LEAK-<uuid>`) in its title, summary and outcomes, and in its
commitment's and gift's description:

  internal     every signed-in user may see it
  restricted   with `staff_user` among its staff: officers, superusers, staff_user
  secret       restricted, nobody's staff: officers and superusers only

The cast (tests/world.CAST, named as `client_for` names them): one user per
role (viewer, staff participant `staff`, staff non-participant
`other_staff`, officer), each with `is_staff` (as `load_demo` once gave
everyone: the flag must open nothing), a `superuser`, a user with no role
(`norole`) and one whose role was just removed
(`removed`: a staff member who took part in the restricted engagement and
held a session when the group was taken away).

The world lives in a transaction opened for the module and rolled back at its
end; each test runs in a savepoint inside it (pytest-django's `db`), so a
test's writes vanish and hundreds of matrix cases share one setup.
"""

import datetime as dt
import uuid
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from tests.factories import (
    AgreementFactory,
    CommitmentFactory,
    ContactFactory,
    EngagementFactory,
    GiftFactory,
    PartnerFactory,
    TopicFactory,
    TradeMissionFactory,
)
from tests.world import (
    SECRET,
    SECRET_PROMISE,
    build_world,
    make_cast_member,
    make_superuser,
    make_user,
)

ACTORS = ("anonymous", "viewer", "staff", "other_staff", "officer", "superuser", "norole", "removed")
NO_ROLE = frozenset({"norole", "removed"})  # signed in, no role: a 403 "no role yet" everywhere
OBJECTS = ("internal", "restricted", "secret")
# Who may see each engagement (and what derives from it): the contract's rule.
SEES = {
    "internal": {"viewer", "staff", "other_staff", "officer", "superuser"},
    "restricted": {"staff", "officer", "superuser"},
    "secret": {"officer", "superuser"},
}
OUR_APPS = ("partners", "engagements", "notifications", "imports", "accounts", "authtoken", "attachments", "mailcapture")


@dataclass
class World:
    users: dict
    partner: object
    contact: object
    topic: object
    agreement: object
    mission: object
    engagements: dict
    commitments: dict
    gifts: dict
    markers: dict
    base: dict = field(default_factory=dict)
    import_job: object | None = None
    extra: dict = field(default_factory=dict)
    sessions: dict = field(default_factory=dict)

    def client(self, actor: str, **kwargs) -> Client:
        """A client signed in as `actor`, reusing one session per actor (created in the module's transaction)."""
        client = Client(**kwargs)
        if actor != "anonymous":
            if actor not in self.sessions:
                client.force_login(self.users[actor])
                self.sessions[actor] = client.cookies[settings.SESSION_COOKIE_NAME].value
            else:
                client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[actor]
        return client

    def forbidden_markers(self, actor: str) -> list[str]:
        # The common world's restricted meeting has staff among its staff: seen as the "restricted" case.
        base = [SECRET, SECRET_PROMISE] if actor not in SEES["restricted"] else []
        return [self.markers[obj] for obj in OBJECTS if actor not in SEES[obj]] + base

    def visible_markers(self, actor: str) -> list[str]:
        return [self.markers[obj] for obj in OBJECTS if actor in SEES[obj]]


def build_matrix_world() -> World:
    from django.contrib.auth import get_user_model

    User = get_user_model()
    users = {role: make_cast_member(User, role, is_staff=True) for role in ("viewer", "staff", "other_staff", "officer")}
    users["superuser"] = make_superuser(User)
    users["norole"] = make_user(User, "nina_norole", is_staff=True)
    users["removed"] = make_user(User, "rex_removed", "staff", is_staff=True)
    base = build_world(users["staff"])
    topic = TopicFactory(name="Trade", slug="trade")
    partner = PartnerFactory(name="City of Osaka", country="JP", city="Osaka", priority=1, owner=users["officer"])
    partner.topics.set([topic])
    contact = ContactFactory(partner=partner, full_name="Hana Sato")
    agreement = AgreementFactory(title="Osaka friendship MOU", partners=[partner])
    mission = TradeMissionFactory(name="Kansai mission", countries=["JP"], cities="Osaka")
    mission.partners.set([partner])
    markers = {obj: f"LEAK-{uuid.uuid4().hex}" for obj in OBJECTS}
    staff_of = {"internal": [users["staff"]], "restricted": [users["staff"], users["removed"]], "secret": []}
    confidentiality = {"internal": "internal", "restricted": "restricted", "secret": "restricted"}
    engagements, commitments, gifts = {}, {}, {}
    now = timezone.now()
    for index, obj in enumerate(OBJECTS):
        marker = markers[obj]
        engagements[obj] = EngagementFactory(
            title=f"Meeting {marker}",
            summary=f"Summary {marker}",
            outcomes=f"Outcomes {marker}",
            confidentiality=confidentiality[obj],
            starts_at=now - dt.timedelta(days=2, hours=index),
            partners=[partner],
            contacts=[contact],
            topics=[topic],
            staff=staff_of[obj],
            trade_mission=mission,
            owner=users["officer"],
            follow_up_by=timezone.localdate() + dt.timedelta(days=3),
        )
        commitments[obj] = CommitmentFactory(
            description=f"Commitment {marker}",
            engagement=engagements[obj],
            partner=partner,
            owner=users["officer"],
            due_date=timezone.localdate() + dt.timedelta(days=5),
        )
        gifts[obj] = GiftFactory(description=f"Gift {marker}", engagement=engagements[obj], partner=partner)
    world = World(
        users=users,
        partner=partner,
        contact=contact,
        topic=topic,
        agreement=agreement,
        mission=mission,
        engagements=engagements,
        commitments=commitments,
        gifts=gifts,
        markers=markers,
        base=base,
    )
    world.extra["twin"] = PartnerFactory(name="City of Osaka (duplicate)", country="JP", city="Osaka")
    try:
        from imports.models import ImportJob

        world.import_job = ImportJob.objects.create(
            kind="engagements",
            created_by=users["staff"],
            filename="meetings.csv",
            content=b"title,kind\nA,call\n",
            size=18,
            headers=["title", "kind"],
            total_rows=1,
        )
    except LookupError:  # pragma: no cover (imports app not installed)
        pass
    return world


@pytest.fixture(scope="module")
def matrix_world(django_db_setup, django_db_blocker):
    """The common world plus the matrix's cast and marked records (module docstring), once per module."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            built = build_matrix_world()
            for actor in ACTORS[1:]:
                built.client(actor)  # one session per actor, outside any test's savepoint
            # `removed` signed in as staff; then the role is taken away, the session kept.
            built.users["removed"].groups.clear()
            yield built
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _attachment_storage(settings, tmp_path):
    # Files attached during a case land in the test's own directory, never under var/.
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                        "OPTIONS": {"location": str(tmp_path / "attachments")}},
    }


def attachment_of(world, obj):
    """A text file attached to engagement `obj`, its name and content carrying the engagement's marker
    (made inside each actor's savepoint, so never kept)."""
    import hashlib

    from django.core.files.base import ContentFile

    from attachments.models import Attachment
    from attachments.services import storage

    content = f"Notes {world.markers[obj]}\n".encode()
    blob = storage().save(f"matrix/{uuid.uuid4().hex}", ContentFile(content))
    return Attachment.objects.create(
        engagement=world.engagements[obj], blob=blob, filename=f"Notes {world.markers[obj]}.txt",
        content_type="text/plain", size=len(content), sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=world.users["officer"],
    )


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # API throttles count in the cache; every case starts with a clean slate.
    cache.clear()
    yield


@pytest.fixture(scope="module")
def matrix_counts(request):
    """The permission matrix's figures (tests/security/matrix.py), kept for the summary after the run."""
    yield
    from .matrix import COUNTS

    request.config._matrix_counts = dict(COUNTS)


@pytest.fixture(scope="module")
def bad_input_figures(request):
    """The bad-input figures (tests/security/bad_input.py), kept for the summary after the run."""
    yield
    from .bad_input import STATS

    request.config._security_figures = dict(STATS)


def _counted_models() -> list:
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in OUR_APPS or model._meta.label == "auth.User"
    ]


_ROW_COUNTS_SQL: dict[str, tuple[list[str], str]] = {}


def row_counts() -> dict[str, int]:
    """Row count of every table of our apps (history and many-to-many tables included): the DB snapshot.

    One query (a COUNT(*) subselect per table) rather than one per table: the
    matrix and the bad-input suites take this snapshot around thousands of
    requests, and ~40 round trips each were most of their database time.
    """
    if connection.vendor not in _ROW_COUNTS_SQL:
        models = _counted_models()
        quote = connection.ops.quote_name
        sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote(m._meta.db_table)})" for m in models)
        _ROW_COUNTS_SQL[connection.vendor] = ([m._meta.label for m in models], sql)
    labels, sql = _ROW_COUNTS_SQL[connection.vendor]
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(zip(labels, cursor.fetchone(), strict=True))


def csp_directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def check_headers(response, url, signed_in=True):
    assert response["X-Content-Type-Options"] == "nosniff", url
    assert response.get("Referrer-Policy") in ("same-origin", "strict-origin-when-cross-origin", "no-referrer"), url
    content_type = response.get("Content-Type", "")
    if content_type.startswith("text/html"):
        assert response.get("X-Frame-Options") == "DENY", url
        csp = csp_directives(response.get("Content-Security-Policy", ""))
        assert csp, f"{url}: no Content-Security-Policy"
        script = csp.get("script-src", csp.get("default-src", []))
        assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, url
        assert csp.get("frame-ancestors") == ["'none'"], url
        assert "'unsafe-inline'" not in csp.get("style-src", []), url
    if signed_in and response.status_code == 200:
        cache = response.get("Cache-Control", "")
        assert "no-store" in cache, f"{url}: confidential page without no-store ({cache!r})"


def admin_form_data(response) -> dict:
    """The values of the admin form on a rendered change or history-version page, as a browser would post them."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        bound = form[name]
        value = bound.value()
        widget = bound.field.widget
        if hasattr(widget, "widgets"):  # split date and time: two inputs
            for index, part in enumerate(widget.decompress(value) if value is not None else []):
                data[f"{name}_{index}"] = "" if part is None else str(part)
        elif isinstance(value, (list, tuple)):
            data[name] = [str(v) for v in value]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            formatted = widget.format_value(value)
            data[name] = "" if formatted is None else formatted
    return data


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The figures QUALITY.md 3.7 and 3.8 ask for, printed after the run."""
    matrix = getattr(config, "_matrix_counts", None)
    if matrix:
        terminalreporter.write_sep("-", "permission matrix (S2)")
        terminalreporter.write_line(
            f"cases run: GET {matrix['get']}, POST {matrix['post']}, API {matrix.get('api', 0)}, "
            f"admin {matrix.get('admin', 0)}; 5xx = {matrix['5xx']}; leaks = {matrix['leaks']}; "
            f"refused writes checked {matrix.get('refused_writes', 0)}, of which changed data: "
            f"{matrix.get('writes_by_refused', 0)}"
        )
    figures = getattr(config, "_security_figures", None)
    if figures:
        terminalreporter.write_sep("-", "bad input (QUALITY.md 3.7)")
        terminalreporter.write_line(f"hand-written cases tried: {figures['tried']}")
        terminalreporter.write_line(f"5xx = {figures['5xx']}")
        terminalreporter.write_line(f"rejected requests that changed data = {figures['rejected_changed_data']}")
        terminalreporter.write_line(f"unescaped payload renders = {figures['unescaped_renders']}")
        terminalreporter.write_line(
            f"responses without field errors among the rejections = {figures['rejections_without_field_errors']}"
            f" (of {figures['rejections']} rejections)"
        )


def captured_message(world, *, restricted: bool = False, from_colleague: bool = False, with_file: bool = False):
    """A message in the mail triage inbox (mailcapture/), from an unknown sender; `restricted`: sent by the
    cast's staff member with "[restricted]" in its subject; `from_colleague`: sent by them unmarked, restricted
    by default (in both cases only officers and that sender see it); `with_file`: with a PDF attached."""
    from mailcapture.models import CapturedMessage

    sender = world.users["staff"] if restricted or from_colleague else None
    subject = "[restricted] Letter from the consulate" if restricted else "Letter from the consulate"
    raw = f"From: consul@embassy.example.net\r\nSubject: {subject}\r\nMessage-ID: <{uuid.uuid4().hex}@x>\r\n\r\nHello\r\n"
    if with_file:
        from email import message_from_string, policy

        from tests.attachments.files import PDF

        mail = message_from_string(raw, policy=policy.default)
        mail.add_attachment(PDF, maintype="application", subtype="pdf", filename="letter.pdf")
        raw = mail.as_string()
    return CapturedMessage.objects.create(
        message_id=f"<{uuid.uuid4().hex}@matrix>", raw=raw.encode(), subject=subject, from_address="consul@embassy.example.net",
        status="triage", reason="Unknown sender", sender=sender, confidentiality="restricted" if restricted else "",
    )
