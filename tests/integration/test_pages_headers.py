"""Every page of partners/ and engagements/ answers a GET with the security headers (QUALITY S7)."""

import re

import pytest
from django.urls import URLResolver, get_resolver


pytestmark = pytest.mark.django_db


def page_urls(w) -> dict[str, str]:
    """One concrete URL per route name of partners/urls.py and engagements/urls.py (GET-able ones)."""
    return {
        "partners:list": "/partners/",
        "partners:create": "/partners/new/",
        "partners:lookup": "/partners/lookup/?q=a",
        "partners:edit": f"/partners/{w['japan'].pk}/edit/",
        "partners:archive": f"/partners/{w['japan'].pk}/archive/",
        "partners:contact-list": "/contacts/",
        "partners:contact-create": "/contacts/new/",
        "partners:contact-lookup": f"/contacts/lookup/?partner={w['japan'].pk}",
        "partners:contact-detail": f"/contacts/{w['consul'].pk}/",
        "partners:contact-edit": f"/contacts/{w['consul'].pk}/edit/",
        "partners:contact-delete": f"/contacts/{w['consul'].pk}/delete/",
        "partners:agreement-list": "/agreements/",
        "partners:agreement-create": "/agreements/new/",
        "partners:agreement-detail": f"/agreements/{w['agreement'].pk}/",
        "partners:agreement-edit": f"/agreements/{w['agreement'].pk}/edit/",
        "partners:agreement-delete": f"/agreements/{w['agreement'].pk}/delete/",
        "engagements:list": "/engagements/",
        "engagements:create": "/engagements/new/",
        "engagements:invitation": "/engagements/invitation/",
        "engagements:detail": f"/engagements/{w['public'].pk}/",
        "engagements:edit": f"/engagements/{w['public'].pk}/edit/",
        "engagements:delete": f"/engagements/{w['public'].pk}/delete/",
        "engagements:mission-list": "/missions/",
        "engagements:mission-create": "/missions/new/",
        "engagements:mission-lookup": "/missions/lookup/?q=a",
        "engagements:mission-detail": f"/missions/{w['mission'].pk}/",
        "engagements:mission-edit": f"/missions/{w['mission'].pk}/edit/",
        "engagements:mission-delete": f"/missions/{w['mission'].pk}/delete/",
        "engagements:commitment-list": "/commitments/",
        "engagements:commitment-create": "/commitments/new/",
        "engagements:commitment-detail": f"/commitments/{w['open_promise'].pk}/",
        "engagements:commitment-edit": f"/commitments/{w['open_promise'].pk}/edit/",
        "engagements:commitment-delete": f"/commitments/{w['open_promise'].pk}/delete/",
        "engagements:commitment-done": f"/commitments/{w['open_promise'].pk}/done/",
        "login": "/accounts/login/",
        "password_change": "/accounts/password_change/",
        "password_change_done": "/accounts/password_change/done/",
    }


POST_ONLY = {"partners:quick-create"}


def route_names() -> set[str]:
    """Every route name of the partners and engagements namespaces (one namespace spans several prefixes)."""

    def names(patterns):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from names(p.url_patterns)
            else:
                yield p.name

    found = set()
    for pattern in get_resolver().url_patterns:
        namespace = getattr(pattern, "namespace", None)
        if namespace in ("partners", "engagements"):
            found |= {f"{namespace}:{name}" for name in names(pattern.url_patterns)}
    return found


def test_every_route_of_these_apps_is_covered(world):
    assert route_names() - POST_ONLY == {n for n in page_urls(world) if ":" in n}


def test_every_page_sends_a_strict_csp_and_the_other_headers(client_for, world, officer):
    client = client_for(officer)
    for name, url in page_urls(world).items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        csp = response["Content-Security-Policy"]
        script_src = re.search(r"script-src ([^;]*)", csp).group(1)
        assert "'unsafe-inline'" not in script_src, name
        assert "'unsafe-inline'" not in re.search(r"style-src ([^;]*)", csp).group(1), name
        assert "frame-ancestors 'none'" in csp, name
        assert response["X-Content-Type-Options"] == "nosniff", name
        assert response["Referrer-Policy"] == "same-origin", name
        if response["Content-Type"].startswith("text/html"):
            body = response.content.decode()
            assert " style=" not in body and "<style" not in body, name
            for tag in re.findall(r"<script[^>]*>", body):
                assert "src=" in tag, (name, tag)


def test_post_only_endpoints_refuse_get(client_for, officer):
    client = client_for(officer)
    assert client.get("/partners/quick/").status_code == 405


def test_lists_and_details_are_not_cached(client_for, world, viewer):
    client = client_for(viewer)
    for url in ["/engagements/", f"/engagements/{world['public'].pk}/", "/commitments/", "/engagements/?format=csv"]:
        assert client.get(url)["Cache-Control"] == "no-store", url
