"""Chart figures and the quiet-partners list are cached (selectors.engagement_charts, selectors.quiet_partners); any write
that can change them starts a new cache generation.

Bumped after the transaction commits, so a request that reads in between
cannot store old figures under the new generation.
"""

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

CHARTS_GENERATION_KEY = "dashboard:charts:generation"


def charts_generation() -> int:
    return cache.get(CHARTS_GENERATION_KEY, 0)


def _bump() -> None:
    try:
        cache.incr(CHARTS_GENERATION_KEY)
    except ValueError:  # not set yet (or evicted)
        cache.set(CHARTS_GENERATION_KEY, 1, None)


def charts_changed(**kwargs) -> None:
    transaction.on_commit(_bump)


def connect() -> None:
    from engagements.models import Engagement
    from partners.models import Partner, Topic

    for model in (Engagement, Partner, Topic):
        post_save.connect(charts_changed, sender=model, dispatch_uid=f"dashboard.charts.save.{model.__name__}")
        post_delete.connect(charts_changed, sender=model, dispatch_uid=f"dashboard.charts.delete.{model.__name__}")
    for through in (Engagement.partners.through, Engagement.topics.through):
        m2m_changed.connect(charts_changed, sender=through, dispatch_uid=f"dashboard.charts.m2m.{through.__name__}")
