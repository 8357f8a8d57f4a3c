"""S7 headers on every page, S3 CSRF on every form, no writes on GET/HEAD, S11 error pages."""

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path, reverse

from .conftest import check_headers, row_counts
from .test_permission_matrix import ROUTES

pytestmark = pytest.mark.django_db


def html_get_routes(matrix_world):
    for route in ROUTES:
        if route.get is None:
            continue
        for obj in route.objects:
            yield reverse(route.name, kwargs=route.kwargs(matrix_world, obj))


def test_every_page_carries_the_security_headers_and_get_head_write_nothing(matrix_world):
    client = matrix_world.client("officer")
    urls = list(html_get_routes(matrix_world))  # (some routes' records, e.g. an attachment, are made here)
    before = row_counts()
    checked = 0
    # GET responses' headers are checked in the permission matrix, for every actor; here HEAD.
    for url in urls:
        response = client.head(url)
        assert response.status_code < 500, url
        check_headers(response, url)
        checked += 1
    for url in ("/partners/?format=csv", "/engagements/?format=csv", "/api/v1/partners/", "/api/v1/schema/"):
        response = client.get(url)
        check_headers(response, url)
    assert row_counts() == before, "a GET or HEAD changed data"
    assert checked > 50


def test_anonymous_pages_carry_the_headers_too(matrix_world):
    client = Client()
    for url in ("/accounts/login/", "/nope/", "/partners/"):
        check_headers(client.get(url), url, signed_in=False)


# --- S3 CSRF: every state-changing form refuses a POST without the token ---


def csrf_targets(matrix_world):
    for route in ROUTES:
        if route.post is None:
            continue
        for obj in route.objects:
            yield reverse(route.name, kwargs=route.kwargs(matrix_world, obj))
    job = matrix_world.import_job.pk
    yield from [
        "/accounts/logout/",
        "/accounts/preferences/",
        "/import/",
        f"/import/{job}/",
        f"/import/{job}/commit/",
        f"/import/{job}/resume/",
        f"/import/{job}/cancel/",
        f"/import/duplicates/merge/partner/{matrix_world.partner.pk}/{matrix_world.extra['twin'].pk}/",
        f"/history/engagement/{matrix_world.engagements['internal'].pk}/restore/"
        f"{matrix_world.engagements['internal'].history.latest().history_id}/",
    ]


def test_every_form_refuses_a_post_without_the_csrf_token(matrix_world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(matrix_world.users["officer"])
    targets = list(csrf_targets(matrix_world))  # (some routes' records, e.g. an attachment, are made here)
    before = row_counts()
    for url in targets:
        response = client.post(url, {"name": "x", "confirm": "yes", "title": "x"})
        assert response.status_code == 403, (url, response.status_code)
        assert row_counts() == before, f"{url} wrote without a CSRF token"
    assert len(targets) >= 25


def test_the_api_refuses_a_session_write_without_the_csrf_token(matrix_world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(matrix_world.users["officer"])
    before = row_counts()
    response = client.post("/api/v1/topics/", {"name": "Energy", "slug": "energy"}, content_type="application/json")
    assert response.status_code == 403
    assert row_counts() == before


# --- S11 errors ---


def boom(request):
    raise RuntimeError("kaboom: SECRET_KEY=leaky DATABASES password")


def ok(request):
    return HttpResponse("ok")


urlpatterns = [path("boom/", boom), path("", include("diplomacy_crm.urls"))]


@pytest.mark.urls(__name__)
def test_an_exception_shows_the_generic_500_page(settings, matrix_world):
    settings.DEBUG = False
    client = matrix_world.client("officer", raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    for secret in ("kaboom", "Traceback", "SECRET_KEY", "DATABASES", "RuntimeError", "settings", "File \""):
        assert secret not in body, secret
    assert "<script" not in body
    assert '/static/css/crm.css' in body


def test_error_pages_are_finished_pages(matrix_world):
    client = Client()
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Not found" in response.content.decode() and "<h1>" in response.content.decode()
    client = matrix_world.client("officer")
    assert client.get("/no-such-page/").status_code == 404
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400 and "Bad request" in response.content.decode()


def test_a_forbidden_action_shows_the_403_page(matrix_world):
    client = matrix_world.client("viewer")
    response = client.get("/engagements/new/")
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


def test_someone_elses_restricted_record_is_404_not_403(matrix_world):
    secret = matrix_world.engagements["secret"]
    for actor in ("viewer", "staff", "other_staff"):
        client = matrix_world.client(actor)
        for url in (f"/engagements/{secret.pk}/", f"/api/v1/engagements/{secret.pk}/",
                    f"/commitments/{matrix_world.commitments['secret'].pk}/", f"/history/engagement/{secret.pk}/"):
            assert client.get(url).status_code == 404, (actor, url)
        # The same answer as for an id that does not exist.
        assert client.get("/engagements/999999999/").status_code == 404
