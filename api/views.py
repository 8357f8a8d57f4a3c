"""API endpoints: thin ViewSets over the apps' selectors, filtersets and services.

Each ViewSet names its queryset (api.selectors, role and confidentiality
applied by the apps' selectors), its filterset (the HTML list's own), and the
services that write. Reads of what a user may not see are 404s; writes go
through the same service functions as the pages, so the rules cannot drift.
"""

from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.templatetags.static import static
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions, routers, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.status import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from diplomacy_crm.deletion import delete_record
from accounts.permissions import HasRole
from engagements import services as engagement_services
from engagements.filters import CommitmentFilter, EngagementFilter, GiftFilter, TradeMissionFilter
from partners import services as partner_services
from partners.filters import AgreementFilter, ContactFilter, PartnerFilter

from . import schema  # noqa: F401 (registers the OpenAPI extensions)
from . import selectors, serializers
from .preconditions import check_if_match, etag
from .authentication import TokenAuthentication
from .parsers import StrictJSONParser
from .permissions import RolePermissions

# Token first: its "WWW-Authenticate: Token" makes a missing login a 401, not a 403.
AUTHENTICATION = [TokenAuthentication, SessionAuthentication]


class ThrottleFirstMixin:
    """Throttle before permissions, so that requests without valid credentials
    (token guessing, say) are throttled too: by IP, at the anonymous rate.

    DRF checks permissions first, and a bad token fails authentication before
    any throttle runs.
    """

    def perform_authentication(self, request):
        self._auth_failure = None
        try:
            request.user  # noqa: B018 (authenticates)
        except exceptions.AuthenticationFailed as exc:
            self._auth_failure = exc
            request._not_authenticated()  # anonymous, for the throttle

    def check_permissions(self, request):
        super().check_throttles(request)
        if self._auth_failure is not None:
            raise self._auth_failure
        super().check_permissions(request)

    def check_throttles(self, request):
        """Done in check_permissions."""

    def get_permissions(self):
        # A role first, whichever way the user signed in (accounts.permissions.HasRole).
        return [HasRole(), *super().get_permissions()]


class CRMViewSet(ThrottleFirstMixin, viewsets.ModelViewSet):
    authentication_classes = AUTHENTICATION
    permission_classes = [RolePermissions]
    parser_classes = [StrictJSONParser]
    renderer_classes = [JSONRenderer]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    # Set by each resource:
    selector = None  # staticmethod: user -> queryset
    create_service = None  # staticmethod: (*, actor, **fields) -> record
    update_service = None  # staticmethod: (*, <instance_kwarg>, actor, **fields) -> record
    instance_kwarg = ""

    def get_queryset(self):
        return self.selector(self.request.user)

    def get_object(self):
        """The record; for PUT, PATCH and DELETE, 412 first if an `If-Match` names another version."""
        instance = super().get_object()
        if self.request.method in ("PUT", "PATCH", "DELETE"):
            self._if_match_version = check_if_match(self.request, instance)
        return instance

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        return Response(self.get_serializer(instance).data, headers=etag(instance))

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # One transaction for the write and its answer: a request refused at any step writes nothing.
        with transaction.atomic():
            record = self.create_service(actor=request.user, **serializer.validated_data)
            return Response(self._present(record), status=HTTP_201_CREATED, headers=etag(record))

    def update(self, request, *args, **kwargs):
        """PUT and PATCH write only the fields the body names (save_record), so concurrent
        changes of other fields survive. With `If-Match`, the version is compared again
        under the row lock: a write that lost the race answers 412 and changes nothing."""
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        if not serializer.validated_data:
            return Response(self._present(instance), headers=etag(instance))  # nothing to change: no write, no history row
        data = dict(serializer.validated_data)
        if getattr(self, "_if_match_version", None) is not None:
            data["version"] = self._if_match_version
        with transaction.atomic():  # as in create(): refused at any step, nothing written
            record = self.update_service(actor=request.user, **{self.instance_kwarg: instance}, **data)
            return Response(self._present(record), headers=etag(record))

    def destroy(self, request, *args, **kwargs):
        # Refused with a 409 listing what still points here (api.exceptions) when in use.
        delete_record(self.get_object(), actor=request.user)
        return Response(status=HTTP_204_NO_CONTENT)

    def _present(self, record):
        # Read back through the list queryset: computed fields (counts, keys)
        # as a GET would show them, and only what this user may see.
        fresh = self.get_queryset().filter(pk=record.pk).first()
        return self.get_serializer(fresh or record).data


IN_USE_BODY = inline_serializer(
    "RecordInUse",
    fields={
        "detail": drf_serializers.CharField(),
        "blocking": drf_serializers.ListField(child=drf_serializers.CharField(), help_text="Kinds of records in the way."),
        "references": drf_serializers.ListField(
            child=inline_serializer(
                "Reference",
                fields={
                    "kind": drf_serializers.CharField(help_text="e.g. engagements; “other records” for what you may not see."),
                    "count": drf_serializers.IntegerField(),
                },
            ),
            required=False,
        ),
    },
)


IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description='The record\'s ETag (W/"<version>") from a read: the write happens only if the record is still at that '
    "version, else 412 Precondition Failed and nothing changes.",
)


def crm_schema(name: str):
    """Tag the resource; document If-Match (412) on writes and 409 on delete."""
    return extend_schema_view(
        list=extend_schema(tags=[name]),
        retrieve=extend_schema(tags=[name]),
        create=extend_schema(tags=[name]),
        update=extend_schema(tags=[name], parameters=[IF_MATCH]),
        partial_update=extend_schema(tags=[name], parameters=[IF_MATCH]),
        destroy=extend_schema(
            tags=[name],
            parameters=[IF_MATCH],
            responses={
                204: OpenApiResponse(description="Deleted."),
                409: OpenApiResponse(IN_USE_BODY, description="Other records still refer to this one; nothing was deleted."),
                412: OpenApiResponse(description="If-Match names an earlier version."),
            },
        ),
    )


@crm_schema("topics")
class TopicViewSet(CRMViewSet):
    serializer_class = serializers.TopicSerializer
    selector = staticmethod(selectors.api_topics)
    create_service = staticmethod(partner_services.topic_create)
    update_service = staticmethod(partner_services.topic_update)
    instance_kwarg = "topic"


@crm_schema("partners")
class PartnerViewSet(CRMViewSet):
    serializer_class = serializers.PartnerSerializer
    filterset_class = PartnerFilter
    selector = staticmethod(selectors.api_partners)
    create_service = staticmethod(partner_services.partner_create)
    update_service = staticmethod(partner_services.partner_update)
    instance_kwarg = "partner"


@crm_schema("contacts")
class ContactViewSet(CRMViewSet):
    serializer_class = serializers.ContactSerializer
    filterset_class = ContactFilter
    selector = staticmethod(selectors.api_contacts)
    create_service = staticmethod(partner_services.contact_create)
    update_service = staticmethod(partner_services.contact_update)
    instance_kwarg = "contact"


@crm_schema("agreements")
class AgreementViewSet(CRMViewSet):
    serializer_class = serializers.AgreementSerializer
    filterset_class = AgreementFilter
    selector = staticmethod(selectors.api_agreements)
    create_service = staticmethod(partner_services.agreement_create)
    update_service = staticmethod(partner_services.agreement_update)
    instance_kwarg = "agreement"


@crm_schema("engagements")
class EngagementViewSet(CRMViewSet):
    serializer_class = serializers.EngagementSerializer
    filterset_class = EngagementFilter
    selector = staticmethod(selectors.api_engagements)
    create_service = staticmethod(engagement_services.engagement_create)
    update_service = staticmethod(engagement_services.engagement_update)
    instance_kwarg = "engagement"


@crm_schema("trade missions")
class TradeMissionViewSet(CRMViewSet):
    serializer_class = serializers.TradeMissionSerializer
    filterset_class = TradeMissionFilter
    selector = staticmethod(selectors.api_missions)
    create_service = staticmethod(engagement_services.trade_mission_create)
    update_service = staticmethod(engagement_services.trade_mission_update)
    instance_kwarg = "mission"


@crm_schema("commitments")
class CommitmentViewSet(CRMViewSet):
    serializer_class = serializers.CommitmentSerializer
    filterset_class = CommitmentFilter
    selector = staticmethod(selectors.api_commitments)
    create_service = staticmethod(engagement_services.commitment_create)
    update_service = staticmethod(engagement_services.commitment_update)
    instance_kwarg = "commitment"


@crm_schema("gifts")
class GiftViewSet(CRMViewSet):
    serializer_class = serializers.GiftSerializer
    filterset_class = GiftFilter
    selector = staticmethod(selectors.api_gifts)
    create_service = staticmethod(engagement_services.gift_create)
    update_service = staticmethod(engagement_services.gift_update)
    instance_kwarg = "gift"


class APIRootView(ThrottleFirstMixin, routers.APIRootView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SchemaView(ThrottleFirstMixin, SpectacularAPIView):
    """The OpenAPI 3 document (YAML; `?format=json` for JSON). Needs a login, like everything else."""

    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]


def _sidecar(filename: str) -> str:
    # Swagger UI from the drf-spectacular-sidecar package, served by the app (no CDN).
    return static(f"drf_spectacular_sidecar/swagger-ui-dist/{filename}")


class DocsView(ThrottleFirstMixin, SpectacularSwaggerSplitView):
    """Swagger UI. The split view serves its start-up script as a separate
    file (`?script`), because the site's CSP forbids inline scripts."""

    authentication_classes = AUTHENTICATION
    permission_classes = [AllowAny]  # a person without a session is sent to the login page
    template_name = "api/swagger_ui.html"
    url_name = "api:schema"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return super().get(request, *args, **kwargs)

    @staticmethod
    def _swagger_ui_resource(filename):
        return _sidecar(filename)

    @staticmethod
    def _swagger_ui_favicon():
        return _sidecar("favicon-32x32.png")
