"""/api/v1/attachments/: a record's files, read-only, and their download, under the same rule as the pages.

`?engagement=<id>` (or `trade_mission`, `commitment`, `gift`, `partner`,
`agreement`) lists that record's attachments; an attachment of a restricted
engagement (or of its commitments and gifts) is listed and downloaded only by
those who see the engagement, and is a 404 for everyone else
(accounts.access.attachment_q through attachments.selectors). Uploads are the
pages' for now.
"""

import django_filters
from django.http import FileResponse, Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer

from attachments import selectors, services
from attachments.models import KINDS, Attachment

from .schema import CRMAutoSchema
from .views import AUTHENTICATION, ThrottleFirstMixin

TAG = "attachments"
MAX_ID = 2**63 - 1


class AttachmentFilter(django_filters.FilterSet):
    engagement = django_filters.NumberFilter(field_name="engagement_id", min_value=1, max_value=MAX_ID)
    trade_mission = django_filters.NumberFilter(field_name="trade_mission_id", min_value=1, max_value=MAX_ID)
    commitment = django_filters.NumberFilter(field_name="commitment_id", min_value=1, max_value=MAX_ID)
    gift = django_filters.NumberFilter(field_name="gift_id", min_value=1, max_value=MAX_ID)
    partner = django_filters.NumberFilter(field_name="partner_id", min_value=1, max_value=MAX_ID)
    agreement = django_filters.NumberFilter(field_name="agreement_id", min_value=1, max_value=MAX_ID)

    class Meta:
        model = Attachment
        fields = []


class AttachmentSerializer(serializers.ModelSerializer):
    record_type = serializers.SerializerMethodField(help_text="The kind of record the file is kept with.")
    record_id = serializers.SerializerMethodField(help_text="That record's id.")
    uploaded_by = serializers.SerializerMethodField(help_text="Username of who uploaded this version (null if gone).")
    download_url = serializers.SerializerMethodField(help_text="Where to download the file (same access rule).")

    class Meta:
        model = Attachment
        fields = ["id", "record_type", "record_id", "filename", "content_type", "size", "sha256", "uploaded_by",
                  "uploaded_at", "download_url"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=list(KINDS)))
    def get_record_type(self, obj) -> str:
        return obj.kind

    @extend_schema_field(OpenApiTypes.INT)
    def get_record_id(self, obj) -> int:
        return obj.record_id

    @extend_schema_field({"type": "string", "nullable": True})
    def get_uploaded_by(self, obj):
        return obj.uploaded_by.get_username() if obj.uploaded_by else None

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, obj) -> str:
        path = reverse("api:attachment-download", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class AnyFileRenderer(BaseRenderer):
    # The download answers with the file's own type; this lets any Accept header reach it.
    media_type = "*/*"
    format = "file"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


@extend_schema_view(
    list=extend_schema(tags=[TAG]),
    retrieve=extend_schema(tags=[TAG]),
)
class AttachmentViewSet(ThrottleFirstMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Files kept with records (engagements, trade missions, commitments, gifts, partners, agreements): name,
    type detected from the content, size, SHA-256, who uploaded it and when. An attachment is exactly as visible
    as its record: those of a restricted engagement, its commitments and gifts are 404 to whoever may not see it.
    """

    schema = CRMAutoSchema()
    tag = TAG
    who_may = "Who may: every role; attachments of restricted engagements only those who see the engagement."
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]
    serializer_class = AttachmentSerializer
    filterset_class = AttachmentFilter

    def handle_exception(self, exc):
        # An error of the download is JSON like every other (its renderer for the file accepts any type).
        response = super().handle_exception(exc)
        if getattr(self, "action", None) == "download":
            self.request.accepted_renderer = JSONRenderer()
            self.request.accepted_media_type = JSONRenderer.media_type
        return response

    def get_queryset(self):
        return selectors.attachments_for(self.request.user).select_related("uploaded_by").order_by("-uploaded_at", "-id")

    @extend_schema(
        tags=[TAG],
        responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The file.")},
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, AnyFileRenderer])
    def download(self, request, pk=None):
        """The file, as an attachment (Content-Disposition) with nosniff."""
        attachment = self.get_object()
        try:
            handle = services.storage().open(attachment.blob, "rb")
        except OSError:
            raise Http404 from None
        response = FileResponse(handle, as_attachment=True, filename=attachment.filename, content_type=attachment.content_type)
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response
