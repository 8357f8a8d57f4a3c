from rest_framework.pagination import PageNumberPagination

from diplomacy_crm.paginator import CappedPaginator


class StandardPagination(PageNumberPagination):
    """`{"count", "next", "previous", "results"}`, with `count` capped like the HTML lists.

    `count` is exact up to `diplomacy_crm.paginator.COUNT_CAP` (10,000) rows;
    above, it is 10,000 and `next` keeps leading on, page after page, to the
    last one (where `next` is null). A page past the end is a 404, as before.
    (The API answers JSON only, so DRF's browsable page links are not used.)
    """

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100  # larger requests are clamped, not refused
    django_paginator_class = CappedPaginator
