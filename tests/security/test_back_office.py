"""The back office (/admin/) under the access rule (issue 13's findings, reproduced).

On `main` every demo user had `is_staff`, and as the viewer `victor` the back
office showed and restored a restricted engagement's history version, a trade
mission's page listed commitments of restricted engagements, and
/admin/engagements/commitment/add/ accepted (or told apart) restricted
engagement ids. Now only superusers enter; and whoever enters, were the door
ever widened, sees only what `accounts.access` lets them see (tested with the
door opened to `is_staff` users).
"""

import pytest
from django.contrib import admin
from django.core.management import call_command

from engagements.models import Commitment, Engagement
from tests.world import make_user
from tests.factories import CommitmentFactory, ContactFactory, EngagementFactory, PartnerFactory, TradeMissionFactory
from tests.security.conftest import admin_form_data

pytestmark = pytest.mark.django_db

SECRET = "LEAK-restricted-meeting-7731"


@pytest.fixture
def victor(django_user_model):
    """The issue's viewer, with is_staff as load_demo used to give it."""
    return make_user(django_user_model, "victor", "viewer", is_staff=True)


@pytest.fixture
def sam(django_user_model):
    return make_user(django_user_model, "sam", "staff", is_staff=True)


@pytest.fixture
def restricted(officer):
    mission = TradeMissionFactory(name="Kansai mission")
    engagement = EngagementFactory(
        title=f"Meeting {SECRET}", summary=f"Summary {SECRET}", confidentiality="restricted", trade_mission=mission
    )
    CommitmentFactory(description=f"Commitment {SECRET}", engagement=engagement, trade_mission=mission)
    return engagement


def version_url(engagement, history_id=None):
    history_id = history_id or engagement.history.latest().history_id
    return f"/admin/engagements/engagement/{engagement.pk}/history/{history_id}/"


@pytest.fixture
def door_open_to_staff(monkeypatch):
    """As if the back office let in every active `is_staff` user (Django's default rule)."""
    site_class = admin.site.__class__  # the lazy default site's real class
    monkeypatch.setattr(site_class, "has_permission", lambda self, request: request.user.is_active and request.user.is_staff)


# --- Who enters ---------------------------------------------------------------------------


def test_viewer_with_is_staff_cannot_read_a_restricted_history_version(victor, restricted, client_for):
    client = client_for(victor)
    for url in (version_url(restricted), f"/admin/engagements/engagement/{restricted.pk}/history/", "/admin/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url
        assert SECRET not in response.content.decode()


def test_viewer_with_is_staff_cannot_revert_a_restricted_engagement(victor, restricted, client_for):
    before = restricted.history.count()
    response = client_for(victor).post(
        version_url(restricted),
        {"title": "Reverted", "kind": restricted.kind, "confidentiality": "internal", "staff": [victor.pk]},
    )
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    restricted.refresh_from_db()
    assert restricted.confidentiality == "restricted" and SECRET in restricted.title
    assert not restricted.staff.filter(pk=victor.pk).exists()
    assert restricted.history.count() == before


@pytest.mark.parametrize("role", ["viewer", "staff", "officer"])
def test_no_role_enters_the_back_office_even_with_is_staff(django_user_model, role, client_for):
    user = make_user(django_user_model, f"{role}_x", role, is_staff=True)
    response = client_for(user).get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    # The admin's login page says this account may not enter, and offers another login.
    page = client_for(user).get("/admin/login/").content.decode()
    assert "not authorized to access this page" in page


def test_superuser_enters(restricted, client_for):
    response = client_for("superuser").get(f"/admin/engagements/engagement/{restricted.pk}/change/")
    assert response.status_code == 200 and SECRET in response.content.decode()


def test_load_demo_gives_is_staff_to_the_superuser_only(django_user_model):
    call_command("load_demo", "--quiet-login")
    staff_flags = dict(django_user_model.objects.values_list("username", "is_staff"))
    assert staff_flags == {"admin": True, "olivia": False, "marco": False, "sam": False, "priya": False, "victor": False}
    # An older demo database (everyone is_staff) is corrected on the next run.
    django_user_model.objects.update(is_staff=True)
    call_command("load_demo", "--quiet-login")
    assert set(django_user_model.objects.filter(is_staff=True).values_list("username", flat=True)) == {"admin"}


# --- Whoever enters sees only what they may (the door opened to staff) ------------------------


def test_history_of_a_record_the_user_may_not_see_is_a_404(door_open_to_staff, victor, restricted, client_for):
    client = client_for(victor)
    for url in (f"/admin/engagements/engagement/{restricted.pk}/history/", version_url(restricted)):
        response = client.get(url)
        assert response.status_code == 404, url
        assert SECRET not in response.content.decode()
    commitment = restricted.commitments.get()
    response = client.get(f"/admin/engagements/commitment/{commitment.pk}/history/{commitment.history.latest().history_id}/")
    assert response.status_code == 404


def test_a_deleted_restricted_engagement_stays_hidden(door_open_to_staff, victor, restricted, superuser, client_for):
    history_id = restricted.history.latest().history_id
    pk = restricted.pk
    restricted.commitments.all().delete()
    restricted.delete()
    client = client_for(victor)
    assert client.get(f"/admin/engagements/engagement/{pk}/history/").status_code == 404
    response = client.post(f"/admin/engagements/engagement/{pk}/history/{history_id}/", {"title": "back"})
    assert response.status_code == 404
    assert not Engagement.objects.filter(pk=pk).exists()


def test_revert_needs_change_permission(door_open_to_staff, victor, viewer, officer, client_for):
    internal = EngagementFactory(title="Open meeting", confidentiality="internal")
    first = internal.history.latest().history_id
    internal.title = "Renamed"
    internal.save()
    before = internal.history.count()
    client = client_for(victor)
    assert client.get(version_url(internal, first)).status_code == 200  # a viewer may look
    response = client.post(version_url(internal, first), {"title": "Open meeting", "kind": internal.kind})
    assert response.status_code == 403
    internal.refresh_from_db()
    assert internal.title == "Renamed" and internal.history.count() == before


def test_a_revert_is_one_save_with_the_actor(superuser, partner_with_engagement, client_for):
    engagement = partner_with_engagement
    first = engagement.history.earliest()
    engagement.title = "Renamed"
    engagement.save()
    before = engagement.history.count()
    client = client_for(superuser)
    form_page = client.get(version_url(engagement, first.history_id))
    assert form_page.status_code == 200
    data = admin_form_data(form_page)
    response = client.post(version_url(engagement, first.history_id), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    engagement.refresh_from_db()
    assert engagement.title == first.title
    assert engagement.history.count() == before + 1
    latest = engagement.history.latest()
    assert latest.history_user == superuser and latest.title == first.title
    # The version's links come back with it (not today's), and the new row records them.
    links = set(first.partners.values_list("partner_id", flat=True))
    assert set(engagement.partners.values_list("pk", flat=True)) == links
    assert set(latest.partners.values_list("partner_id", flat=True)) == links


def test_the_mission_page_lists_only_visible_commitments(door_open_to_staff, victor, restricted, client_for):
    visible = CommitmentFactory(description="Visible promise", trade_mission=restricted.trade_mission, engagement=None)
    response = client_for(victor).get(f"/admin/engagements/trademission/{restricted.trade_mission.pk}/change/")
    page = response.content.decode()
    assert response.status_code == 200
    assert visible.description in page
    assert SECRET not in page


def test_a_restricted_engagement_is_not_a_choice(door_open_to_staff, sam, restricted, client_for):
    """Staff attaching a commitment to a restricted engagement: the answer a missing id gets, and no row."""
    client = client_for(sam)
    add = "/admin/engagements/commitment/add/"
    missing_id = Engagement.objects.order_by("-pk").first().pk + 1000
    answers = {}
    for label, engagement_id in (("restricted", restricted.pk), ("missing", missing_id)):
        before = Commitment.objects.count()
        response = client.post(add, {"description": "Attach", "engagement": engagement_id, "made_by": "city", "status": "open", "priority": "normal"})
        assert response.status_code == 200
        assert Commitment.objects.count() == before
        errors = response.context["adminform"].form.errors
        assert "Select a valid choice" in " ".join(errors["engagement"])
        assert str(restricted.pk) not in " ".join(errors["engagement"])
        answers[label] = errors["engagement"]
    assert answers["restricted"] == answers["missing"]
    # The autocomplete offers no restricted engagement either.
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "engagements", "model_name": "commitment", "field_name": "engagement", "term": "LEAK"},
    )
    assert response.status_code == 200 and response.json()["results"] == []


def test_changelists_hide_restricted_rows(door_open_to_staff, victor, restricted, client_for):
    client = client_for(victor)
    for url in ("/admin/engagements/engagement/", "/admin/engagements/commitment/", "/admin/engagements/gift/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert SECRET not in response.content.decode(), url
    assert client.get(f"/admin/engagements/engagement/{restricted.pk}/change/").status_code in (302, 404)


# --- Bounded pages ------------------------------------------------------------------------


def test_a_partner_with_hundreds_of_contacts_links_to_them(django_assert_max_num_queries, client_for):
    partner = PartnerFactory(name="Busy partner")
    ContactFactory.create_batch(5, partner=partner, full_name="Few contact")
    client = client_for("superuser")
    url = f"/admin/partners/partner/{partner.pk}/change/"
    small = client.get(url)
    ContactFactory.create_batch(300, partner=partner, full_name="Many contact")
    with django_assert_max_num_queries(40):
        large = client.get(url)
    assert large.status_code == 200
    page = large.content.decode()
    assert "Many contact" not in page and "Few contact" not in page
    assert f'href="/admin/partners/contact/?partner__id__exact={partner.pk}"' in page and ">305 contacts<" in page
    assert len(large.content) < len(small.content) + 200  # the page does not grow with the contacts
    listed = client.get(f"/admin/partners/contact/?partner__id__exact={partner.pk}")
    assert listed.status_code == 200 and "305 contacts" in listed.content.decode()


# --- helpers --------------------------------------------------------------------------------


@pytest.fixture
def partner_with_engagement(officer):
    partner = PartnerFactory(name="Osaka")
    return EngagementFactory(title="First title", confidentiality="internal", partners=[partner], owner=officer)




def test_versions_written_while_restricted_are_left_out_of_the_history(door_open_to_staff, victor, restricted, client_for):
    """Now internal, once restricted: the viewer sees the record's history without its restricted versions."""
    restricted.title = "Now an open meeting"
    restricted.summary = "Nothing secret"
    restricted.confidentiality = "internal"
    restricted.save()
    secret_version = restricted.history.earliest()
    client = client_for(victor)
    response = client.get(f"/admin/engagements/engagement/{restricted.pk}/history/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Now an open meeting" in page and SECRET not in page
    assert client.get(version_url(restricted, secret_version.history_id)).status_code == 404
    latest = client.get(version_url(restricted))
    assert latest.status_code == 200 and "Now an open meeting" in latest.content.decode()


def test_malformed_history_ids_are_404s(restricted, client_for):
    client = client_for("superuser")
    for url in (
        "/admin/engagements/engagement/abc/history/",
        f"/admin/engagements/engagement/{restricted.pk}/history/abc/",
        "/admin/engagements/engagement/abc/history/1/",
        f"/admin/engagements/engagement/{restricted.pk}/history/99999999/",
        "/admin/engagements/engagement/99999999/history/",
    ):
        response = client.get(url)
        assert response.status_code == 404, (url, response.status_code)


def test_a_deleted_record_is_brought_back_by_one_save(superuser, partner_with_engagement, client_for):
    engagement = partner_with_engagement
    pk, version = engagement.pk, engagement.history.latest()
    engagement.delete()
    before = Engagement.history.filter(id=pk).count()
    client = client_for(superuser)
    url = version_url(engagement, version.history_id).replace("/None/", f"/{pk}/")
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, admin_form_data(page))
    assert response.status_code == 302
    restored = Engagement.objects.get(pk=pk)
    assert restored.title == "First title" and restored.partners.count() == 1
    rows = Engagement.history.filter(id=pk)
    assert rows.count() == before + 1
    assert rows.latest().history_type == "+" and rows.latest().history_user == superuser
