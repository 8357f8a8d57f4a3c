#!/usr/bin/env bash
# `make run`: the whole app on embedded defaults (SQLite, filesystem broker,
# mail to var/mail/) with demo data. Ctrl-C stops web, worker and beat.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG="${DEBUG:-1}"
PY=.venv/bin/python
mkdir -p var/mail

$PY manage.py migrate --no-input -v0
if [ "$($PY manage.py shell -c 'from partners.models import Partner; print(Partner.objects.exists())' 2>/dev/null | tail -1)" != "True" ]; then
  echo "Empty database: loading the demo data…"
  $PY manage.py load_demo
else
  echo "Demo logins (if you loaded the demo): olivia (officer), sam (staff), victor (viewer), admin; password 'diplomacy-demo-2028'"
fi

# One worker with embedded beat: fine for one machine (production runs one separate beat).
.venv/bin/celery -A diplomacy_crm worker -B --concurrency 1 --loglevel INFO \
  -s var/celerybeat-schedule >var/celery.log 2>&1 &
worker=$!
trap 'echo; echo "Stopping…"; kill $worker 2>/dev/null; wait $worker 2>/dev/null; exit 0' INT TERM EXIT
echo "Worker + beat started (log: var/celery.log). Mail is written to var/mail/."
echo "Open http://127.0.0.1:8000/ — Ctrl-C stops everything."
$PY manage.py runserver 127.0.0.1:8000
