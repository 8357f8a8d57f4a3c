#!/usr/bin/env bash
# The operations drill (make drill): two web instances, two workers and a beat on a
# scratch PostgreSQL database and an empty Redis db 8, a real SMTP sink; a worker is SIGKILLed
# mid-run; prints sent / lost / duplicates / time to recover. Bounded (--timeout, 300 s).
# Needs PostgreSQL and Redis on loopback (DRILL_PG_URL, DRILL_REDIS) and the dev
# requirements (aiosmtpd). Options and details: scripts/drill.py --help.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python scripts/drill.py "$@"
