"""Structured logs: one JSON object per line (LOG_FORMAT=json), traceable by request id.

- `JsonFormatter`: one line per record; `ts` in UTC; extra fields (dicts and
  lists too) as JSON values, never as a Python repr string.
- `request_id`: a context variable set by `RequestIdMiddleware` for the time of
  a request (the proxy's `X-Request-ID` when it looks sane, else a new one),
  returned in the `X-Request-ID` response header, and added to every log line
  of that request by `ContextFilter`. Celery signals (diplomacy_crm/celery.py)
  carry it in the headers of the tasks a request queues and restore it while
  the task runs, so the task's lines carry the same id.
- `GunicornLogger`: gunicorn's error and access logs through the same
  formatter; an access line has method, path, status, duration, user id and
  request id as fields.
"""

import json
import logging
import os
import re
import threading
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

from django.core.signals import request_finished
from gunicorn.glogging import Logger as _GunicornBaseLogger

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

REQUEST_ID_HEADER = "X-Request-ID"
# What we accept from the proxy: a short token of safe characters (a UUID, nginx's
# $request_id hex, a trace id). Anything else (too long, spaces, quotes, newlines)
# is replaced by an id of our own, so a client cannot forge log lines.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# WSGI environ keys the middleware leaves for the gunicorn access line.
ENV_REQUEST_ID = "crm.request_id"
ENV_USER_ID = "crm.user_id"


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_request_id(value: str | None) -> str:
    """The proxy's id when it looks like one, else a new id."""
    if value and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return new_request_id()


def _json_value(value):
    if isinstance(value, str | int | float | bool | None):
        return value
    try:
        # Round-trip so a dict of odd values (datetimes, UUIDs) becomes plain JSON.
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return repr(value)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # Extra fields given as logger.info("...", extra={...}).
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_") and key not in payload:
                payload[key] = _json_value(value)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        elif record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """The human format, in UTC like the JSON one, the request id (if any) at the end of the line."""

    converter = time.gmtime

    def __init__(self):
        super().__init__("%(asctime)sZ %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record):
        text = super().formatMessage(record)
        rid = getattr(record, "request_id", None)
        return f"{text} request_id={rid}" if rid else text


def _current_task():
    try:
        from celery import current_task

        task = current_task._get_current_object()
    except Exception:  # Celery not importable or no app: not in a task
        return None
    return task if task is not None and getattr(task.request, "id", None) else None


class ContextFilter(logging.Filter):
    """Adds the current request id (and the task, inside a Celery task) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id.get()
        task = _current_task()
        if task is not None and not hasattr(record, "task_id"):
            record.task_id = task.request.id
            record.task_name = task.name
        return True


def log_format() -> str:
    return "json" if os.environ.get("LOG_FORMAT", "plain").lower() == "json" else "plain"


def make_formatter() -> logging.Formatter:
    return JsonFormatter() if log_format() == "json" else PlainFormatter()


class RequestIdMiddleware:
    """Gives each request an id: on the log lines, in the response, in the tasks it queues."""

    def __init__(self, get_response):
        self.get_response = get_response
        # Cleared when the response is closed, not on the way out of this middleware:
        # Django logs a 4xx/5xx ("Not Found: /x") after the middleware chain returns.
        request_finished.connect(_clear_request_id, dispatch_uid="diplomacy_crm.logging.request_id")

    def __call__(self, request):
        rid = accept_request_id(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = rid
        request.META[ENV_REQUEST_ID] = rid  # the WSGI environ: gunicorn's access line reads it
        request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            user_id = _resolved_user_id(request)
            if user_id is not None:
                request.META[ENV_USER_ID] = user_id
        response[REQUEST_ID_HEADER] = rid
        return response


def _clear_request_id(**kwargs):
    request_id.set(None)


def _resolved_user_id(request):
    """The signed-in user's id, without a query when nothing looked at request.user."""
    user = request.__dict__.get("user")
    if user is None:
        return None
    wrapped = getattr(user, "_wrapped", user)
    from django.utils.functional import empty

    if wrapped is empty:
        return None
    return wrapped.pk if getattr(wrapped, "is_authenticated", False) else None


class GunicornLogger(_GunicornBaseLogger):
    """gunicorn's error and access logs, one JSON object per line when LOG_FORMAT=json.

    Set in ops/gunicorn.conf.py (`logger_class`). Times are UTC in both formats.
    """

    def setup(self, cfg):
        super().setup(cfg)
        formatter = make_formatter()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        status = getattr(resp, "status_code", None)
        if status is None:
            try:
                status = int(str(resp.status).split(None, 1)[0])
            except (TypeError, ValueError, IndexError):
                status = None
        headers = {k.lower(): v for k, v in getattr(resp, "headers", []) or []}
        rid = environ.get(ENV_REQUEST_ID) or headers.get("x-request-id")
        duration_ms = round(request_time.total_seconds() * 1000, 1)
        fields = {
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "query": environ.get("QUERY_STRING") or None,
            "status": status,
            "duration_ms": duration_ms,
            "bytes": getattr(resp, "sent", None),
            "user_id": environ.get(ENV_USER_ID),
            "request_id": rid,
            "remote_addr": environ.get("REMOTE_ADDR"),
            "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
        }
        try:
            self.access_log.info(
                "%s %s %s %sms", fields["method"], fields["path"], status, duration_ms, extra=fields
            )
        except Exception:
            self.exception("could not write the access line")


class JsonLinesStream:
    """A text stream that lets JSON lines through and wraps any other line in a JSON object.

    Celery prints a few things past logging (the beat banner, "worker: Warm
    shutdown", a root-privileges warning before logging is set up). In a Celery
    process with LOG_FORMAT=json, sys.stdout/stderr are wrapped in this so that
    every line of its output still parses as one JSON object.
    """

    def __init__(self, stream, name: str, level: str):
        self._stream = stream
        self._name = name
        self._level = level
        self._buffer = ""
        self._lock = threading.RLock()

    def write(self, text: str) -> int:
        with self._lock:
            self._buffer += text
            while "\n" in self._buffer:
                line, self._buffer = self._buffer.split("\n", 1)
                self._emit(line)
        return len(text)

    def _emit(self, line: str) -> None:
        if line.startswith("{") and line.endswith("}"):
            self._stream.write(line + "\n")
            return
        text = line.rstrip()
        if not text.strip():
            return
        payload = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": self._level,
            "logger": self._name,
            "message": re.sub(r"\x1b\[[0-9;]*m", "", text),
            "request_id": request_id.get(),
        }
        self._stream.write(json.dumps(payload, ensure_ascii=False) + "\n")

    def flush(self) -> None:
        self._stream.flush()

    def fileno(self):
        # None: Celery's safe_say() then skips its raw os.write() past this stream
        # (the shutdown notice is logged by a worker_shutting_down hook instead).
        return None

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name):
        return getattr(self._stream, name)


def wrap_std_streams() -> None:
    """Wrap sys.stdout/stderr (and the __std*__ originals Celery writes to) in JsonLinesStream, once."""
    import sys

    if isinstance(sys.stdout, JsonLinesStream):
        return
    out = JsonLinesStream(sys.stdout, "stdout", "INFO")
    err = JsonLinesStream(sys.stderr, "stderr", "WARNING")
    sys.stdout = sys.__stdout__ = out
    sys.stderr = sys.__stderr__ = err
