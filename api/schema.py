"""The OpenAPI document: what drf-spectacular cannot guess, written once for every resource.

- `CRMAutoSchema` (the API ViewSets' schema class) adds, to every operation,
  each status it can answer besides its success, with a typed body: 400
  `ValidationError` (field -> messages, `non_field_errors`) or `Error` (a body
  that is not JSON), 401/403/404/406/412/413/415 `Error`, 409 `RecordInUse` on
  delete and `Error` on a write that lost a race, 429 `Error` with
  `Retry-After`. It documents `If-Match` on writes and `ETag` on answers
  carrying a record, and composes operation descriptions for an integrator
  (what the call does, who may make it, how filters combine): the ViewSets'
  and actions' docstrings are not used, so internal notes stay internal.
- Lists of keys carry their limits (`minItems` where a list must not be
  empty, `maxItems`); a list's `count` carries its cap (api.pagination).
- `describe_api` (a postprocessing hook) gives each tag the ViewSet's
  docstring (what the resource is) and the document an overview.
- Country codes are one named enum component, `CountryCode`, shared by
  partners' `country` and trade missions' `countries` (left to itself
  drf-spectacular makes two enums of the same 249 codes and warns, which
  `spectacular --fail-on-warn` refuses).
"""

from django_countries import countries
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, get_doc
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from accounts.roles import STAFF, VIEWER, role_permissions
from diplomacy_crm.paginator import COUNT_CAP

from .fields import MAX_ID, MAX_KEY_LENGTH, MAX_RELATED, IdField, KeyedManyRelatedField, KeyField


class CountryCodeFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "api.fields.CountryCodeField"

    def map_serializer_field(self, auto_schema, direction):
        component = ResolvedComponent(
            name="CountryCode",
            type=ResolvedComponent.SCHEMA,
            object="CountryCode",
            schema={
                "type": "string",
                "enum": [code for code, _name in countries],
                "description": (
                    "ISO 3166-1 alpha-2 country code, in capitals (JP, MX, VN); also Kosovo (XK) and former "
                    "countries of ISO 3166-3: SU (U.S.S.R.), YU (Yugoslavia), CS (Czechoslovakia), "
                    "DD (German Democratic Republic), YD (South Yemen), AN (Netherlands Antilles)."
                ),
            },
        )
        auto_schema.registry.register_on_missing(component)
        if getattr(self.target, "allow_blank", False):
            return {"oneOf": [component.ref, {"type": "string", "enum": [""]}]}
        return component.ref


# --- Error bodies ------------------------------------------------------------------------------
MESSAGES = {"type": "array", "items": {"type": "string"}}
ERROR_SCHEMAS = {
    "Error": {
        "type": "object",
        "description": "Every refusal other than bad field values: what went wrong, in a sentence.",
        "properties": {"detail": {"type": "string", "description": "A sentence for a person."}},
        "required": ["detail"],
        "example": {"detail": "The record has changed since that version (If-Match). Fetch it again, then retry."},
    },
    "ValidationError": {
        "type": "object",
        "description": (
            "Bad input: each field (or filter parameter) in error with its messages, and `non_field_errors` for "
            "rules spanning fields. A list field's errors may be given per position: `{\"countries\": {\"1\": "
            "[\"…\"]}}`. Nothing was written."
        ),
        "properties": {"non_field_errors": {**MESSAGES, "description": "Errors of no single field."}},
        "additionalProperties": {
            "anyOf": [MESSAGES, {"type": "object", "additionalProperties": MESSAGES}],
        },
        "example": {
            "ends_at": ["An engagement must end after it starts."],
            "starts_at": ["2027-11-07T01:30 happens twice in America/Los_Angeles (the clocks go back then): "
                          "it is -07:00 or -08:00; add an offset."],
        },  # fmt: skip
    },
    "RecordInUse": {
        "type": "object",
        "description": "A delete refused because other records still refer to this one. Nothing was deleted.",
        "properties": {
            "detail": {"type": "string"},
            "blocking": {**MESSAGES, "description": "Kinds of records in the way (engagements, commitments…)."},
            "references": {
                "type": "array",
                "description": "How many of each kind you may see; the rest are counted as “other records”.",
                "items": {
                    "type": "object",
                    "properties": {"kind": {"type": "string"}, "count": {"type": "integer", "minimum": 1}},
                    "required": ["kind", "count"],
                },
            },
        },
        "required": ["detail"],
        "example": {
            "detail": "Other records still refer to this one; remove or reassign them first, or archive it.",
            "blocking": ["engagements"],
            "references": [{"kind": "engagements", "count": 3}, {"kind": "other records", "count": 1}],
        },
    },
}

ERROR_DESCRIPTIONS = {
    "400": "Bad input (field errors), or a body that is not JSON (`detail`). Nothing was written.",
    "401": "No credentials, or an unknown token. Send `Authorization: Token <key>`.",
    "403": "Your role does not allow this (or a session write without its CSRF token).",
    "404": "No such record, or one you may not see; for a list, a page past the end.",
    "406": "The `Accept` header asks for something other than JSON.",
    "409": "A record this change names was changed or deleted at the same moment; nothing was written. Retry.",
    "412": "`If-Match` names a version the record has left; nothing changed. Read it again, then retry.",
    "413": "The body is larger than the limit (10 MB).",
    "415": "The body is not `application/json`.",
    "429": "Too many requests; wait the seconds in `Retry-After`.",
}

# Which refusals each action can answer, besides 401, 403, 406 and 429 (any request).
ACTION_ERRORS = {
    "list": ["400", "404"],
    "create": ["400", "409", "413", "415"],
    "retrieve": ["404"],
    "update": ["400", "404", "409", "412", "413", "415"],
    "partial_update": ["400", "404", "409", "412", "413", "415"],
    "destroy": ["404", "409", "412"],
    "replay": ["404", "409"],  # webhook deliveries: one still waiting cannot be replayed
    "download": ["404"],  # attachments: a file of a record you may not see
}
ANY_REQUEST_ERRORS = ["401", "403", "406", "429"]
WITH_BODY = {"create", "update", "partial_update"}
CARRIES_RECORD = {"create": ["201"], "retrieve": ["200"], "update": ["200"], "partial_update": ["200"]}

IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description='The record\'s `ETag` from a read (`W/"7"`): the write happens only if the record is still at that '
    "version, else 412 and nothing changes. `*`, or no `If-Match`, writes whatever the version.",
    examples=[OpenApiExample("version 7", value='W/"7"')],
)
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    {"type": "integer", "minimum": 0},
    OpenApiParameter.HEADER,
    response=["429"],
    required=True,
    description="Seconds to wait before the next request.",
)
WWW_AUTHENTICATE = OpenApiParameter(
    "WWW-Authenticate",
    str,
    OpenApiParameter.HEADER,
    response=["401"],
    required=True,
    description='`Token`: the scheme to authenticate with.',
)


def etag_header(codes):
    return OpenApiParameter(
        "ETag",
        {"type": "string", "pattern": r'^W/"\d+"$'},
        OpenApiParameter.HEADER,
        response=codes,
        required=True,
        description='The record\'s version (`W/"7"`); send it back as `If-Match` to write only over that version.',
    )


# --- Descriptions --------------------------------------------------------------------------------
ACTION_TEXT = {
    "list": (
        "The {plural} you may see, {page_size} a page (`page_size` up to {max_page_size}; more is clamped). "
        "`count` is exact up to {cap:,}; {cap:,} means “{cap:,} or more”: follow `next` until it is null."
    ),
    "create": (
        "Creates a {singular}. Fields left out take their defaults; the answer is the record as a read would "
        "show it, with its `ETag`. A refused request writes nothing."
    ),
    "retrieve": "Reads {singular}, with its version in the `ETag` header. A record you may not see is a 404.",
    "update": (
        "Changes a {singular}: the body must hold every required field, as for a create, but only the fields "
        "in it are written (as with `PATCH`), so a concurrent change of other fields survives. Send the `ETag` you read as `If-Match` to refuse the write (412) if the "
        "record changed since."
    ),
    "partial_update": (
        "Changes the fields of a {singular} named in the body, nothing else; a list (of ids, slugs…) is "
        "replaced when named. Send the `ETag` you read as `If-Match` to refuse the write (412) if the record "
        "changed since."
    ),
    "destroy": (
        "Deletes a {singular}. Refused with 409 (and what is in the way) while other records refer to it: "
        "remove or reassign them first, or archive it."
    ),
}
LIST_EXAMPLES = {
    "partner": "?country=JP&topic=trade&status=active (active partners in Japan working on trade)",
    "contact": "?partner=12&is_active=true (the people in post at partner 12)",
    "agreement": "?kind=sister_city&status=in_force&expires_before=2028-01-01",
    "engagement": "?partner=12&status=held&starts_after=2027-01-01T00:00:00-08:00 (meetings held with partner 12 "
    "since New Year)",
    "trademission": "?country=VN&direction=outbound&starts_after=2027-01-01",
    "commitment": "?owner=sam_staff&overdue=true (what Sam owes that is late)",
    "gift": "?direction=received&exchanged_after=2027-01-01&disposition=pending",
}
FILTERS_TEXT = (
    "Filters combine: a record is listed only if it matches every filter given; `ordering` sorts where it is "
    "offered. `q` matches records holding every word of it (case-insensitive) in their text fields. A filter "
    "value that is not valid (an unknown choice, a malformed date or id) is a 400 naming the parameter; "
    "unknown parameters are ignored."
)
VERB_OF_ACTION = {
    "list": "view", "retrieve": "view", "create": "add", "update": "change", "partial_update": "change",
    "destroy": "delete",
}  # fmt: skip


def who_may(model, verb: str) -> str:
    """"Who may: …", from the roles' permissions (accounts.roles); `verb` is view, add, change or delete."""
    perm = f"{model._meta.app_label}.{verb}_{model._meta.model_name}"
    granted = [role for role, perms in role_permissions().items() if perm in perms]
    names = {VIEWER: "viewers", STAFF: "staff"}
    roles = [names.get(role, f"{role}s") for role in granted] + ["superusers"]
    if len(roles) == 1:
        return "Who may: superusers."
    return f"Who may: {', '.join(roles[:-1])} and {roles[-1]}."


EXAMPLE_BODIES = {
    "topic": {"name": "Water policy", "slug": "water-policy"},
    "partner": {"name": "Consulate General of Mexico", "kind": "diplomatic_mission", "country": "MX",
                "city": "Los Angeles", "topics": ["trade"], "priority": 1},
    "contact": {"partner": 12, "full_name": "Ana Morales", "title": "Consul for Economic Affairs",
                "email": "ana.morales@consulmex.example"},
    "agreement": {"title": "Memorandum on port cooperation", "kind": "mou", "partners": [12],
                  "signed_on": "2026-04-02", "expires_on": "2031-04-01", "status": "in_force"},
    "engagement": {"title": "Call with the consul", "kind": "call", "starts_at": "2027-05-01T10:00:00-07:00",
                   "partners": [12], "topics": ["trade"], "confidentiality": "internal"},
    "trademission": {"name": "Mission to Vietnam", "direction": "outbound", "countries": ["VN"],
                     "start_date": "2027-01-06", "end_date": "2027-01-10"},
    "commitment": {"description": "Send the letter of thanks", "partner": 12, "engagement": 40,
                   "due_date": "2027-05-15"},
    "gift": {"direction": "received", "exchanged_on": "2027-05-01", "giver": "H.E. the Ambassador",
             "recipient": "The Mayor", "description": "Porcelain vase", "estimated_value": "250.00",
             "currency": "USD"},
}  # fmt: skip


class CRMAutoSchema(AutoSchema):
    """Schema of the CRM's resource ViewSets (api.views.CRMViewSet)."""

    @property
    def _action(self) -> str:
        return getattr(self.view, "action", None) or ""

    @property
    def _model(self):
        return self.view.get_serializer_class().Meta.model

    @property
    def _versioned(self) -> bool:
        """Records with a version answer with an ETag and take If-Match (412); the webhook resources do not."""
        return any(f.name == "version" for f in self._model._meta.concrete_fields)

    def _errors_of(self, action: str) -> list[str]:
        codes = ACTION_ERRORS.get(action, [])
        return codes if self._versioned else [code for code in codes if code != "412"]

    def get_tags(self):
        return [getattr(self.view, "tag", None) or super().get_tags()[0]]

    def get_description(self) -> str:
        text = ACTION_TEXT.get(self._action)
        who = getattr(self.view, "who_may", None) or who_may(self._model, VERB_OF_ACTION.get(self._action, "change"))
        if text is None:
            return f"{super().get_description()}\n\n{who}"
        pagination = self.view.pagination_class
        meta = self._model._meta
        singular = str(meta.verbose_name)
        text = text.format(
            plural=meta.verbose_name_plural,
            singular=f"{'an' if singular[0] in 'aeiou' else 'a'} {singular}",
            page_size=pagination.page_size,
            max_page_size=pagination.max_page_size,
            cap=COUNT_CAP,
        )
        if self._action == "list" and getattr(self.view, "filterset_class", None):
            text += f" {FILTERS_TEXT}"
        if self._action == "list" and meta.model_name in LIST_EXAMPLES:
            text += f"\n\nExample: `{self.path}{LIST_EXAMPLES[meta.model_name]}`".replace(" (", "` (", 1).replace(")`", ")")
        if not self._versioned:
            text = text.split(" Send the `ETag`", 1)[0].replace(", with its `ETag`", "").replace(
                ", with its version in the `ETag` header", ""
            )
        return f"{text}\n\n{who}"

    def get_override_parameters(self):
        parameters = [*super().get_override_parameters(), RETRY_AFTER, WWW_AUTHENTICATE]
        if not self._versioned:
            return parameters
        if self._action in ("update", "partial_update", "destroy"):
            parameters.append(IF_MATCH)
        if self._action in CARRIES_RECORD:
            parameters.append(etag_header(CARRIES_RECORD[self._action]))
        return parameters

    def get_examples(self):
        body = EXAMPLE_BODIES.get(self._model._meta.model_name)
        if body is None or self._action not in WITH_BODY:
            return super().get_examples()
        if self._action == "partial_update":
            first = next(iter(body))
            body = {first: body[first]}
        return [*super().get_examples(), OpenApiExample("example", value=body, request_only=True)]

    def _error_ref(self, name: str) -> dict:
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=ERROR_SCHEMAS[name])
        self.registry.register_on_missing(component)
        return component.ref

    def _error_body(self, code: str) -> tuple[dict, str]:
        description = ERROR_DESCRIPTIONS[code]
        if code == "400":
            if self._action in WITH_BODY:
                return {"oneOf": [self._error_ref("ValidationError"), self._error_ref("Error")]}, description
            return self._error_ref("ValidationError"), "Bad filter values (field errors naming the parameter)."
        if code == "409" and self._action == "replay":
            return self._error_ref("Error"), "The delivery is still waiting to be sent; nothing to replay."
        if code == "409" and self._action == "destroy":
            return self._error_ref("RecordInUse"), "Other records still refer to this one; nothing was deleted."
        return self._error_ref("Error"), description

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if self._action not in ACTION_ERRORS:
            return responses
        for code in self._errors_of(self._action) + ANY_REQUEST_ERRORS:
            if code == "400" and self._action == "list" and not getattr(self.view, "filterset_class", None):
                continue  # nothing to filter, nothing to refuse
            if code not in responses:
                schema, description = self._error_body(code)
                responses[code] = self._get_response_for_code(OpenApiResponse(schema, description), code)
        for code, response in responses.items():
            if code.startswith("2") and not response.get("description"):
                response["description"] = {"201": "Created.", "204": "Deleted."}.get(code, "OK.")
        return dict(sorted(responses.items()))

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "request":
            return schema  # input limits; what a response holds is described as it is
        if isinstance(field, KeyedManyRelatedField) and schema.get("type") == "array":
            schema["maxItems"] = MAX_RELATED
            if not field.allow_empty:
                schema["minItems"] = 1
            _key_constraints(field.child_relation, schema["items"])
        elif not field.read_only:
            _key_constraints(field, schema)
        return schema

    def _get_filter_parameters(self):
        parameters = super()._get_filter_parameters()
        filterset = getattr(self.view, "filterset_class", None)
        search = filterset.base_filters.get("q") if filterset else None
        for parameter in parameters:
            if parameter["name"] == "q" and search is not None:
                fields = ", ".join(f"`{name}`" for name in search.search_fields)
                parameter["description"] = (
                    f"Search: every word (up to 10) must appear, in any case and with or without accents "
                    f"(\"Sao Paulo\" finds \"São Paulo\"), in one of {fields}."
                )
                parameter["schema"]["maxLength"] = search.extra.get("max_length") or parameter["schema"].get("maxLength")
                parameter["schema"] = {k: v for k, v in parameter["schema"].items() if v is not None}
        return parameters

    def _get_pagination_parameters(self):
        parameters = super()._get_pagination_parameters()
        for parameter in parameters:
            if parameter["name"] == "page":
                parameter["schema"]["minimum"] = 1
                parameter["description"] = "The page number, from 1; a page past the end is a 404."
            elif parameter["name"] == "page_size":
                parameter["schema"]["minimum"] = 1
                parameter["description"] = (
                    f"Records a page: {self.view.pagination_class.page_size} unless given (or not a positive whole number); "
                    f"more than {self.view.pagination_class.max_page_size} is read as {self.view.pagination_class.max_page_size}."
                )
        return parameters


def _key_constraints(field, schema: dict) -> None:
    """An id is 1 to the database's bigint maximum; a slug or username is non-empty text of bounded length."""
    if isinstance(field, IdField) and schema.get("type") == "integer":
        schema.update(minimum=1, maximum=MAX_ID)
    elif isinstance(field, KeyField) and schema.get("type") == "string":
        schema.update(minLength=1, maxLength=MAX_KEY_LENGTH)


# --- The document as a whole (postprocessing hook) -------------------------------------------------
OVERVIEW = """\
The records of a city's international affairs office: partners (governments, consulates,
organisations, companies) and their contacts, engagements (meetings, calls, visits), trade
missions, commitments made on either side, agreements, and gifts.

**Authentication.** Send `Authorization: Token <key>` (the system's administrator makes the key
with `manage.py create_api_token <username>`). A browser session works too; its writes also need
the CSRF token. This document itself is public: it describes shapes, not data.

**Roles.** Viewers read; staff also create and change contacts, engagements, commitments and
gifts, and add partners; officers do everything, deletes included. Restricted engagements (and
their commitments and gifts) exist only for officers and the staff who took part: for anyone else
they are a 404, and ids of them are "unknown" in a body.

**Lists** are pages: `{"count", "next", "previous", "results"}`, 25 a page, `page_size` up to 100.
`count` is exact up to 10,000, and 10,000 above that: follow `next` until it is null.

**Errors** have a body: 400 maps each field (or filter) to its messages, with `non_field_errors`
for rules spanning fields; every other refusal is `{"detail": "…"}`, and a delete refused because
the record is in use (409) also says what is in the way. A refused request writes nothing.

**Versions.** Every record answer carries `ETag: W/"<version>"`. Send it back as `If-Match` on
`PUT`, `PATCH` or `DELETE` to change the record only if nobody has since (else 412).

**Files.** Attachments are uploaded (`POST /api/v1/attachments/`) and replaced (`PUT`) as
`multipart/form-data`; their type is read from their content. They carry no version.

**Times** are ISO 8601. Without an offset a time is read in the office's time zone; a time that
zone has twice (when clocks go back) or skips is a 400 naming the possible offsets."""


def describe_api(result, generator, request, public):
    """Postprocessing hook: the overview, and each tag's description from its ViewSet's docstring."""
    from . import views

    result["info"]["description"] = OVERVIEW
    tags = []
    viewsets = {*views.CRMViewSet.__subclasses__(), *(callback.cls for *_, callback in generator.endpoints)}
    for viewset in viewsets:
        if getattr(viewset, "tag", None) and viewset.tag not in {tag["name"] for tag in tags}:
            tags.append({"name": viewset.tag, "description": get_doc(viewset)})
    result["tags"] = sorted(tags, key=lambda t: t["name"])
    return result

