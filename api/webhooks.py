"""/api/v1/webhooks/: endpoints and their delivery log, for officers only (others 403, anonymous 401).

Registered on the API's router (api/urls.py). Writes go through
webhooks.services, so the URL is checked against the allow-list here as on
the page (400 with a `url` error when refused).
"""

from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from accounts.roles import is_officer
from webhooks import selectors, services
from webhooks.models import EVENT_TYPES, Delivery, Endpoint

from .parsers import StrictJSONParser
from .schema import CRMAutoSchema
from .serializers import CRMSerializer
from .views import AUTHENTICATION, ThrottleFirstMixin



class OfficersOnly(BasePermission):
    message = "Only officers manage webhooks."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and is_officer(request.user))


class EndpointSerializer(CRMSerializer):  # text PostgreSQL cannot store (lone surrogates) is a 400
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES),
        required=False,
        max_length=len(EVENT_TYPES),
        help_text="Event types sent to this endpoint; empty means all.",
    )
    secret = serializers.CharField(read_only=True, help_text="The signing secret (Standard Webhooks, whsec_…).")
    rotate_secret = serializers.BooleanField(write_only=True, required=False, help_text="Give the endpoint a new secret.")

    class Meta:
        model = Endpoint
        fields = ["id", "url", "description", "event_types", "is_active", "include_restricted", "secret",
                  "rotate_secret", "created_at", "updated_at"]
        read_only_fields = ["id", "secret", "created_at", "updated_at"]


class DeliverySerializer(serializers.ModelSerializer):
    event_type = serializers.CharField(source="event.type", read_only=True)
    object_type = serializers.CharField(source="event.object_type", read_only=True)
    object_id = serializers.IntegerField(source="event.object_id", read_only=True)
    occurred_at = serializers.DateTimeField(source="event.occurred_at", read_only=True)

    class Meta:
        model = Delivery
        fields = ["id", "endpoint", "webhook_id", "event_type", "object_type", "object_id", "occurred_at", "status",
                  "attempts", "failures", "last_status_code", "last_error", "next_attempt_at", "delivered_at",
                  "replayed_at", "created_at"]
        read_only_fields = fields


class WebhookAPIMixin(ThrottleFirstMixin):
    # The CRM's schema (every status with a typed body), without versions: these are not records.
    schema = CRMAutoSchema()
    tag = "webhooks"
    who_may = "Who may: officers and superusers."
    authentication_classes = AUTHENTICATION
    permission_classes = [OfficersOnly]
    parser_classes = [StrictJSONParser]
    renderer_classes = [JSONRenderer]


@extend_schema_view(
    list=extend_schema(tags=["webhooks"]),
    retrieve=extend_schema(tags=["webhooks"]),
    create=extend_schema(tags=["webhooks"]),
    update=extend_schema(tags=["webhooks"]),
    partial_update=extend_schema(tags=["webhooks"]),
    destroy=extend_schema(tags=["webhooks"]),
)
class EndpointViewSet(WebhookAPIMixin, viewsets.ModelViewSet):
    """Webhook endpoints (officers only). The URL's host must be on WEBHOOK_ALLOWED_HOSTS and resolve to a public address."""

    serializer_class = EndpointSerializer
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return Endpoint.objects.order_by("url", "id")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("rotate_secret", None)
        endpoint = services.endpoint_create(actor=request.user, **data)
        return Response(self.get_serializer(endpoint).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        endpoint = self.get_object()
        serializer = self.get_serializer(endpoint, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        if not serializer.validated_data:
            return Response(self.get_serializer(endpoint).data)  # nothing to change: no write
        endpoint = services.endpoint_update(endpoint=endpoint, actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(endpoint).data)

    def perform_destroy(self, instance):
        with transaction.atomic():
            instance.delete()  # its deliveries (the log) go with it


@extend_schema_view(list=extend_schema(tags=["webhooks"]), retrieve=extend_schema(tags=["webhooks"]))
class DeliveryViewSet(WebhookAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The delivery log, newest first; `?endpoint=<id>` and `?status=` filter it. Officers only."""

    serializer_class = DeliverySerializer

    def get_queryset(self):
        return selectors.deliveries(
            endpoint_id=selectors.endpoint_id_param(self.request.query_params.get("endpoint")),
            status=self.request.query_params.get("status", ""),
        )

    @extend_schema(
        tags=["webhooks"],
        request=None,
        responses={202: DeliverySerializer},  # and 409 (api.schema): a delivery still waiting
    )
    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None):
        """Send a delivered or failed delivery again, with the same webhook-id and body."""
        delivery = self.get_object()
        if not services.replay(delivery):
            return Response({"detail": "This delivery is still waiting to be sent."}, status=status.HTTP_409_CONFLICT)
        delivery.refresh_from_db()
        return Response(self.get_serializer(delivery).data, status=status.HTTP_202_ACCEPTED)
