"""A role is required to see anything; taking it away (or the account) ends access at once.

Issue 13: a signed-in user with no role read the dashboard, every list and
its CSV, contacts, gifts, briefings, search and the calendar feed. Now every
page answers 403 "You have no role yet; ask an administrator", every API
call 403 JSON, with no data; removing the role or deactivating the user ends
a live session and an API token at the next request; a new password revokes
the token.
"""

import json

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.world import make_user
from tests.factories import ContactFactory, EngagementFactory, PartnerFactory

pytestmark = pytest.mark.django_db

MARKER = "LEAK-no-role-7310"
PAGES = [
    "/",
    "/partners/",
    "/partners/?format=csv",
    "/contacts/",
    "/engagements/",
    "/engagements/?format=csv",
    "/commitments/",
    "/gifts/",
    "/search/?q=LEAK",
    "/accounts/preferences/",
    "/admin/",
]
API = ["/api/v1/", "/api/v1/partners/", "/api/v1/engagements/", "/api/v1/contacts/", "/api/v1/schema/"]


@pytest.fixture
def data():
    partner = PartnerFactory(name=f"Partner {MARKER}")
    ContactFactory(partner=partner, full_name=f"Contact {MARKER}")
    return EngagementFactory(title=f"Meeting {MARKER}", confidentiality="internal", partners=[partner])


@pytest.fixture
def nobody(django_user_model):
    return make_user(django_user_model, "nora_norole")


def token_client(user) -> Client:
    token, _ = Token.objects.get_or_create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}")


def assert_no_role_page(response, url):
    assert response.status_code == 403, (url, response.status_code)
    body = response.content.decode()
    assert MARKER not in body, url
    if url.startswith("/api/v1/schema/"):
        assert "You have no role yet" in body  # in the schema's own format (YAML)
    elif url.startswith("/api/"):
        assert json.loads(body) == {"detail": "You have no role yet; ask an administrator to give you one."}, url
    else:
        assert "You have no role yet; ask an administrator" in body, url


def test_a_user_without_a_role_sees_no_page(data, nobody, client_for):
    client = client_for(nobody)
    for url in PAGES + API:
        assert_no_role_page(client.get(url), url)
    # Writes are refused the same way, and write nothing.
    response = client.post("/api/v1/partners/", {"name": "New"}, content_type="application/json")
    assert_no_role_page(response, "/api/v1/partners/")


def test_a_token_without_a_role_reads_nothing(data, nobody):
    client = token_client(nobody)
    for url in API:
        assert_no_role_page(client.get(url), url)


def test_signing_in_and_out_and_the_password_stay_open(nobody, client_for):
    client = client_for(nobody)
    page = client.get("/accounts/password_change/")
    assert page.status_code == 200 and "Change your password" in page.content.decode()
    assert client.get("/healthz").status_code in (200, 503)
    assert client.post("/accounts/logout/").status_code == 302
    page = Client().get("/accounts/login/")
    assert page.status_code == 200 and 'name="password"' in page.content.decode()


def test_removing_the_role_ends_the_session_and_the_token_at_the_next_request(data, django_user_model, client_for):
    user = make_user(django_user_model, "sam_staff", "staff")
    session, token = client_for(user), token_client(user)
    assert MARKER in session.get("/engagements/").content.decode()
    assert MARKER in token.get("/api/v1/engagements/").content.decode()
    user.groups.remove(Group.objects.get(name="staff"))
    assert_no_role_page(session.get("/engagements/"), "/engagements/")
    assert_no_role_page(session.get("/api/v1/engagements/"), "/api/v1/engagements/")
    assert_no_role_page(token.get("/api/v1/engagements/"), "/api/v1/engagements/")


def test_deactivating_ends_the_session_and_the_token(data, django_user_model, client_for):
    user = make_user(django_user_model, "sam_staff", "staff")
    session, token = client_for(user), token_client(user)
    assert session.get("/engagements/").status_code == 200
    user.is_active = False
    user.save()
    response = session.get("/engagements/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    response = token.get("/api/v1/engagements/")
    assert response.status_code == 401 and MARKER not in response.content.decode()


def test_a_new_password_revokes_the_api_token(django_user_model, client_for):
    user = make_user(django_user_model, "sam_staff", "staff")
    client = token_client(user)
    assert client.get("/api/v1/partners/").status_code == 200
    # Through the password change page, as the user would.
    page = client_for(user)
    response = page.post(
        "/accounts/password_change/",
        {"old_password": "correct horse battery staple", "new_password1": "a new long passphrase 42", "new_password2": "a new long passphrase 42"},
    )
    assert response.status_code == 302
    assert not Token.objects.filter(user=user).exists()
    assert client.get("/api/v1/partners/").status_code == 401
    # A save that does not change the password keeps a new token.
    fresh = token_client(user)
    user.first_name = "Samuel"
    user.save()
    assert fresh.get("/api/v1/partners/").status_code == 200
    # set_password() from the back office or `changepassword` revokes it too.
    user.set_password("another long passphrase 43")
    user.save()
    assert fresh.get("/api/v1/partners/").status_code == 401
