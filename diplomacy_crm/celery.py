"""The Celery app: configured from Django settings (CELERY_* names).

The beat schedule lives in settings.CELERY_BEAT_SCHEDULE, so `make run` can
embed beat in its one worker and production runs exactly one `celery beat`.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diplomacy_crm.settings")

app = Celery("diplomacy_crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
