"""The triage list's filters (django-filter, as every list): status (triage by default) and a search."""

import django_filters

from diplomacy_crm.filters import ANY, SearchFilter

from .models import CapturedMessage


class CapturedMessageFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CapturedMessage.Status.choices, empty_label=ANY)
    q = SearchFilter(fields=["subject", "from_address", "from_name", "recipients"])
    ordering = django_filters.OrderingFilter(fields=(("received_at", "received_at"), ("sent_at", "sent_at")))

    class Meta:
        model = CapturedMessage
        fields = ["status"]

    def __init__(self, data=None, *args, **kwargs):
        # The page opens on what waits for a decision; "Any" (status=) shows every message.
        if data is not None and "status" not in data:
            data = data.copy()
            data["status"] = CapturedMessage.Status.TRIAGE
        super().__init__(data, *args, **kwargs)
