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


# --- Logs: the app's LOGGING in every Celery process, and the request id in tasks ---------
# (diplomacy_crm/logging.py). Connecting `setup_logging` makes Celery leave logging
# to us: worker, pool children and beat then write the same lines as the web
# (one JSON object per line with LOG_FORMAT=json, UTC times).

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from celery import signals  # noqa: E402


def _in_a_celery_process() -> bool:
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path()
    return argv0.name == "celery" or argv0.parts[-2:] == ("celery", "__main__.py")


if os.environ.get("LOG_FORMAT", "").lower() == "json" and _in_a_celery_process():
    from .logging import wrap_std_streams

    wrap_std_streams()  # beat's banner and Celery's other prints become JSON lines too


@signals.setup_logging.connect
def _configure_logging(**kwargs):
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    logging.captureWarnings(True)


@signals.celeryd_after_setup.connect
def _banner_as_a_log_line(sender, instance, **kwargs):
    """With JSON logs the worker's text banner would break the one-object-per-line rule: log it instead."""
    from .logging import log_format

    if log_format() != "json":
        return
    instance.quiet = True  # read right after this signal, before the banner is printed
    import logging

    logging.getLogger("celery.worker").info(
        "worker %s starting", sender,
        extra={
            "hostname": sender,
            "concurrency": instance.concurrency,
            "pool": getattr(instance.pool_cls, "__module__", str(instance.pool_cls)),
            "queues": sorted(instance.app.amqp.queues.keys()),
            "tasks": sorted(name for name in instance.app.tasks if not name.startswith("celery.")),
        },
    )


@signals.worker_shutting_down.connect
def _shutdown_as_a_log_line(sender=None, sig=None, how=None, exitcode=None, **kwargs):
    import logging

    logging.getLogger("celery.worker").info(
        "worker %s: %s shutdown (%s)", sender, how, sig, extra={"hostname": sender, "signal": sig, "how": how}
    )


@signals.beat_init.connect
def _beat_started(sender, **kwargs):
    import logging

    logging.getLogger("celery.beat").info(
        "beat starting", extra={"schedule": sorted(sender.app.conf.beat_schedule or {})}
    )


@signals.before_task_publish.connect
def _publish_request_id(headers=None, **kwargs):
    """A task queued during a request (or by another task) carries that request's id."""
    from .logging import request_id

    rid = request_id.get()
    if rid and headers is not None and not headers.get("request_id"):
        headers["request_id"] = rid


@signals.task_prerun.connect
def _restore_request_id(task=None, **kwargs):
    """While a task runs, its log lines carry the id of the request that queued it (else the task's own id)."""
    from .logging import request_id

    req = task.request if task is not None else None
    rid = getattr(req, "request_id", None) or (getattr(req, "headers", None) or {}).get("request_id")
    token = request_id.set(rid or getattr(req, "id", None))
    if req is not None:
        req._request_id_token = token


@signals.task_postrun.connect
def _forget_request_id(task=None, **kwargs):
    from .logging import request_id

    token = getattr(getattr(task, "request", None), "_request_id_token", None)
    if token is not None:
        try:
            request_id.reset(token)
        except ValueError:  # set in another context (eager mode): just clear
            request_id.set(None)
