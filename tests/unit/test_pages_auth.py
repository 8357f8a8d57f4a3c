"""Sign-in pages and the base layout."""

import pytest
from django.test import override_settings

from tests.world import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_page_is_labelled_and_has_one_heading(client):
    body = client.get("/accounts/login/").content.decode()
    assert '<label class="usa-label" for="id_username">' in body
    assert '<label class="usa-label" for="id_password">' in body
    assert body.count("<h1") == 1
    assert "Skip to main content" in body


def test_login_redirects_to_the_dashboard(client, viewer):
    response = client.post("/accounts/login/", {"username": viewer.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"


def test_a_wrong_password_is_an_error_on_the_form(client, viewer):
    response = client.post("/accounts/login/", {"username": viewer.username, "password": "nope"})
    assert response.status_code == 200
    assert "usa-alert--error" in response.content.decode()


def test_logout_is_a_post_and_shows_the_signed_out_page(client_for, viewer):
    client = client_for(viewer)
    body = client.get("/partners/").content.decode()
    assert 'action="/accounts/logout/"' in body and 'method="post"' in body
    response = client.post("/accounts/logout/")
    assert response.status_code in (200, 302)
    assert client.get("/partners/").status_code == 302


def test_password_change_pages(client_for, viewer):
    client = client_for(viewer)
    body = client.get("/accounts/password_change/").content.decode()
    assert "Change your password" in body
    response = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"},
    )
    assert 'id="id_new_password2-error"' in response.content.decode()
    new = "a much longer harbour lantern 42"
    response = client.post(
        "/accounts/password_change/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    assert "Password changed" in client.get(response["Location"]).content.decode()


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=2)
def test_lockout_page(client, viewer):
    for _ in range(3):
        response = client.post("/accounts/login/", {"username": viewer.username, "password": "wrong"})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()


def test_navigation_by_role(client_for, viewer, staff_user, officer):
    body = client_for(viewer).get("/partners/").content.decode()
    for link in ['href="/"', 'href="/partners/"', 'href="/contacts/"', 'href="/engagements/"', 'href="/missions/"',
                 'href="/commitments/"', 'href="/agreements/"', 'href="/accounts/preferences/"', 'action="/search/"']:
        assert link in body, link
    assert 'href="/outbox/"' not in body
    assert "Log a meeting" not in body
    assert "Log a meeting" in client_for(staff_user).get("/partners/").content.decode()
    body = client_for(officer).get("/partners/").content.decode()
    assert 'href="/outbox/"' in body
    assert 'aria-current="page"' in body


def test_base_layout_loads_no_inline_script_or_style(client_for, viewer):
    import re

    body = client_for(viewer).get("/engagements/").content.decode()
    assert " style=" not in body and "<style" not in body
    for tag in re.findall(r"<script[^>]*>", body):
        assert "src=" in tag, tag
    assert '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false}\'>' in body
