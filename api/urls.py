"""/api/v1/: one route per resource of the contract, plus gifts, the schema and the docs."""

from django.urls import path, re_path
from rest_framework import routers

from . import attachments as attachment_api
from . import webhooks as webhook_api

from . import views

app_name = "api"

router = routers.DefaultRouter()
router.APIRootView = views.APIRootView
router.include_format_suffixes = False
router.register("topics", views.TopicViewSet, basename="topic")
router.register("partners", views.PartnerViewSet, basename="partner")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("engagements", views.EngagementViewSet, basename="engagement")
router.register("trade-missions", views.TradeMissionViewSet, basename="trade-mission")
router.register("commitments", views.CommitmentViewSet, basename="commitment")
router.register("agreements", views.AgreementViewSet, basename="agreement")
router.register("gifts", views.GiftViewSet, basename="gift")
router.register("attachments", attachment_api.AttachmentViewSet, basename="attachment")
router.register("webhooks/deliveries", webhook_api.DeliveryViewSet, basename="webhook-delivery")
router.register("webhooks", webhook_api.EndpointViewSet, basename="webhook")

urlpatterns = [
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", views.DocsView.as_view(), name="docs"),
    *router.urls,
    # Any other path under /api/v1/ ending in a slash (an id with a dot, say, which the
    # routes' patterns do not match) is the API's JSON 404, not the site's HTML page.
    # Paths without the slash still get CommonMiddleware's APPEND_SLASH redirect.
    re_path(r"^.+/$", views.not_found, name="not-found"),
]
