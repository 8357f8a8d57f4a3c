"""OpenAPI details drf-spectacular cannot guess.

Country codes are one named enum component, `CountryCode`, shared by
partners' `country` and trade missions' `countries` (left to itself
drf-spectacular makes two enums of the same 249 codes and warns, which
`spectacular --fail-on-warn` refuses).
"""

from django_countries import countries
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent


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
                "description": "ISO 3166-1 alpha-2 country code.",
            },
        )
        auto_schema.registry.register_on_missing(component)
        if getattr(self.target, "allow_blank", False):
            return {"oneOf": [component.ref, {"type": "string", "enum": [""]}]}
        return component.ref
