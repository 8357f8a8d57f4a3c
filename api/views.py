"""API endpoints: thin ViewSets over the apps' selectors, filtersets and services.

Each ViewSet names its queryset (api.selectors, role and confidentiality
applied by the apps' selectors), its filterset (the HTML list's own), and the
services that write. Reads of what a user may not see are 404s; writes go
through the same service functions as the pages, so the rules cannot drift.
"""

from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import JsonResponse
from django.templatetags.static import static
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions, routers, viewsets
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

from . import selectors, serializers
from .authentication import TokenAuthentication
from .parsers import StrictJSONParser
from .permissions import RolePermissions
from .preconditions import check_if_match, etag
from .schema import CRMAutoSchema  # also registers the OpenAPI extensions

# Token first: its "WWW-Authenticate: Token" makes a missing login a 401, not a 403.
AUTHENTICATION = [TokenAuthentication, SessionAuthentication]


class ThrottleFirstMixin:
    # Throttle before permissions, so that requests without valid credentials
    # (token guessing, say) are throttled too: by IP, at the anonymous rate.
    # DRF checks permissions first, and a bad token fails authentication before
    # any throttle runs. (Comments, not a docstring: docstrings become the schema's descriptions.)

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
        pass  # done in check_permissions

    def get_permissions(self):
        # A role first, whichever way the user signed in (accounts.permissions.HasRole).
        return [HasRole(), *super().get_permissions()]


class CRMViewSet(ThrottleFirstMixin, viewsets.ModelViewSet):
    # Each resource's docstring describes it to integrators (the schema's tag
    # description, api.schema.describe_api); operations are described by
    # api.schema.CRMAutoSchema, so internal notes belong in comments.
    schema = CRMAutoSchema()
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
        # The record; for PUT, PATCH and DELETE, 412 first if an `If-Match` names another version.
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
        # PUT and PATCH write only the fields the body names (save_record), so concurrent
        # changes of other fields survive. With `If-Match`, the version is compared again
        # under the row lock: a write that lost the race answers 412 and changes nothing.
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


class TopicViewSet(CRMViewSet):
    """Subjects the office works on (trade, climate, culture…), named by their `slug` in partners and
    engagements. Everyone with a role reads them; officers manage them.
    """

    tag = "topics"
    serializer_class = serializers.TopicSerializer
    selector = staticmethod(selectors.api_topics)
    create_service = staticmethod(partner_services.topic_create)
    update_service = staticmethod(partner_services.topic_update)
    instance_kwarg = "topic"


class PartnerViewSet(CRMViewSet):
    """Governments, cities, consulates, international organisations, companies and other bodies the office
    works with. `country` is an ISO 3166-1 alpha-2 code (empty for international bodies); `parent` is the
    body a partner belongs to (a consulate's government). `last_engagement_at` and `open_commitments` are
    computed from what you may see. Staff may add partners; officers edit and delete them.
    """

    tag = "partners"
    serializer_class = serializers.PartnerSerializer
    filterset_class = PartnerFilter
    selector = staticmethod(selectors.api_partners)
    create_service = staticmethod(partner_services.partner_create)
    update_service = staticmethod(partner_services.partner_update)
    instance_kwarg = "partner"


class ContactViewSet(CRMViewSet):
    """People at a partner: names, titles, how to address them, languages and protocol notes. A contact
    who left their post stays, with `is_active` false. Staff and officers add and edit them.
    """

    tag = "contacts"
    serializer_class = serializers.ContactSerializer
    filterset_class = ContactFilter
    selector = staticmethod(selectors.api_contacts)
    create_service = staticmethod(partner_services.contact_create)
    update_service = staticmethod(partner_services.contact_update)
    instance_kwarg = "contact"


class AgreementViewSet(CRMViewSet):
    """Memoranda of understanding, sister-city and friendship agreements, letters of intent and network
    memberships, with at least one partner, their dates (`signed_on`, `expires_on`, `notice_by`) and
    status. Officers manage them; the `owner` is reminded before expiry and the notice date.
    """

    tag = "agreements"
    serializer_class = serializers.AgreementSerializer
    filterset_class = AgreementFilter
    selector = staticmethod(selectors.api_agreements)
    create_service = staticmethod(partner_services.agreement_create)
    update_service = staticmethod(partner_services.agreement_update)
    instance_kwarg = "agreement"


class EngagementViewSet(CRMViewSet):
    """Meetings, calls, visits, forums and correspondence with partners: when (`starts_at`, ISO 8601; a
    time without an offset is read in the office's time zone), who took part (partners, their contacts,
    our staff), what was said and agreed. `confidentiality` restricted hides an engagement, its
    commitments and gifts from everyone but officers and the staff named in `staff`. Staff and officers
    log and edit engagements; `owner` is who logged it (null once that account is gone).
    """

    tag = "engagements"
    serializer_class = serializers.EngagementSerializer
    filterset_class = EngagementFilter
    selector = staticmethod(selectors.api_engagements)
    create_service = staticmethod(engagement_services.engagement_create)
    update_service = staticmethod(engagement_services.engagement_update)
    instance_kwarg = "engagement"


class TradeMissionViewSet(CRMViewSet):
    """Delegations abroad (outbound) or hosted (inbound): countries (ISO codes), cities, dates,
    delegates (contact ids), partners, objectives and outcomes. Officers manage them.
    """

    tag = "trade missions"
    serializer_class = serializers.TradeMissionSerializer
    filterset_class = TradeMissionFilter
    selector = staticmethod(selectors.api_missions)
    create_service = staticmethod(engagement_services.trade_mission_create)
    update_service = staticmethod(engagement_services.trade_mission_update)
    instance_kwarg = "mission"


class CommitmentViewSet(CRMViewSet):
    """Promises made in an engagement or a mission, by the city, the partner or both: what, by when
    (`due_date`), by whom on our side (`owner`, reminded when it falls due) and where it stands. `done` needs
    `completed_on`. Staff and officers add and update them.
    """

    tag = "commitments"
    serializer_class = serializers.CommitmentSerializer
    filterset_class = CommitmentFilter
    selector = staticmethod(selectors.api_commitments)
    create_service = staticmethod(engagement_services.commitment_create)
    update_service = staticmethod(engagement_services.commitment_update)
    instance_kwarg = "commitment"


class GiftViewSet(CRMViewSet):
    """Gifts received or given by the city in official exchanges, with giver, recipient, estimated value
    (with its ISO 4217 `currency`) and what became of them (`disposition`). Staff and officers record them.
    """

    tag = "gifts"
    serializer_class = serializers.GiftSerializer
    filterset_class = GiftFilter
    selector = staticmethod(selectors.api_gifts)
    create_service = staticmethod(engagement_services.gift_create)
    update_service = staticmethod(engagement_services.gift_update)
    instance_kwarg = "gift"


@csrf_exempt  # it changes nothing; without this a PUT would be the site's HTML 403 (no CSRF token)
def not_found(request, *args, **kwargs):
    return JsonResponse({"detail": "Not found."}, status=404)


class APIRootView(ThrottleFirstMixin, routers.APIRootView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SchemaView(ThrottleFirstMixin, SpectacularAPIView):
    # The OpenAPI 3 document (YAML; `?format=json` for JSON). Public: it describes
    # shapes and rules, never data (no usernames, no records; the same document for
    # everyone), so a client generator can read it without a session or a token.
    # Throttled like any anonymous request.

    authentication_classes = AUTHENTICATION
    permission_classes = [AllowAny]


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
