"""The OpenAPI schema and the interactive docs."""

import json
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
def schema(client):
    response = client.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_public_and_the_same_for_everyone(client_as, api_world, schema):
    # A generator reads it without a session or a token; it holds no data, so one document for all.
    for role in ("anonymous", "viewer", "officer"):
        response = client_as(role).get("/api/v1/schema/?format=json")
        assert response.status_code == 200 and response.json() == schema
    text = json.dumps(schema)
    assert api_world["partner"].name not in text and "omar_officer" not in text
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
    # ISO 3166-1's 249, Kosovo and the 6 former countries (diplomacy_crm/country_codes.py).
    codes = components["CountryCode"]["enum"]
    assert {"JP", "XK", "SU", "YU", "CS", "DD"} <= set(codes) and len(codes) == len(set(codes)) == 256
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


# --- The schema tells the whole truth -------------------------------------------------------------
EXPECTED_ERRORS = {
    # (method, detail path?) -> the statuses besides success
    ("get", False): {"400", "401", "403", "404", "406", "429"},
    ("post", False): {"400", "401", "403", "406", "409", "413", "415", "429"},
    ("get", True): {"401", "403", "404", "406", "429"},
    ("put", True): {"400", "401", "403", "404", "406", "409", "412", "413", "415", "429"},
    ("patch", True): {"400", "401", "403", "404", "406", "409", "412", "413", "415", "429"},
    ("delete", True): {"401", "403", "404", "406", "409", "412", "429"},
}
SUCCESS = {"get": "200", "post": "201", "put": "200", "patch": "200", "delete": "204"}


def _resolve(schema, ref_or_schema):
    ref = ref_or_schema.get("$ref")
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else ref_or_schema


def test_every_operation_documents_every_status_it_can_answer_with_a_typed_body(schema):
    operations = 0
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            operations += 1
            responses = operation["responses"]
            # Webhook endpoints and deliveries, and attachments (read-only), carry no version.
            versioned = not path.startswith(("/api/v1/webhooks/", "/api/v1/attachments/"))
            if path.endswith("/replay/"):
                expected = {"202", "401", "403", "404", "406", "409", "429"}  # a delivery still waiting: 409
            else:
                expected = EXPECTED_ERRORS[(method, "{id}" in path)] | {SUCCESS[method]}
            if not versioned:
                expected -= {"412"}
            if path in ("/api/v1/topics/", "/api/v1/webhooks/", "/api/v1/webhooks/deliveries/") and method == "get":
                expected -= {"400"}  # no filters: nothing to refuse
            if path == "/api/v1/attachments/" and method == "post":
                expected |= {"404"}  # an upload names a record: one you may not see is a 404
            assert set(responses) == expected, (method, path)
            for code in expected - {"204"}:
                if path == "/api/v1/attachments/" and method == "post" and code == "201":
                    schema_201 = responses[code]["content"]["application/json"]["schema"]
                    assert schema_201["type"] == "array" and schema_201["items"]["$ref"].endswith("/Attachment")
                    continue  # an upload answers with every attachment it made
                if path.endswith("/download/") and code == "200":
                    assert responses[code]["content"]["application/octet-stream"]["schema"]["format"] == "binary"
                    continue  # the file itself
                body = responses[code]["content"]["application/json"]["schema"]
                assert body.get("$ref") or body.get("oneOf"), (method, path, code)
            assert responses["429"]["headers"]["Retry-After"]["required"] is True
            assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True
            if not versioned:
                assert "If-Match" not in json.dumps(operation) and "ETag" not in json.dumps(operation)
                if path.startswith("/api/v1/webhooks/"):
                    assert operation["description"].endswith("Who may: officers and superusers."), path
                continue
            if method in ("put", "patch", "delete"):
                assert "If-Match" in {p["name"] for p in operation["parameters"] if p["in"] == "header"}
            if method in ("post", "put", "patch") or (method == "get" and "{id}" in path):
                assert responses[SUCCESS[method]]["headers"]["ETag"]["required"] is True
    # eight resources; webhook endpoints, their deliveries and replay; attachments' list, read, download,
    # upload, replace (PUT) and delete
    assert operations == 8 * 6 + 6 + 2 + 1 + 6


def test_error_bodies_are_components_a_client_can_type(schema):
    components = schema["components"]["schemas"]
    assert components["Error"]["required"] == ["detail"]
    field_errors = components["ValidationError"]
    assert field_errors["properties"]["non_field_errors"] == {
        "type": "array", "items": {"type": "string"}, "description": "Errors of no single field."
    }  # fmt: skip
    assert field_errors["additionalProperties"]["anyOf"][0] == {"type": "array", "items": {"type": "string"}}
    in_use = components["RecordInUse"]
    assert {"detail", "blocking", "references"} <= set(in_use["properties"])
    partner = schema["paths"]["/api/v1/partners/{id}/"]
    assert partner["delete"]["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RecordInUse"
    }
    assert partner["patch"]["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert partner["patch"]["responses"]["400"]["content"]["application/json"]["schema"] == {
        "oneOf": [{"$ref": "#/components/schemas/ValidationError"}, {"$ref": "#/components/schemas/Error"}]
    }


def test_nullability_and_constraints_are_those_the_code_enforces(schema):
    components = schema["components"]["schemas"]
    assert components["Engagement"]["properties"]["owner"]["nullable"] is True
    assert components["Engagement"]["properties"]["owner"]["readOnly"] is True
    for name in ("AgreementRequest", "PatchedAgreementRequest"):
        assert components[name]["properties"]["partners"]["minItems"] == 1
        assert components[name]["properties"]["partners"]["maxItems"] == 1000
    assert "minItems" not in components["EngagementRequest"]["properties"]["partners"]
    assert "minItems" not in components["Agreement"]["properties"]["partners"]  # input limits only
    assert components["EngagementRequest"]["properties"]["partners"]["items"]["minimum"] == 1
    assert components["EngagementRequest"]["properties"]["staff"]["items"]["maxLength"] == 255
    assert components["CommitmentRequest"]["properties"]["partner"] == {
        "type": "integer", "nullable": True, "minimum": 1, "maximum": 2**63 - 1
    }  # fmt: skip
    params = {p["name"]: p for p in schema["paths"]["/api/v1/engagements/"]["get"]["parameters"]}
    assert "`title`, `summary`, `outcomes`, `location`" in params["q"]["description"]
    assert params["page"]["schema"]["minimum"] == 1
    assert components["PartnerRequest"]["properties"]["name"]["maxLength"] > 0
    assert components["GiftRequest"]["properties"]["currency"]["pattern"] == "^[A-Z]{3}$"
    assert components["TopicRequest"]["properties"]["slug"]["pattern"] == "^[-a-zA-Z0-9_]+$"
    count = components["PaginatedPartnerList"]["properties"]["count"]
    assert count["maximum"] == 10_000 and "10,000 or more" in count["description"]
    assert set(components["PaginatedPartnerList"]["required"]) == {"count", "next", "previous", "results"}


def test_descriptions_are_written_for_an_integrator_not_copied_from_code_comments(schema):
    text = json.dumps(schema)
    for leak in ("Throttle before", "PostgreSQL", "save_record", "row lock", "api.", "selectors"):
        assert leak not in text, leak
    assert "Token <key>" in schema["info"]["description"]
    tags = {tag["name"]: tag["description"] for tag in schema["tags"]}
    assert set(tags) == {"topics", "partners", "contacts", "agreements", "engagements", "trade missions",
                         "commitments", "gifts", "webhooks", "attachments"}  # fmt: skip
    assert "ISO 3166-1" in tags["partners"]
    listing = schema["paths"]["/api/v1/engagements/"]["get"]["description"]
    assert "matches every filter given" in listing and "10,000" in listing
    assert listing.endswith("Who may: viewers, staff, officers and superusers.")
    delete = schema["paths"]["/api/v1/engagements/{id}/"]["delete"]["description"]
    assert delete.endswith("Who may: officers and superusers.")
    create = schema["paths"]["/api/v1/engagements/"]["post"]["requestBody"]["content"]["application/json"]
    assert create["examples"]["Example"]["value"]["starts_at"] == "2027-05-01T10:00:00-07:00"
    assert schema["components"]["schemas"]["Engagement"]["description"].startswith("A meeting, call")


def test_count_never_exceeds_the_cap_the_schema_states_whatever_the_page_size(client_as, monkeypatch):
    # The paginator rounds its cap up to whole pages (60 rows for a cap of 50 and pages of 30);
    # the answer still says the cap, as the schema's `maximum` promises, and `next` still leads on.
    from diplomacy_crm import paginator
    from tests import factories

    monkeypatch.setattr(paginator, "COUNT_CAP", 50)
    for i in range(61):
        factories.TopicFactory(name=f"Topic {i:03}", slug=f"t-{i:03}")
    client = client_as("viewer")
    first = client.get("/api/v1/topics/?page_size=30").json()
    assert first["count"] == 50 and len(first["results"]) == 30 and first["next"]
    third = client.get("/api/v1/topics/?page_size=30&page=3").json()
    assert third["count"] == 50 and len(third["results"]) == 1 and third["next"] is None


def test_the_list_examples_use_only_documented_filters_with_valid_values(schema):
    from urllib.parse import parse_qsl, urlsplit

    examples = 0
    for path, item in schema["paths"].items():
        listing = item.get("get") if "{id}" not in path else None
        if listing is None or "Example: `" not in listing["description"]:
            continue
        url = listing["description"].split("Example: `", 1)[1].split("`", 1)[0]
        params = {p["name"]: p["schema"] for p in listing["parameters"]}
        for name, value in parse_qsl(urlsplit(url).query):
            assert name in params, (path, name)
            assert "enum" not in params[name] or value in params[name]["enum"], (path, name, value)
        examples += 1
    assert examples == 7
