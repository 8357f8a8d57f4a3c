"""A paginator that never counts more than `cap` rows.

Django's Paginator runs `SELECT COUNT(*)` over the whole filtered list on
every page view: 25-325 ms on 200k engagements. `CappedPaginator` counts at
most `cap + 1` rows instead (`SELECT COUNT(*) FROM (SELECT … LIMIT cap + 1)`,
without ORDER BY, so the database stops after cap + 1 rows):

* up to `cap` rows everything is exact, and it behaves like Django's Paginator;
* above, `count` is `cap` and `count_capped` is True ("10,000+"): the page
  numbers run to the cap, and pages beyond it stay reachable with Next (each
  such page reads one row more than it shows to know whether another follows).

Either way a page costs the same queries: one bounded count, one page of rows.
An out-of-range page number raises EmptyPage like Django's (the list pages
show the last numbered page, the API answers 404).
"""

from math import ceil

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

COUNT_CAP = 10_000
# Past the cap a page is read with OFFSET; beyond this page number it is simply out of range
# (no 25-million-row OFFSETs, no bigint overflow from ?page=10**30).
MAX_PAGE = 1_000_000


class CappedPage(Page):
    """A page of a capped list: whether another page follows is known without the total."""

    def __init__(self, object_list, number, paginator, *, more: bool):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self):
        return self.more

    def end_index(self):
        if self.number <= self.paginator.num_pages:
            return super().end_index()
        return self.start_index() + len(self.object_list) - 1


class CappedPaginator(Paginator):
    """Django's Paginator, counting at most `cap` rows (default COUNT_CAP); see the module's docstring."""

    def __init__(self, object_list, per_page, orphans=0, allow_empty_first_page=True, error_messages=None, *, cap=None):
        super().__init__(object_list, per_page, orphans, allow_empty_first_page, error_messages)
        cap = COUNT_CAP if cap is None else int(cap)
        # Whole pages only, so that the last numbered page is full and always has a next one when capped.
        self.cap = max(1, ceil(cap / self.per_page)) * self.per_page

    @cached_property
    def _bounded_count(self) -> int:
        """The number of rows, counting no further than cap + 1."""
        rows = self.object_list
        if not isinstance(rows, QuerySet):
            return min(len(rows), self.cap + 1)
        # No ORDER BY: the count does not depend on it, and without it LIMIT stops the scan early.
        rows = rows.order_by()
        if not rows.query.combinator and not rows.query.distinct_fields:
            rows = rows.values("pk")  # select only the key in the subquery
        return rows[: self.cap + 1].count()

    @cached_property
    def count_capped(self) -> bool:
        """True when there are more than `cap` rows (then `count` is `cap`)."""
        return self._bounded_count > self.cap

    @cached_property
    def count(self) -> int:
        return min(self._bounded_count, self.cap)

    def validate_number(self, number):
        if not self.count_capped:
            return super().validate_number(number)
        # Past the cap the number of pages is unknown: any page from 1 may exist; page() finds out.
        return self._validate_number(number, MAX_PAGE)

    def page(self, number):
        number = self.validate_number(number)
        if not self.count_capped:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        if number <= self.num_pages:
            # Within the cap every page is full and followed by another (there are more than `cap` rows).
            return CappedPage(self.object_list[bottom : bottom + self.per_page], number, self, more=True)
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows:
            raise EmptyPage(self.error_messages["no_results"])
        return CappedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)

    def get_page(self, number):
        """Like Django's: a non-number gives page 1, a page past the end the last numbered page."""
        try:
            return self.page(number)
        except PageNotAnInteger:
            return self.page(1)
        except EmptyPage:
            return self.page(self.num_pages)

    def get_elided_page_range(self, number=1, *, on_each_side=3, on_ends=2):
        """Page numbers with gaps, as Django's; when capped, the range ends with a gap instead of a last page."""
        number = self.validate_number(number)
        if not self.count_capped:
            yield from super().get_elided_page_range(number, on_each_side=on_each_side, on_ends=on_ends)
            return
        # (Past the cap this reads the page; the pagination tag passes the page it has instead.)
        yield from page_numbers(self.page(number), on_each_side, on_ends)


def page_numbers(page, on_each_side=3, on_ends=2):
    """The numbered links of a pagination bar for `page` (a Page), with ELLIPSIS for the gaps.

    Django's elided range for an exact count; for a capped count the numbers run
    around the current page and end with a gap while more pages follow (the
    last page is unknown), or at the current page when it is the last.
    """
    paginator = page.paginator
    if not getattr(paginator, "count_capped", False):
        yield from paginator.get_elided_page_range(page.number, on_each_side=on_each_side, on_ends=on_ends)
        return
    number = page.number
    if number > 1 + on_each_side + on_ends + 1:
        yield from range(1, on_ends + 1)
        yield paginator.ELLIPSIS
        yield from range(number - on_each_side, number + 1)
    else:
        yield from range(1, number + 1)
    if page.has_next():
        # Pages known to exist: every page up to one past the cap, and the next one.
        known = paginator.num_pages + 1 if number <= paginator.num_pages else number + 1
        yield from range(number + 1, min(number + on_each_side, known) + 1)
        yield paginator.ELLIPSIS
