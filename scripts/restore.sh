#!/usr/bin/env bash
# Restore a dump made by scripts/backup.sh into the database named by
# DATABASE_URL, replacing what is there. Stop the web and worker processes first.
#   DATABASE_URL=postgres://... scripts/restore.sh FILE
set -euo pipefail
: "${DATABASE_URL:?DATABASE_URL must name the PostgreSQL database to restore into}"
file="${1:?usage: scripts/restore.sh FILE}"
[ -s "$file" ] || { echo "restore.sh: $file is missing or empty" >&2; exit 2; }
pg_restore --list "$file" >/dev/null   # refuse a corrupt dump before touching the database
# One transaction: a failed restore leaves the database as it was.
pg_restore --dbname="$DATABASE_URL" --clean --if-exists --no-owner --no-privileges \
  --single-transaction --exit-on-error "$file"
echo "restored $file"
