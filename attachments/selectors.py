"""Reads: the record an attachment URL names, and the attachments a user may see (accounts.access rules)."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse

from accounts.access import agreements_for, partners_for
from engagements.selectors import commitments_for, engagements_for, gifts_for, missions_for

from .models import KINDS, Attachment

RECORDS = {
    "engagement": engagements_for,
    "mission": missions_for,
    "commitment": commitments_for,
    "gift": gifts_for,
    "partner": partners_for,
    "agreement": agreements_for,
}


def record_for(user, kind: str, pk: int):
    """The record `kind` #`pk` if `user` may read it; Http404 otherwise (as the record's own page)."""
    if kind not in RECORDS:
        raise Http404("No such kind of record.")
    return get_object_or_404(RECORDS[kind](user), pk=pk)


def record_url(kind: str, record) -> str:
    """The record's own page (gifts have no page of their own: their edit page)."""
    if kind == "gift":
        return reverse("gifts:edit", args=[record.pk])
    return record.get_absolute_url()


def attachments_for(user):
    return Attachment.objects.visible_to(user)


def attachments_of(user, kind: str, record) -> list[Attachment]:
    """The record's attachments `user` may see, newest first, with their uploaders (one query)."""
    field = KINDS[kind][1]
    return list(attachments_for(user).filter(**{field: record}).select_related("uploaded_by"))


def access_attachment(user, pk) -> Attachment:
    """The attachment `pk` if `user` may see its record; Http404 otherwise."""
    return get_object_or_404(attachments_for(user), pk=pk)
