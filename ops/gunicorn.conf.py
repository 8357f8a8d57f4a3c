"""gunicorn settings for the web instances (ops/systemd/diplomacy-crm-web@.service).

    gunicorn -c ops/gunicorn.conf.py diplomacy_crm.wsgi:application --bind 127.0.0.1:8001

Logs: error and access lines go to stdout/stderr (journald) through
diplomacy_crm.logging.GunicornLogger: with LOG_FORMAT=json one JSON object per
line, times in UTC; an access line has method, path, status, duration_ms,
user_id and request_id (the same id as the app's lines and the tasks queued).

No control socket: gunicorn >= 25.1 opens $XDG_RUNTIME_DIR/gunicorn.ctl (or
~/.gunicorn/gunicorn.ctl) by default, one path shared by every instance of a
user on a host, so a second instance would take the first one's socket. Set
GUNICORN_CONTROL_SOCKET to a path of its own per instance to keep `gunicornc`.
"""

import os

wsgi_app = "diplomacy_crm.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
max_requests = 2000
max_requests_jitter = 200

logger_class = "diplomacy_crm.logging.GunicornLogger"
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

_control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET")
if _control_socket:
    control_socket = _control_socket
else:
    control_socket_disable = True
