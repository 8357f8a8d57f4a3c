"""The API's querysets: the apps' selectors (role and confidentiality applied
there, once) plus what the representation needs, in a constant number of
queries per page whatever its size.

Many-to-many keys (ids, slugs, usernames) come as one comma-joined column per
relation, from a correlated subquery in the page query itself, instead of a
prefetch query per relation: an engagement has four, and the API budget is
eight queries per call (QUALITY.md P1).
"""

from django.db.models import CharField, OuterRef, StringAgg, Subquery, Value
from django.db.models.functions import Cast

from accounts import access
from engagements.selectors import commitments_for, engagements_for, gifts_for, missions_for, partners_for


def with_related_keys(queryset, **relations):
    """Annotate `<name>_keys` for each many-to-many `name=key` ("pk", "slug", "username").

    Keys contain no comma (ids, slugs and Django usernames cannot), so the
    joined string splits back exactly; api.fields.KeyedManyRelatedField reads it.
    """
    for name, key in relations.items():
        m2m = queryset.model._meta.get_field(name)
        through = m2m.remote_field.through
        source, target = m2m.m2m_field_name(), m2m.m2m_reverse_field_name()
        value = f"{target}_id" if key == "pk" else f"{target}__{key}"
        keys = (
            through.objects.filter(**{f"{source}_id": OuterRef("pk")})
            .order_by()
            .values(f"{source}_id")
            .annotate(keys=StringAgg(Cast(value, output_field=CharField()), Value(",")))
            .values("keys")
        )
        queryset = queryset.annotate(**{f"{name}_keys": Subquery(keys, output_field=CharField())})
    return queryset


def api_topics(user):
    return access.topics_for(user)


def api_partners(user):
    return with_related_keys(partners_for(user), topics="slug")


def api_contacts(user):
    return access.contacts_for(user)


def api_agreements(user):
    return with_related_keys(access.agreements_for(user).select_related("owner"), partners="pk")


def api_engagements(user):
    return with_related_keys(
        engagements_for(user).select_related("owner"),
        partners="pk",
        contacts="pk",
        staff="username",
        topics="slug",
    )


def api_missions(user):
    return with_related_keys(missions_for(user).select_related("owner"), delegates="pk", partners="pk")


def api_commitments(user):
    return commitments_for(user).select_related("owner")


def api_gifts(user):
    return gifts_for(user)
