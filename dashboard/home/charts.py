"""Engagement charts on the dashboard: per month, per kind, per country and topic, cached per generation."""

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django_countries import countries

from accounts import access
from dashboard.common import NO_COUNTRY_LABEL
from dashboard.signals import charts_generation
from diplomacy_crm.officetime import local_midnight, office_tz
from engagements.models import Engagement
from engagements.selectors import held_by_q

CHART_MONTHS = 12
CHART_TOP = 10
CHART_CACHE_SECONDS = 60


def _chart_window(now) -> tuple[dt.datetime, dt.datetime, list[tuple[int, int]]]:
    """[first day of the month 11 months ago, first day of next month), in the office's zone."""
    today = timezone.localdate(now)
    months = []
    year, month = today.year, today.month
    for _ in range(CHART_MONTHS):
        months.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    months.reverse()
    first = dt.date(*months[0], 1)
    last_y, last_m = months[-1]
    after = dt.date(last_y + (last_m == 12), last_m % 12 + 1, 1)
    return local_midnight(first), local_midnight(after), months


def _month_key(value) -> tuple[int, int]:
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.year, value.month


def _chart_counts(engagements, window_start, window_end, now) -> dict:
    """{"months": {(y, m): n}, "countries": {code: n}, "topics": {name: n}} over `engagements`.

    Three GROUP BY queries, each over the indexed starts_at window only. Only engagements held by `now`
    count (engagements.selectors.held_by_q, the last contact's rule): never a meeting still on the calendar.
    """
    tz = office_tz()
    in_window = engagements.filter(held_by_q(now), starts_at__gte=window_start, starts_at__lt=window_end)
    months = {}
    for row in (
        in_window.order_by().annotate(month=TruncMonth("starts_at", tzinfo=tz)).values("month").annotate(n=Count("id"))
    ):
        key = _month_key(row["month"])
        months[key] = months.get(key, 0) + row["n"]
    # Through tables: an engagement with two partners in one country counts once there.
    partner_links = Engagement.partners.through.objects.filter(engagement__in=in_window.values("pk"))
    countries_ = {
        row["partner__country"] or "": row["n"]
        for row in partner_links.order_by()
        .values("partner__country")
        .annotate(n=Count("engagement_id", distinct=True))
    }
    topic_links = Engagement.topics.through.objects.filter(engagement__in=in_window.values("pk"))
    topics = {
        row["topic__name"]: row["n"]
        for row in topic_links.order_by().values("topic__name").annotate(n=Count("engagement_id", distinct=True))
    }
    return {"months": months, "countries": countries_, "topics": topics}


def _own_restricted_counts(user, window_start, window_end, now) -> dict:
    """What a user of the "open" class adds to its shared figures (`access.beyond_class_q`).

    One query; a person takes part in few restricted meetings a year, so the
    rows (engagement × partner × topic) stay few.
    """
    rows = (
        Engagement.objects.filter(held_by_q(now), access.beyond_class_q(user), starts_at__gte=window_start, starts_at__lt=window_end)
        .order_by()
        .values_list("id", "starts_at", "partners__country", "topics__name")
    )
    months, countries_, topics = {}, {}, {}
    for pk, starts_at, country, topic in rows:
        months.setdefault(_month_key(starts_at), set()).add(pk)
        if country is not None:
            countries_.setdefault(country or "", set()).add(pk)
        if topic is not None:
            topics.setdefault(topic, set()).add(pk)
    return {
        "months": {k: len(v) for k, v in months.items()},
        "countries": {k: len(v) for k, v in countries_.items()},
        "topics": {k: len(v) for k, v in topics.items()},
    }


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for key, value in b.items():
        out[key] = out.get(key, 0) + value
    return out


def _top(counts: dict, label) -> dict:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], label(kv[0])))
    shown, rest = ranked[:CHART_TOP], ranked[CHART_TOP:]
    labels = [label(k) for k, _ in shown]
    values = [v for _, v in shown]
    if rest:
        labels.append(f"Other ({len(rest)})")
        values.append(sum(v for _, v in rest))
    return {"labels": labels, "values": values}


def _country_label(code: str) -> str:
    return countries.name(code) or code if code else NO_COUNTRY_LABEL


def engagement_charts(user, *, now=None) -> dict:
    """Engagements per month (12 months), by partner country and by topic, as the user may see them.

    The figures are shared by a visibility class and cached for 60 s, or until
    an engagement, partner or topic is written (dashboard.signals): officers
    see everything ("all"); everyone else sees the non-restricted engagements
    ("open", one shared entry) plus, computed live, the restricted ones they
    took part in. So nobody's figures include a meeting they may not see.
    """
    now = now or timezone.now()
    window_start, window_end, months = _chart_window(now)
    visibility = access.visibility_class(user)
    key = ":".join(
        (
            "dashboard:charts:v1",
            str(charts_generation()),
            visibility,
            window_start.date().isoformat(),
            timezone.localdate(now).isoformat(),
        )
    )
    shared = cache.get(key)
    if shared is None:
        engagements = Engagement.objects.filter(access.class_engagement_q(visibility))
        shared = _chart_counts(engagements, window_start, window_end, now)
        cache.set(key, shared, CHART_CACHE_SECONDS)
    counts = shared
    if visibility == access.OPEN:
        own = _own_restricted_counts(user, window_start, window_end, now)
        counts = {name: _merge(shared[name], own[name]) for name in ("months", "countries", "topics")}
    return {
        "months": {
            "labels": [dt.date(y, m, 1).strftime("%b %Y") for y, m in months],
            "values": [counts["months"].get(ym, 0) for ym in months],
        },
        "countries": _top(counts["countries"], _country_label),
        "topics": _top(counts["topics"], str),
    }


@dataclass
class Chart:
    """One chart: its JSON data (labels, values) and what the page says about it."""

    name: str
    title: str
    type: str  # a Chart.js type: bar, line…
    key_label: str
    data: dict

    @property
    def script_id(self) -> str:
        return f"chart-data-{self.name}"

    @property
    def rows(self) -> list[tuple[str, int]]:
        return list(zip(self.data["labels"], self.data["values"], strict=True))

    @property
    def total(self) -> int:
        return sum(self.data["values"])


def chart_list(charts: dict) -> list[Chart]:
    return [
        Chart("months", "Engagements per month, last 12 months", "bar", "Month", charts["months"]),
        Chart("countries", "By partner country, last 12 months", "bar-horizontal", "Country", charts["countries"]),
        Chart("topics", "By topic, last 12 months", "bar-horizontal", "Topic", charts["topics"]),
    ]
