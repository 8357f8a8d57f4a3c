"""S2, the permission matrix of the API: every operation of the OpenAPI schema × every actor × every case.

See test_permission_matrix.py for the rules; each operation's expected answer is
`api_expectation` (401 anonymous, the no-role page, 403 without the permission,
404 for a confidential record the actor may not see, else the operation's own answer).
"""

from pathlib import Path

import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import MULTIPART_CONTENT, encode_multipart

from .conftest import ACTORS, OBJECTS, SEES, attachment_of, row_counts
from .matrix import COUNTS, LOGIN, NO_ROLE, NO_ROLE_PAGE, can, check_markers, check_status, check_unchanged, for_every_actor, webhook_objects

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("matrix_counts")]

# resource -> (model codename, object of the world for {id}, confidential?)
API_RESOURCES = {
    "topics": ("topic", lambda w, o: w.topic, False),
    "partners": ("partner", lambda w, o: w.partner, False),
    "contacts": ("contact", lambda w, o: w.contact, False),
    "agreements": ("agreement", lambda w, o: w.agreement, False),
    "trade-missions": ("trademission", lambda w, o: w.mission, False),
    "engagements": ("engagement", lambda w, o: w.engagements[o], True),
    "commitments": ("commitment", lambda w, o: w.commitments[o], True),
    "gifts": ("gift", lambda w, o: w.gifts[o], True),
    "webhooks": ("officer", None, False),  # officers only; objects from webhook_objects()
    "attachments": ("attachment", attachment_of, True),  # as visible as the engagement; writes: attachment_expectation
}
API_LIST_SHOWS = {"engagements", "commitments", "gifts"}
# Attachments' writes are multipart, each naming a record (docs/attachments.md, "Who may do what"): an upload to
# engagement {obj} by whoever may edit engagements (404 if they may not see it); replace and delete by officers.
ATTACHMENT_UPLOADERS = {"staff", "other_staff", "officer", "superuser"}
MINUTES = b"Minutes of the meeting.\n"
AMENDED = MINUTES + b"Amended.\n"


def attachment_request(world, method, obj):
    """(body, content type) of a real attachment write: a text file, to engagement `obj` or in place of its file."""
    if method == "post":
        data = {"record_type": "engagement", "record_id": world.engagements[obj].pk,
                "file": SimpleUploadedFile("minutes.txt", MINUTES)}  # fmt: skip
    elif method == "put":
        data = {"file": SimpleUploadedFile("minutes v2.txt", AMENDED)}
    else:
        return "", MULTIPART_CONTENT
    return encode_multipart("MatrixBoundary", data), "multipart/form-data; boundary=MatrixBoundary"


def stored_files() -> list[str]:
    """The attachments storage's files: a refused write leaves them as they were."""
    return sorted(str(p) for p in Path(storages["attachments"].location).rglob("*") if p.is_file())


def attachment_expectation(method, actor, visible):
    if method == "post":
        return ({201} if visible else {404}) if actor in ATTACHMENT_UPLOADERS else {403}
    if not can(actor, "officer"):
        return {403}  # replace and delete: before any lookup, the same for every id
    return {200} if method == "put" else {204}  # officers see every record
# A permitted DELETE: 204, or 409 listing what still points at the record (the world's partner,
# contact, topic and mission are in its meetings; each meeting has a commitment and a gift).
API_DELETE = {"topics": 409, "partners": 409, "contacts": 409, "agreements": 204, "trade-missions": 409,
              "engagements": 409, "commitments": 204, "gifts": 204}  # fmt: skip


def schema_operations() -> list[tuple[str, str]]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (path, method)
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


OPERATIONS = schema_operations()


def api_expectation(resource, method, is_detail, actor, obj):
    model, _, confidential = API_RESOURCES[resource]
    if actor == "anonymous":
        return {401}
    if actor in NO_ROLE:
        return NO_ROLE_PAGE
    if resource == "webhooks":
        if not can(actor, "officer"):
            return {403}
        if method == "post":
            return {409} if is_detail else {400}  # replay of a pending delivery; an empty endpoint
        return {"get": {200}, "put": {400}, "patch": {200}, "delete": {204}}[method]
    visible = not confidential or obj is None or actor in SEES[obj]
    if method == "get":
        return {200} if visible else {404}
    if resource == "attachments":
        return attachment_expectation(method, actor, visible)
    needed = {"post": "add", "put": "change", "patch": "change", "delete": "delete"}[method]
    if not can(actor, f"{needed}_{model}"):
        return {403}
    if not visible:
        return {404}
    return {"post": {400}, "put": {400}, "patch": {200}, "delete": {API_DELETE[resource]}}[method]


def api_cases():
    cases = []
    for path, method in OPERATIONS:
        resource = path.split("/")[3]
        is_detail = "{id}" in path
        confidential = API_RESOURCES.get(resource, (None, None, False))[2]
        names_record = resource == "attachments" and method == "post"  # an upload names an engagement
        objects = OBJECTS if ((is_detail or names_record) and confidential) else (None,)
        for obj in objects:
            cases.append(pytest.param(path, method, obj, id=f"API-{method.upper()}-{path}-{obj}"))
    return cases


def test_every_api_operation_is_in_the_matrix():
    resources = {path.split("/")[3] for path, _ in OPERATIONS}
    assert resources <= set(API_RESOURCES), f"API resources without a matrix row: {resources - set(API_RESOURCES)}"
    assert len(OPERATIONS) >= 8 * 5


@pytest.mark.parametrize(("path", "method", "obj"), api_cases())
def test_api(matrix_world, path, method, obj):
    resource = path.split("/")[3]
    is_detail = "{id}" in path

    def case(actor, where):
        url = path
        if is_detail and resource == "webhooks":
            url = path.replace("{id}", str(webhook_objects(matrix_world)["/deliveries/" in path].pk))
        elif is_detail:
            url = path.replace("{id}", str(API_RESOURCES[resource][1](matrix_world, obj).pk))
        where["url"] = f"{method.upper()} {url}"
        client = matrix_world.client(actor)
        before = (row_counts(), stored_files()) if method != "get" else None
        if method == "get":
            response = client.get(url)
        elif resource == "attachments":
            body, content_type = attachment_request(matrix_world, method, obj)
            response = client.generic(method.upper(), url, body, content_type=content_type)
        else:
            response = client.generic(method.upper(), url, "{}", content_type="application/json")
        COUNTS["api"] = COUNTS.get("api", 0) + 1
        expected = api_expectation(resource, method, is_detail, actor, obj)
        check_status(response, expected, f"{method.upper()} {url}")
        shows = method == "get" and not is_detail and resource in API_LIST_SHOWS
        check_markers(matrix_world, actor, response, url, shows, obj if is_detail else None)
        if method != "get" and response.status_code in (400, 401, 403, 404):
            check_unchanged(before, (row_counts(), stored_files()), f"{method.upper()} {url} by {actor}")
        elif resource == "attachments" and method in ("post", "put"):  # done: the file as sent
            written = response.json()
            expected_size = len(MINUTES) if method == "post" else len(AMENDED)
            assert (written[0] if method == "post" else written)["size"] == expected_size, written

    for_every_actor(f"API {method.upper()} {path} [{obj}]", case)


@pytest.mark.parametrize("actor", ACTORS)
def test_api_schema_and_docs(matrix_world, actor):
    client = matrix_world.client(actor)
    expected = {
        "/api/v1/schema/": 200,  # public: shapes, no data (README, "The REST API"); markers checked below
        "/api/v1/": 401 if actor == "anonymous" else 200,
        "/api/v1/docs/": LOGIN if actor == "anonymous" else 200,
        "/api/v1/partners/1.5/": 404,  # any other path: the API's JSON 404
    }
    if actor in NO_ROLE:
        expected = dict.fromkeys(expected, NO_ROLE_PAGE)
    for url, status in expected.items():
        response = client.get(url)
        check_status(response, status, url)
        check_markers(matrix_world, actor, response, url, False)
