"""QUALITY.md 3.7, the hand-written corpus, against every API write endpoint.

For each resource, verb (POST create, PATCH update) and writable field, every
bad value of the field's type is sent; every case must be:
  - never a 5xx;
  - rejected with a 4xx whose JSON names the field (or "detail" /
    "non_field_errors" for a body that is not an object at all);
  - without effect: the database snapshot (every row, link and history row of
    the core tables) is identical afterwards.
Values that are valid however odd (RTL, emoji, markup, SQL) must be stored and
returned unchanged. The figures are printed at the end of the module.
"""

import json
from collections import Counter

import pytest
from rest_framework import serializers

from api import fields as api_fields
from api import serializers as api_serializers

from .conftest import REPORT, db_snapshot, token_client
from .resources import RESOURCES

pytestmark = pytest.mark.django_db

FIGURES = Counter()


class Raw:
    """A JSON token json.dumps cannot write (1e309, a lone surrogate escape)."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return f"Raw({self.text[:20]})"


def to_json(body) -> str:
    raws = {}

    def default(value):
        key = f"@@raw{len(raws)}@@"
        raws[key] = value.text
        return key

    def walk(value):
        if isinstance(value, Raw):
            return default(value)
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    text = json.dumps(walk(body))
    for key, raw in raws.items():
        text = text.replace(f'"{key}"', raw)
    return text


BIG = 2**63
NOT_NUMBERS = ["12abc", Raw("1e309"), Raw(str(BIG)), [], {}, True]
TEXT_BAD = ["a\x00b", Raw('"a\\ud800b"'), [], {"a": 1}]
ID_BAD = [0, -1, BIG, 987654321, "abc", "../", "1" * 100, 1.5, True, [], {}, Raw("1e309")]
DATE_BAD = ["2025-02-30", "0000-01-01", "10000-01-01", "notadate", 20250101, [], "2025-1-1T"]
DATETIME_BAD = [
    "2025-02-30T10:00:00Z", "10000-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59",
    "2025-03-09T02:30:00", "notadate", 1700000000, [],
]  # fmt: skip
CHOICE_BAD = ["bogus", "PLANNED", "", BIG, [], {}, Raw("1e309"), True]
INT_CHOICE_BAD = [0, 4, -1, BIG, "12abc", 1.5, Raw("1e309"), True, "", []]
BOOL_BAD = ["maybe", 2, [], {}, Raw("1e309")]
DECIMAL_BAD = ["12abc", Raw("1e309"), BIG, -1, "NaN", "Infinity", 0.001, [], True]
COUNTRY_BAD = ["XX", "jp", "Japan", "JPN", 12, [], {}]
EMAIL_BAD = ["not-an-email", "Name\r\nBcc: x@evil.example", "a@b@c", "x" * 300 + "@example.org"]
URL_BAD = ["javascript:alert(1)", "notaurl", "data:text/html,<script>alert(1)</script>", "http://"]
SLUG_BAD = ["has space", "slash/../x", "ünïcode", "a\x00", "x" * 101]
KEY_BAD = ["nobody-by-that-name", "", "a\x00", 123, [], {}, "x" * 1000, Raw('"\\ud800"')]
ID_LIST_BAD = [
    "notalist", 5, {"id": 1}, [0], [BIG], [987654321], ["abc"], [[1]], [None], [True], list(range(1, 10_002)),
]  # fmt: skip
KEY_LIST_BAD = ["trade", ["nobody-by-that-name"], [123], [None], [["a"]], {"a": 1}]
COUNTRY_LIST_BAD = ["VN", ["XX"], [12], [None], ["vn"], [["VN"]]]

# Stored verbatim, returned verbatim (escaping is the HTML layer's job, not JSON's).
GOOD_TEXT = [
    "مؤسسة التعاون الدولي",  # Arabic, RTL
    "שגרירות ישראל",  # Hebrew
    "東京都庁 国際部",  # CJK
    "Посольство России",  # Cyrillic
    "Cafe\u0301 Ñandú",  # combining acute
    "🇯🇵🤝🇺🇸 👩‍💼",  # flags, ZWJ sequence
    "abc\u202edcba",  # right-to-left override
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' OR 1=1 --",
    '"; DROP TABLE partners_partner; --',
    "{{ 7*7 }} {% debug %}",
    "=HYPERLINK(\"http://evil.example\",\"x\")",
]


def corpus_for(field):
    """(bad values, good values) for a serializer field, by type."""
    if isinstance(field, serializers.ManyRelatedField):
        child = field.child_relation
        return (ID_LIST_BAD if isinstance(child, api_fields.IdField) else KEY_LIST_BAD), []
    if isinstance(field, api_fields.IdField):
        return ID_BAD, []
    if isinstance(field, api_fields.KeyField):
        # DRF reads "" as null for a relation: fine where null is.
        return [v for v in KEY_BAD if not (v == "" and field.allow_null)], []
    if isinstance(field, serializers.ListField):
        return COUNTRY_LIST_BAD, []
    if isinstance(field, api_fields.CountryCodeField):
        return COUNTRY_BAD, []
    if isinstance(field, serializers.ChoiceField):
        ints = all(isinstance(key, int) for key in field.choices)
        return (INT_CHOICE_BAD if ints else CHOICE_BAD), []
    if isinstance(field, serializers.BooleanField):
        return BOOL_BAD, []
    if isinstance(field, serializers.DecimalField):
        return DECIMAL_BAD, []
    if isinstance(field, serializers.DateTimeField):
        return DATETIME_BAD, []
    if isinstance(field, serializers.DateField):
        return DATE_BAD, []
    if isinstance(field, serializers.EmailField):
        return EMAIL_BAD + TEXT_BAD, []
    if isinstance(field, serializers.URLField):
        return URL_BAD + TEXT_BAD, []
    if isinstance(field, serializers.SlugField):
        return SLUG_BAD + TEXT_BAD, []
    if getattr(field, "field_name", "") == "venue_timezone":
        # An IANA zone name or "" (the office's): any other text is a field error.
        bad = [*TEXT_BAD, *GOOD_TEXT, "Mars/Olympus_Mons", "UTC+25", "../../etc/localtime", "europe/rome ", "x" * 65]
        return [v for v in bad if v not in ("",)], ["Europe/Rome", "Asia/Tokyo", "America/Argentina/Buenos_Aires", ""]
    if isinstance(field, serializers.CharField):
        bad = list(TEXT_BAD)
        if field.max_length:
            bad += ["x" * (field.max_length + 1), "x" * 1_000_000]
        if not field.allow_blank:
            bad += ["", "   \t\n"]
        if not field.allow_null:
            bad.append(None)
        good = [text for text in GOOD_TEXT if not field.max_length or len(text) <= field.max_length]
        return bad, good
    raise AssertionError(f"no corpus for {field!r}")


SERIALIZERS = {
    "topics": api_serializers.TopicSerializer,
    "partners": api_serializers.PartnerSerializer,
    "contacts": api_serializers.ContactSerializer,
    "engagements": api_serializers.EngagementSerializer,
    "trade-missions": api_serializers.TradeMissionSerializer,
    "commitments": api_serializers.CommitmentSerializer,
    "agreements": api_serializers.AgreementSerializer,
    "gifts": api_serializers.GiftSerializer,
}


def writable_fields(resource):
    serializer = SERIALIZERS[resource.name]()
    return {name: field for name, field in serializer.fields.items() if not field.read_only}


FIELD_CASES = [
    pytest.param(resource, verb, name, id=f"{resource.name}-{verb}-{name}")
    for resource in RESOURCES
    for verb in ("post", "patch")
    for name in writable_fields(resource)
]


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    REPORT["s10"] = (
        f"S10 hand-written API cases: {FIGURES['cases']} tried "
        f"({FIGURES['rejected']} bad inputs rejected, {FIGURES['accepted']} odd-but-valid inputs round-tripped), "
        f"5xx = {FIGURES['5xx']}, rejections that changed data = {FIGURES['changed']}, "
        f"rejections without field errors = {FIGURES['no_field']}"
    )


def send(client, verb, url, body):
    return getattr(client, verb)(url, data=to_json(body), content_type="application/json")


@pytest.mark.parametrize(("resource", "verb", "name"), FIELD_CASES)
def test_bad_values_are_field_errors_and_change_nothing(resource, verb, name, officer, api_world):
    client = token_client(officer)
    record = resource.make(api_world)
    url = resource.url if verb == "post" else resource.detail(record.pk)
    base = resource.create(api_world) if verb == "post" else {}
    field = writable_fields(resource)[name]
    bad, good = corpus_for(field)
    problems = []
    before = db_snapshot()
    for value in bad:
        response = send(client, verb, url, {**base, name: value})
        FIGURES["cases"] += 1
        FIGURES["rejected"] += 1
        if response.status_code >= 500:
            FIGURES["5xx"] += 1
        after = db_snapshot()
        if after != before:
            FIGURES["changed"] += 1
            problems.append((value, "changed the data"))
            before = after
        if response.status_code != 400:
            problems.append((value, response.status_code, response.content[:200]))
        elif name not in response.json():
            FIGURES["no_field"] += 1
            problems.append((value, "no field error", response.json()))
    for value in good:
        body = {**base, name: value}
        if resource.name == "topics" and name == "name" and verb == "post":
            body["slug"] = f"s{len(value)}-{FIGURES['accepted']}"
        response = send(client, verb, url, body)
        FIGURES["cases"] += 1
        FIGURES["accepted"] += 1
        if response.status_code >= 500:
            FIGURES["5xx"] += 1
        if response.status_code not in (200, 201) or response.json()[name] != value:
            problems.append((value, response.status_code, response.content[:200]))
    assert not problems, problems


def body_cases():
    big = '{"name": "' + "x" * (10 * 1024 * 1024 + 10) + '"}'
    deep = '{"name": ' + "[" * 10_000 + "]" * 10_000 + "}"
    return [
        ("malformed", "application/json", '{"name": ', 400, "detail"),
        ("empty body", "application/json", "", 400, None),
        ("a list, not an object", "application/json", '[{"name": "x"}]', 400, "non_field_errors"),
        ("a string", "application/json", '"x"', 400, "non_field_errors"),
        ("null", "application/json", "null", 400, None),
        ("nested 10,000 deep", "application/json", deep, 400, "detail"),
        ("duplicate keys", "application/json", '{"name": "a", "name": "b"}', 400, "detail"),
        ("NaN", "application/json", '{"name": NaN}', 400, "detail"),
        ("Infinity", "application/json", '{"priority": -Infinity}', 400, "detail"),
        ("invalid UTF-8", "application/json", b'{"name": "\xff\xfe"}', 400, "detail"),
        ("text/plain", "text/plain", '{"name": "x"}', 415, "detail"),
        ("form-encoded", "application/x-www-form-urlencoded", "name=x", 415, "detail"),
        ("multipart", "multipart/form-data; boundary=xx", "--xx--", 415, "detail"),
        ("over 10 MB", "application/json", big, 413, "detail"),
    ]


WRITE_ENDPOINTS = [
    pytest.param(resource, verb, id=f"{resource.name}-{verb}") for resource in RESOURCES for verb in ("post", "patch", "put")
]


@pytest.mark.parametrize(("resource", "verb"), WRITE_ENDPOINTS)
def test_bodies_that_are_not_a_json_object_are_refused(resource, verb, officer, api_world):
    record = resource.make(api_world)
    url = resource.url if verb == "post" else resource.detail(record.pk)
    client = token_client(officer)
    before = db_snapshot()
    problems = []
    for label, content_type, content, status, key in body_cases():
        response = getattr(client, verb)(url, data=content, content_type=content_type)
        FIGURES["cases"] += 1
        FIGURES["rejected"] += 1
        FIGURES["5xx"] += response.status_code >= 500
        if verb == "patch" and label in ("empty body", "null"):
            # An empty PATCH changes nothing, and says so with a 200.
            ok = response.status_code in (200, 400)
        else:
            ok = response.status_code == status and (key in response.json() if key else bool(response.json()))
        if not ok:
            problems.append((label, response.status_code, response.content[:200]))
        if db_snapshot() != before:
            FIGURES["changed"] += 1
            problems.append((label, "changed the data"))
    assert not problems, problems


def test_unknown_fields_are_ignored(client_as, api_world):
    response = client_as("officer").post(
        "/api/v1/topics/", {"name": "Ports", "slug": "ports", "id": 999, "created_at": "x", "is_admin": True},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201
    assert response.json()["id"] != 999


def test_duplicate_ids_in_a_list_are_stored_once(client_as, api_world):
    pk = api_world["partner"].pk
    response = client_as("officer").post(
        "/api/v1/agreements/", {"title": "MoU", "kind": "mou", "partners": [pk, pk, str(pk)]}, format="json"
    )
    assert response.status_code == 201 and response.json()["partners"] == [pk]


def test_a_due_date_a_century_out_is_accepted(client_as):
    response = client_as("officer").post(
        "/api/v1/commitments/", {"description": "Renew", "due_date": "2125-06-30"}, format="json"
    )
    assert response.status_code == 201 and response.json()["due_date"] == "2125-06-30"


# --- Attachments: the multipart writes (issue 20) --------------------------------------------------
# Not in RESOURCES (their bodies are files, not JSON): each field of the upload (POST) and the replace (PUT) gets
# its own bad values; every one is a 400 naming the field, and neither the rows nor the storage's files change.
EXE_HEAD = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 300
PDF_HEAD = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _files(*pairs):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return [SimpleUploadedFile(name, content) for name, content in pairs]


ATTACHMENT_BAD = {
    "record_type": ["spaceship", "", "ENGAGEMENT", "Engagement", "engagement\x00", "x" * 10_000, "trade_mission"],
    "record_id": ["abc", "0", "-1", str(BIG), "1.5", "", "1e309", "../", "1" * 100, "\x00"],
    "file": [
        "not a file",  # a text field, not a file
        None,  # no file at all
        lambda: _files(("report.pdf", EXE_HEAD)),  # a renamed executable
        lambda: _files(("page.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>")),
        lambda: _files(("image.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>')),
        lambda: _files(("empty.txt", b"")),
        lambda: _files(("scan.pdf", PDF_HEAD + b"0" * 5000)),  # over the limit set below
        lambda: _files(("ok.txt", b"words\n"), ("bad.docx", EXE_HEAD)),  # one bad refuses all
        lambda: _files(*[(f"n{i}.txt", b"words\n") for i in range(4)]),  # too many
        lambda: _files(("archive.pdf", b"PK\x03\x04" + b"\x00" * 100)),
    ],
}
ATTACHMENT_CASES = [
    pytest.param(verb, name, id=f"attachments-{verb}-{name}")
    for verb in ("post", "put")
    for name in (ATTACHMENT_BAD if verb == "post" else ["file"])
]


def _attachment_state(root):
    from tests.attachments.files import stored_files

    return db_snapshot(), stored_files(root)


@pytest.fixture
def attached(officer, api_world):
    """An engagement with one text file attached (by an officer)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from attachments.services import attach_files
    from tests import factories

    engagement = factories.EngagementFactory(partners=[api_world["partner"]])
    [attachment] = attach_files(record=engagement, uploads=[SimpleUploadedFile("notes.txt", b"Agenda\n")], actor=officer)
    return engagement, attachment


@pytest.mark.parametrize(("verb", "name"), ATTACHMENT_CASES)
def test_bad_attachment_fields_are_field_errors_and_change_nothing(verb, name, officer, attached, attachment_storage,
                                                                    settings):
    settings.ATTACHMENT_MAX_BYTES = 4096
    settings.ATTACHMENT_MAX_FILES = 3
    engagement, attachment = attached
    client = token_client(officer)
    problems = []
    before = _attachment_state(attachment_storage)
    for value in ATTACHMENT_BAD[name]:
        value = value() if callable(value) else value
        if verb == "post":
            body = {"record_type": "engagement", "record_id": str(engagement.pk), "file": _files(("ok.txt", b"words\n"))}
            url = "/api/v1/attachments/"
        else:
            body, url = {}, f"/api/v1/attachments/{attachment.pk}/"
        body[name] = value
        body = {k: v for k, v in body.items() if v is not None}
        response = getattr(client, verb)(url, body, format="multipart")
        FIGURES["cases"] += 1
        FIGURES["rejected"] += 1
        FIGURES["5xx"] += response.status_code >= 500
        after = _attachment_state(attachment_storage)
        if after != before:
            FIGURES["changed"] += 1
            problems.append((repr(value)[:60], "changed the data"))
            before = after
        if response.status_code != 400:
            problems.append((repr(value)[:60], response.status_code, response.content[:200]))
        elif name not in response.json():
            FIGURES["no_field"] += 1
            problems.append((repr(value)[:60], "no field error", response.json()))
    assert not problems, problems


def test_odd_but_valid_file_names_are_kept_and_hostile_ones_made_safe(officer, attached, attachment_storage):
    from attachments.checks import safe_filename

    engagement, _ = attached
    client = token_client(officer)
    # (A name with a quote or a line break is sent raw in the part's header by the test client, as no browser
    # would: the part then arrives as text, not a file, a 400 like the cases above.)
    names = [f"{text}.txt" for text in GOOD_TEXT if '"' not in text]
    names += ["../../etc/passwd.txt", "C:\\boot.txt", "\u202eexe.txt"]
    response = client.post("/api/v1/attachments/", {
        "record_type": "engagement", "record_id": engagement.pk, "file": _files(*[(n, b"words\n") for n in names]),
    }, format="multipart")  # fmt: skip
    assert response.status_code == 201, response.content
    FIGURES["cases"] += len(names)
    FIGURES["accepted"] += len(names)
    stored = [row["filename"] for row in response.json()]
    assert sorted(stored) == sorted(safe_filename(n) for n in names)
    kept = [n for n in names if safe_filename(n) == n]
    assert len(kept) >= 6 and set(kept) <= set(stored)  # Arabic, Hebrew, CJK, Cyrillic, SQL- and template-like: as sent
    for name in stored:
        assert not any(c in name for c in '/\\"\r\n\x00'), name
    for row in response.json():
        download = client.get(row["download_url"])
        assert b"".join(download.streaming_content) == b"words\n"
        assert "\n" not in download["Content-Disposition"] and download["X-Content-Type-Options"] == "nosniff"


def attachment_body_cases():
    return [
        ("JSON", "application/json", '{"record_type": "engagement", "record_id": 1}', 415, "detail"),
        ("form-encoded", "application/x-www-form-urlencoded", "record_type=engagement&record_id=1", 415, "detail"),
        ("text/plain", "text/plain", "a file", 415, "detail"),
        ("multipart without a boundary", "multipart/form-data", "--xx--", 400, "detail"),
        ("malformed multipart", "multipart/form-data; boundary=xx", "--xx\r\nContent-Disposition: form-da", 400, None),
        ("empty multipart", "multipart/form-data; boundary=xx", "--xx--\r\n", 400, "file"),
    ]


@pytest.mark.parametrize("verb", ["post", "put"])
def test_attachment_bodies_that_are_not_multipart_are_refused(verb, officer, attached, attachment_storage):
    _, attachment = attached
    url = "/api/v1/attachments/" if verb == "post" else f"/api/v1/attachments/{attachment.pk}/"
    client = token_client(officer)
    before = _attachment_state(attachment_storage)
    problems = []
    for label, content_type, content, status, key in attachment_body_cases():
        response = getattr(client, verb)(url, data=content, content_type=content_type)
        FIGURES["cases"] += 1
        FIGURES["rejected"] += 1
        FIGURES["5xx"] += response.status_code >= 500
        ok = response.status_code == status and (key in response.json() if key else bool(response.json()))
        if not ok:
            problems.append((label, response.status_code, response.content[:200]))
        if _attachment_state(attachment_storage) != before:
            FIGURES["changed"] += 1
            problems.append((label, "changed the data"))
    assert not problems, problems
