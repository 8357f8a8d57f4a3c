"""The OpenAPI schema and the interactive docs."""

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command

from .resources import RESOURCES

pytestmark = pytest.mark.django_db


def test_the_schema_validates_without_a_single_warning(tmp_path):
    # Raises (SchemaGenerationError) on any warning or an invalid document.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    schema = yaml.safe_load((tmp_path / "schema.yaml").read_text())
    assert schema["openapi"].startswith("3.")


@pytest.fixture
def schema(client_as):
    response = client_as("viewer").get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_served_to_users_only(client_as, schema):
    assert client_as("anonymous").get("/api/v1/schema/").status_code == 401
    paths = set(schema["paths"])
    for resource in RESOURCES:
        assert {f"/api/v1/{resource.name}/", f"/api/v1/{resource.name}/{{id}}/"} <= paths
    assert set(schema["components"]["securitySchemes"]) == {"tokenAuth", "cookieAuth"}


def test_the_schema_types_fields_and_filters(schema):
    components = schema["components"]["schemas"]
    engagement = components["Engagement"]["properties"]
    assert engagement["starts_at"] == {"type": "string", "format": "date-time", "description": engagement["starts_at"]["description"]}
    assert engagement["partners"]["items"]["type"] == "integer"
    assert engagement["staff"]["items"]["type"] == "string"
    assert components["ConfidentialityEnum"]["enum"] == ["public", "internal", "restricted"]
    assert components["EngagementStatusEnum"]["enum"] == ["planned", "held", "cancelled"]
    assert set(components["PriorityEnum"]["enum"]) == {1, 2, 3}
    assert "JP" in components["CountryCode"]["enum"] and len(components["CountryCode"]["enum"]) == 249
    assert components["TradeMission"]["properties"]["countries"]["items"] == {"$ref": "#/components/schemas/CountryCode"}
    partner = components["Partner"]["properties"]
    assert partner["open_commitments"]["readOnly"] and partner["last_engagement_at"]["readOnly"]
    params = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/commitments/"]["get"]["parameters"]}
    assert params["partner"]["type"] == "integer"
    assert params["overdue"]["type"] == "boolean"
    assert params["due_before"] == {"type": "string", "format": "date"}
    assert params["status"]["enum"] == ["done", "dropped", "in_progress", "open"]
    engagement_params = {p["name"] for p in schema["paths"]["/api/v1/engagements/"]["get"]["parameters"]}
    assert {"partner", "kind", "status", "country", "topic", "trade_mission", "confidentiality", "starts_after",
            "starts_before", "q", "page", "page_size"} <= engagement_params  # fmt: skip


def test_delete_documents_its_conflict(schema):
    assert "409" in schema["paths"]["/api/v1/partners/{id}/"]["delete"]["responses"]


def test_the_docs_page_needs_a_login(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_docs_page_has_no_inline_script_and_no_cdn(client, viewer):
    client.force_login(viewer)
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    assert "<style" not in html and "cdn" not in html.lower()
    assert "script-src 'self'" in response["Content-Security-Policy"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in sources
    init = next(s for s in sources if "script" in s and "docs" in s).replace("&amp;", "&")
    script = client.get(init)
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in script.content.decode()


def test_the_swagger_assets_ship_with_the_sidecar_package(settings):
    for name in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css", "favicon-32x32.png"):
        assert finders.find(f"drf_spectacular_sidecar/swagger-ui-dist/{name}"), name
