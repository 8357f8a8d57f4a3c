"""/api/v1/attachments/: a record's files, their download, upload, replace and delete, under the pages' rules.

`?engagement=<id>` (or `trade_mission`, `commitment`, `gift`, `partner`,
`agreement`) lists that record's attachments; an attachment of a restricted
engagement (or of its commitments and gifts) is listed and downloaded only by
those who see the engagement, and is a 404 for everyone else
(accounts.access.attachment_q through attachments.selectors).

Writes are multipart (the files themselves), through attachments.services,
as the pages: `POST` uploads one or more files (`file`, repeated) to the
record named by `record_type` and `record_id` (404 for a record the user may
not see, then 403 without the right to attach to it); `PUT` replaces one
file, `DELETE` deletes it (officers: 403 for others, before the 404).
A refused write leaves no row and no file in the storage (the services
remove what they stored); the views therefore call the services outside any
transaction of their own.
"""

import django_filters
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from accounts.access import may_attach, may_delete_attachment, may_replace_attachment
from attachments import selectors, services
from attachments.checks import human_size
from attachments.models import KINDS, Attachment
from attachments.responses import file_response

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


class AttachmentUploadSerializer(serializers.Serializer):
    """One or more files for one record: repeat `file` for several."""

    def get_fields(self):
        # Built per request: the limit is a setting (the schema shows the one in force).
        limit = settings.ATTACHMENT_MAX_FILES
        return {
            "record_type": serializers.ChoiceField(
                choices=list(KINDS), help_text="The kind of record to attach the files to."
            ),
            "record_id": serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="That record's id."),
            "file": serializers.ListField(
                child=serializers.FileField(allow_empty_file=True, use_url=False),  # "x.pdf is empty.", by the service
                min_length=1,
                max_length=limit,
                help_text=f"The files (repeat the field for several, at most {limit}), each at most "
                f"{human_size(settings.ATTACHMENT_MAX_BYTES)}. Their type is read from their content, not their names.",
                error_messages={
                    "required": "Choose at least one file.",
                    "empty": "Choose at least one file.",
                    "min_length": "Choose at least one file.",
                    "max_length": f"At most {limit} files at once.",
                },
            ),
        }


class AttachmentReplaceSerializer(serializers.Serializer):
    """The new file; the one it replaces stays in the attachment's history."""

    file = serializers.FileField(
        allow_empty_file=True,
        use_url=False,
        help_text="The new file; its type is read from its content, not its name.",
        error_messages={"required": "Choose a file."},
    )

    def to_internal_value(self, data):
        # Several `file` parts would otherwise mean the last one, silently.
        if hasattr(data, "getlist") and len(data.getlist("file")) > 1:
            raise serializers.ValidationError({"file": ["Send one file: it replaces this attachment's."]})
        return super().to_internal_value(data)


def _file_errors(service, **kwargs):
    """Call `service`; its refusals of the files ("files" on the pages' forms) are errors of this API's `file`."""
    try:
        return service(**kwargs)
    except DjangoValidationError as exc:
        if hasattr(exc, "error_dict") and "files" in exc.error_dict:
            errors = {("file" if key == "files" else key): value for key, value in exc.error_dict.items()}
            raise DjangoValidationError(errors) from None
        raise


class AttachmentWrites(BasePermission):
    """Reads for every role; uploads for whoever may attach to some kind of record (the record's kind is the
    service's check, once the record is found); replace and delete for officers (accounts.access)."""

    RULES = {
        "POST": (lambda user: any(may_attach(user, label) for label, _ in KINDS.values()),
                 "You may not attach files to records."),
        "PUT": (may_replace_attachment, "Only officers replace attachments."),
        "DELETE": (may_delete_attachment, "Only officers delete attachments."),
    }

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS or request.method not in self.RULES:
            return True  # reads; any other method is the view's 405
        rule, self.message = self.RULES[request.method]
        return bool(rule(request.user))


class AttachmentSchema(CRMAutoSchema):
    def _errors_of(self, action: str) -> list[str]:
        codes = super()._errors_of(action)
        # An upload names a record: one the user may not see is a 404, as its own page.
        return sorted({*codes, "404"}) if action == "create" else codes

    def _get_paginator(self):
        # An upload answers with the list of what it created, whole: only the list is paged.
        return super()._get_paginator() if self._action == "list" else None


class AnyFileRenderer(BaseRenderer):
    # The download answers with the file's own type; this lets any Accept header reach it.
    media_type = "*/*"
    format = "file"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


WHO_WRITES = (
    "Who may: staff (to engagements, commitments and gifts they may see), officers and superusers (to every record)."
)
WHO_OFFICERS = "Who may: officers and superusers."


@extend_schema_view(
    list=extend_schema(tags=[TAG]),
    retrieve=extend_schema(tags=[TAG]),
    create=extend_schema(
        tags=[TAG],
        request=AttachmentUploadSerializer,
        responses={201: AttachmentSerializer(many=True)},
        description=(
            "Uploads one or more files (`multipart/form-data`; repeat `file` for several) to the record named by "
            "`record_type` and `record_id`, all or none: one refused file (a type not allowed, read from the "
            "content, not the name; over the size limit; empty) refuses the upload with a message naming it, and "
            "nothing is stored. A record you may not see is a 404. The answer lists the new attachments.\n\n"
            + WHO_WRITES
        ),
    ),
    update=extend_schema(
        tags=[TAG],
        request=AttachmentReplaceSerializer,
        responses={200: AttachmentSerializer},
        description=(
            "Replaces an attachment's file with a new one (`multipart/form-data`, `file`), checked as an upload. "
            "The earlier file stays in the attachment's history. The answer is the attachment as it now is.\n\n"
            + WHO_OFFICERS
        ),
    ),
    destroy=extend_schema(
        tags=[TAG],
        description="Deletes an attachment; it stays in the history (who deleted it, and when).\n\n" + WHO_OFFICERS,
    ),
)
class AttachmentViewSet(ThrottleFirstMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Files kept with records (engagements, trade missions, commitments, gifts, partners, agreements): name,
    type detected from the content, size, SHA-256, who uploaded it and when. An attachment is exactly as visible
    as its record: those of a restricted engagement, its commitments and gifts are 404 to whoever may not see it.
    Upload, replace and delete take `multipart/form-data`.
    """

    schema = AttachmentSchema()
    tag = TAG
    who_may = "Who may: every role; attachments of restricted engagements only those who see the engagement."
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated, AttachmentWrites]
    parser_classes = [MultiPartParser]
    renderer_classes = [JSONRenderer]
    serializer_class = AttachmentSerializer
    filterset_class = AttachmentFilter
    http_method_names = ["get", "post", "put", "delete", "head", "options"]

    def handle_exception(self, exc):
        # An error of the download is JSON like every other (its renderer for the file accepts any type).
        response = super().handle_exception(exc)
        if getattr(self, "action", None) == "download":
            self.request.accepted_renderer = JSONRenderer()
            self.request.accepted_media_type = JSONRenderer.media_type
        return response

    def get_queryset(self):
        return selectors.attachments_for(self.request.user).select_related("uploaded_by").order_by("-uploaded_at", "-id")

    # The writes call the services outside any transaction of the view's: a service that refuses removes the
    # files it stored, which it could not do if an outer transaction rolled its rows back afterwards.

    def create(self, request, *args, **kwargs):
        form = AttachmentUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        record = selectors.record_for(request.user, data["record_type"], data["record_id"])  # 404 if not seen
        created = _file_errors(services.attach_files, record=record, uploads=data["file"], actor=request.user)
        return Response(self.get_serializer(created, many=True).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        attachment = self.get_object()
        form = AttachmentReplaceSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        replaced = _file_errors(
            services.replace_file, attachment=attachment, upload=form.validated_data["file"], actor=request.user
        )
        return Response(self.get_serializer(replaced).data)

    def destroy(self, request, *args, **kwargs):
        services.delete_attachment(attachment=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=[TAG],
        responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The file.")},
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, AnyFileRenderer])
    def download(self, request, pk=None):
        """The file, as an attachment (Content-Disposition) with nosniff."""
        return file_response(self.get_object(), services.storage())
