from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from diplomacy_crm import paginator as capped
from diplomacy_crm.paginator import COUNT_CAP, CappedPaginator


class StandardPagination(PageNumberPagination):
    """`{"count", "next", "previous", "results"}`, with `count` capped like the HTML lists.

    `count` is exact up to `diplomacy_crm.paginator.COUNT_CAP` (10,000) rows;
    above, it is 10,000 and `next` keeps leading on, page after page, to the
    last one (where `next` is null). A page past the end is a 404, as before.
    (The paginator rounds its cap up to whole pages, 10,020 rows for pages of
    30; the answer still says 10,000, the number the schema promises.)
    (The API answers JSON only, so DRF's browsable page links are not used.)
    """

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100  # larger requests are clamped, not refused
    django_paginator_class = CappedPaginator

    def get_paginated_response(self, data):
        return Response(
            {
                "count": min(self.page.paginator.count, capped.COUNT_CAP),
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        result = super().get_paginated_response_schema(schema)
        properties = result["properties"]
        properties["count"].update(
            minimum=0,
            maximum=COUNT_CAP,
            example=42,
            description=f"How many records match, exactly up to {COUNT_CAP:,}; {COUNT_CAP:,} means "
            f"“{COUNT_CAP:,} or more”: follow `next` until it is null.",
        )
        properties["next"].update(
            example="https://crm.city.example/api/v1/partners/?country=JP&page=3",
            description="The next page, with the same filters; null on the last page.",
        )
        properties["previous"].update(
            example="https://crm.city.example/api/v1/partners/?country=JP",
            description="The previous page; null on the first.",
        )
        result["required"] = ["count", "next", "previous", "results"]
        return result
