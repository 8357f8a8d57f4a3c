"""Webhooks without the network: targets, events recorded with the write, pages and API for officers."""

import datetime as dt
import json

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.test import APIClient
from standardwebhooks import Webhook

from diplomacy_crm.deletion import delete_record
from engagements import services as engagement_services
from engagements.models import Commitment, Engagement
from partners import services as partner_services
from webhooks import services, targets
from webhooks.models import Delivery, Endpoint, Event

pytestmark = pytest.mark.django_db

PUBLIC_IP = "93.184.215.14"


@pytest.fixture
def public_dns(monkeypatch, settings):
    """hooks.example.org resolves to a public address; the allow-list names it."""
    answers = {"hooks.example.org": [PUBLIC_IP], "inside.example.org": ["10.1.2.3"], "rebound.example.org": ["::ffff:127.0.0.1"]}

    def resolve(host, port):
        if host not in answers:
            raise targets.TargetRefused(f"The host name {host} does not resolve.")
        return answers[host]

    monkeypatch.setattr(targets, "_resolve", resolve)
    settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.example.org", "*.example.org"]
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    return answers


# --- targets -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("hooks.example.org", True),
        ("HOOKS.example.org.", True),
        ("a.b.example.org", True),
        ("example.org", False),  # "*.example.org" is subdomains only
        ("evil-example.org", False),
        ("hooks.example.org.evil.test", False),
    ],
)
def test_host_patterns(settings, host, allowed):
    settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.example.org", "*.example.org"]
    assert targets.host_allowed(host) is allowed


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        (PUBLIC_IP, True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # shared address space
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:10.0.0.1", False),
        ("224.0.0.1", False),
        ("2606:4700::1111", True),
    ],
)
def test_internal_addresses_are_refused_unless_explicitly_allowed(settings, address, allowed):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    assert targets.address_allowed(address) is allowed
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    assert targets.address_allowed(address) is (allowed or address == "127.0.0.1")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://hooks.example.org/x", "Only http"),
        ("https://user:pw@hooks.example.org/x", "no user name"),
        ("https://elsewhere.test/x", "not in the hosts"),
        ("https://inside.example.org/x", "internal address"),
        ("https://rebound.example.org/x", "internal address"),
        ("https://missing.example.org/x", "does not resolve"),
    ],
)
def test_refused_targets_say_why(public_dns, url, reason):
    with pytest.raises(targets.TargetRefused, match=reason):
        targets.check_target(url)


def test_a_good_target_is_pinned_to_its_checked_address(public_dns):
    target = targets.check_target("https://hooks.example.org/in?x=1")
    assert (target.host, target.address, target.port, target.path) == ("hooks.example.org", PUBLIC_IP, 443, "/in?x=1")


# --- events --------------------------------------------------------------------------


def _endpoint(officer, **kwargs):
    return services.endpoint_create(actor=officer, url="https://hooks.example.org/crm", **kwargs)


def test_writes_without_endpoints_record_nothing_and_cost_one_query(officer, public_dns, django_assert_num_queries):
    partner = partner_services.partner_create(actor=officer, name="Porto", kind="city", country="PT")
    from webhooks.events import record_events

    with django_assert_num_queries(1):
        assert record_events(partner, "partner", ["partner.updated"]) == []
    assert not Event.objects.exists()


def test_an_event_is_written_with_the_write_and_rolled_back_with_it(officer, public_dns):
    endpoint = _endpoint(officer)
    with pytest.raises(RuntimeError), transaction.atomic():
        partner_services.partner_create(actor=officer, name="Porto", kind="city", country="PT")
        assert Delivery.objects.filter(endpoint=endpoint).count() == 1
        raise RuntimeError("the request failed after the write")
    assert not Event.objects.exists() and not Delivery.objects.exists()


def test_commitment_done_is_sent_when_the_status_becomes_done_only(officer, public_dns):
    _endpoint(officer, event_types=["commitment.done"])
    commitment = engagement_services.commitment_create(actor=officer, description="Letter", due_date=timezone.localdate())
    engagement_services.commitment_update(commitment=commitment, actor=officer, status=Commitment.Status.DONE)
    engagement_services.commitment_update(commitment=commitment, actor=officer, description="Letter, sent")
    engagement_services.commitment_update(commitment=commitment, actor=officer, status=Commitment.Status.OPEN)
    engagement_services.commitment_update(commitment=commitment, actor=officer, status=Commitment.Status.DONE)
    assert Event.objects.filter(type="commitment.done").count() == 2
    assert Event.objects.count() == 2  # the endpoint takes nothing else, so nothing else is written


def test_one_delivery_per_endpoint_and_event_with_a_stable_webhook_id(officer, public_dns):
    first, second = _endpoint(officer), _endpoint(officer, description="warehouse")
    partner = partner_services.partner_create(actor=officer, name="Porto", kind="city", country="PT")
    delete_record(partner, actor=officer)
    event = Event.objects.get(type="partner.deleted")
    assert json.loads(event.body)["data"] == {"object": "partner", "id": partner.pk, "deleted": True}
    ids = set(Delivery.objects.filter(event=event).values_list("webhook_id", flat=True))
    assert ids == {Delivery.make_webhook_id(event.pk, first.pk), Delivery.make_webhook_id(event.pk, second.pk)}
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(endpoint=first, event=event, webhook_id="msg_other", next_attempt_at=timezone.now())


def test_restricted_records_and_what_derives_from_them_reach_only_cleared_endpoints(officer, public_dns):
    ordinary, cleared = _endpoint(officer), _endpoint(officer, include_restricted=True)
    engagement = engagement_services.engagement_create(
        actor=officer, title="Quiet talks", kind=Engagement.Kind.BILATERAL_MEETING, status="held",
        starts_at=timezone.now() - dt.timedelta(days=1), confidentiality=Engagement.Confidentiality.RESTRICTED,
    )
    engagement_services.commitment_create(actor=officer, description="Memo", engagement=engagement, due_date=timezone.localdate())
    assert not Delivery.objects.filter(endpoint=ordinary).exists()
    assert Delivery.objects.filter(endpoint=cleared, event__restricted=True).count() == 2
    # Cleared no longer: what is still waiting is not sent to it either.
    services.endpoint_update(endpoint=cleared, include_restricted=False)
    rows, token = services.claim_batch(10)
    report = services.DeliveryReport()
    services.send_batch(services.new_client(), rows, token, report)
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.FAILED}
    assert "restricted" in Delivery.objects.first().last_error


def test_signed_headers_verify_with_the_endpoint_secret(officer, public_dns):
    endpoint = _endpoint(officer)
    partner_services.partner_create(actor=officer, name="Porto", kind="city", country="PT")
    delivery = Delivery.objects.select_related("endpoint", "event").get()
    headers = services.signed_headers(delivery)
    assert headers["webhook-id"] == delivery.webhook_id
    payload = Webhook(endpoint.secret).verify(delivery.event.body, headers)
    assert payload["type"] == "partner.created" and payload["data"]["fields"]["name"] == "Porto"
    assert endpoint.secret.startswith("whsec_")


def test_backoff_grows_and_is_capped(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS, settings.WEBHOOK_RETRY_MAX_SECONDS = 30, 300
    assert [services.backoff_seconds(n) for n in (1, 2, 3, 4, 5, 6)] == [30, 60, 120, 240, 300, 300]


def test_deliver_webhooks_runs_every_minute_from_beat(settings):
    assert settings.CELERY_BEAT_SCHEDULE["deliver-webhooks"] == {"task": "deliver_webhooks", "schedule": 60.0}
    from webhooks.tasks import deliver_webhooks

    assert deliver_webhooks.name == "deliver_webhooks"


# --- pages ---------------------------------------------------------------------------


def test_pages_are_for_officers_only(client, viewer, staff_user):
    for user in (viewer, staff_user):
        client.force_login(user)
        for url in ("/webhooks/", "/webhooks/new/", "/webhooks/deliveries/"):
            assert client.get(url).status_code == 403
    client.logout()
    assert client.get("/webhooks/").status_code == 302


def test_an_officer_registers_an_endpoint_and_sees_its_secret(client, officer, public_dns):
    client.force_login(officer)
    response = client.post(
        "/webhooks/new/",
        {"url": "https://hooks.example.org/crm", "description": "Mayor's <calendar>", "event_types": ["engagement.created"],
         "is_active": "on"},
    )
    endpoint = Endpoint.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/webhooks/{endpoint.pk}/"
    assert endpoint.event_types == ["engagement.created"] and not endpoint.include_restricted
    page = client.get(response["Location"]).content.decode()
    assert endpoint.secret in page
    listing = client.get("/webhooks/").content.decode()
    assert "https://hooks.example.org/crm" in listing and "Mayor&#x27;s &lt;calendar&gt;" in listing


def test_a_refused_url_is_a_form_error_and_writes_nothing(client, officer, public_dns):
    client.force_login(officer)
    response = client.post("/webhooks/new/", {"url": "http://inside.example.org/", "is_active": "on"})
    assert response.status_code == 200
    assert "internal address" in response.content.decode()
    assert not Endpoint.objects.exists()


def test_the_delivery_log_shows_and_replays(client, officer, public_dns):
    endpoint = _endpoint(officer)
    partner_services.partner_create(actor=officer, name="Porto", kind="city", country="PT")
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.FAILED, failures=10, last_error="HTTP 500")
    client.force_login(officer)
    page = client.get(f"/webhooks/deliveries/?endpoint={endpoint.pk}").content.decode()
    assert delivery.webhook_id in page and "HTTP 500" in page and "partner.created" in page
    assert client.post(f"/webhooks/deliveries/{delivery.pk}/replay/").status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING and delivery.failures == 0 and delivery.replayed_at


# --- API -----------------------------------------------------------------------------


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_is_for_officers_only(viewer, staff_user, public_dns):
    assert APIClient().get("/api/v1/webhooks/").status_code == 401
    for user in (viewer, staff_user):
        assert _api(user).get("/api/v1/webhooks/").status_code == 403
        response = _api(user).post("/api/v1/webhooks/", {"url": "https://hooks.example.org/x"}, format="json")
        assert response.status_code == 403
    assert not Endpoint.objects.exists()


def test_api_registers_lists_and_changes_endpoints(officer, public_dns):
    api = _api(officer)
    response = api.post(
        "/api/v1/webhooks/",
        {"url": "https://hooks.example.org/x", "event_types": ["partner.created", "commitment.done"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["secret"].startswith("whsec_") and body["include_restricted"] is False and body["is_active"] is True
    old_secret = body["secret"]
    changed = api.patch(f"/api/v1/webhooks/{body['id']}/", {"rotate_secret": True, "is_active": False}, format="json").json()
    assert changed["secret"] != old_secret and changed["is_active"] is False
    assert [e["url"] for e in api.get("/api/v1/webhooks/").json()["results"]] == ["https://hooks.example.org/x"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"url": "http://inside.example.org/"}, "url"),
        ({"url": "http://127.0.0.1:8000/"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "https://hooks.example.org/x", "event_types": ["partner.exploded"]}, "event_types"),
        ('{"url": "https://hooks.example.org/x", "description": "\\ud800"}', "description"),  # a lone surrogate
        ({"url": "https://hooks.example.org/" + "x" * 600}, "url"),
    ],
)
def test_api_refuses_bad_endpoints_with_field_errors(officer, public_dns, payload, field):
    if isinstance(payload, str):  # raw JSON
        response = _api(officer).generic("POST", "/api/v1/webhooks/", payload, content_type="application/json")
    else:
        response = _api(officer).post("/api/v1/webhooks/", payload, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not Endpoint.objects.exists()


def test_api_delivery_log_and_replay(officer, public_dns):
    _endpoint(officer)
    partner_services.partner_create(actor=officer, name="Porto", kind="city", country="PT")
    delivery = Delivery.objects.get()
    api = _api(officer)
    rows = api.get("/api/v1/webhooks/deliveries/").json()["results"]
    assert [(r["webhook_id"], r["event_type"], r["status"]) for r in rows] == [(delivery.webhook_id, "partner.created", "pending")]
    assert api.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/replay/").status_code == 409  # still waiting
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.DELIVERED)
    response = api.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/replay/")
    assert response.status_code == 202 and response.json()["status"] == "pending"


def test_the_navigation_links_webhooks_for_officers_only(client, officer, viewer):
    client.force_login(officer)
    assert 'href="/webhooks/"' in client.get("/webhooks/").content.decode()
    client.force_login(viewer)
    assert 'href="/webhooks/"' not in client.get("/partners/").content.decode()


@pytest.mark.parametrize("value", ["²", "١", "9" * 40, "-1", "x"])
def test_odd_endpoint_filters_show_everything_rather_than_fail(client, officer, value):
    client.force_login(officer)
    assert client.get("/webhooks/deliveries/", {"endpoint": value}).status_code == 200
    assert _api(officer).get("/api/v1/webhooks/deliveries/", {"endpoint": value}).status_code == 200


def _log_rows(officer, n):
    endpoint = Endpoint.objects.first() or _endpoint(officer)
    for i in range(n):
        partner_services.partner_create(actor=officer, name=f"Partner {Event.objects.count()}-{i}", kind="city", country="JP")
    return endpoint


def test_the_log_and_the_lists_cost_the_same_queries_at_any_size(client, officer, public_dns, django_assert_num_queries):
    client.force_login(officer)
    api = _api(officer)
    urls = ["/webhooks/", "/webhooks/deliveries/"]
    api_urls = ["/api/v1/webhooks/", "/api/v1/webhooks/deliveries/"]

    def counts():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        result = []
        for fetch, url in [(client.get, u) for u in urls] + [(api.get, u) for u in api_urls]:
            with CaptureQueriesContext(connection) as queries:
                assert fetch(url).status_code == 200
            result.append(len(queries))
        return result

    _endpoint(officer, description="first")
    _log_rows(officer, 2)
    counts()  # warm: the session, the user's permissions
    small = counts()
    _endpoint(officer, description="second")
    _log_rows(officer, 12)
    assert counts() == small


def test_endpoint_changes_keep_a_history_without_the_secret(officer, public_dns):
    endpoint = _endpoint(officer)
    services.endpoint_update(endpoint=endpoint, actor=officer, include_restricted=True, rotate_secret=True)
    rows = list(endpoint.history.order_by("history_date"))
    assert [(r.history_type, r.include_restricted, r.history_user) for r in rows] == [("+", False, officer), ("~", True, officer)]
    assert not hasattr(rows[0], "secret")


def test_https_goes_to_the_checked_address_with_the_host_name_for_tls(officer, public_dns):
    import httpx

    _endpoint(officer)
    partner_services.partner_create(actor=officer, name="Porto", kind="city", country="PT")
    delivery = Delivery.objects.select_related("endpoint", "event").get()
    sent = []

    class Recorder(httpx.Client):
        def send(self, request, **kwargs):
            sent.append((request, kwargs))
            return httpx.Response(204, request=request)

    with Recorder() as client:
        assert services.post(client, delivery).status_code == 204
    request, kwargs = sent[0]
    assert str(request.url) == f"https://{PUBLIC_IP}/crm"  # no second DNS lookup to rebind
    assert request.headers["host"] == "hooks.example.org"
    assert request.extensions["sni_hostname"] == "hooks.example.org"  # TLS name and certificate check
    assert request.headers["webhook-id"] == delivery.webhook_id and request.content == delivery.event.body.encode()
    assert kwargs == {"stream": True}


def test_one_delivery_task_is_queued_per_transaction(officer, public_dns, django_capture_on_commit_callbacks, monkeypatch):
    from webhooks import tasks

    queued = []
    monkeypatch.setattr(tasks.deliver_webhooks, "_delay_logged", lambda *a, **k: queued.append(1))
    _endpoint(officer)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for n in range(5):
            partner_services.partner_create(actor=officer, name=f"Partner {n}", kind="city", country="JP")
    assert Delivery.objects.count() == 5 and queued == [1]


def test_editing_to_a_refused_url_changes_nothing_and_rotation_replaces_the_secret(client, officer, public_dns):
    endpoint = _endpoint(officer)
    client.force_login(officer)
    response = client.post(f"/webhooks/{endpoint.pk}/", {"url": "http://inside.example.org/", "is_active": "on"})
    assert response.status_code == 200 and "internal address" in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.url == "https://hooks.example.org/crm"
    old = endpoint.secret
    response = client.post(
        f"/webhooks/{endpoint.pk}/", {"url": endpoint.url, "is_active": "on", "rotate_secret": "on", "include_restricted": "on"}
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.include_restricted
