#!/usr/bin/env bash
# Back up the PostgreSQL database named by DATABASE_URL to a custom-format dump.
#   DATABASE_URL=postgres://... scripts/backup.sh [FILE]
# Default FILE: var/backups/crm-YYYYmmdd-HHMMSS.dump. Prints the file written.
set -euo pipefail
: "${DATABASE_URL:?DATABASE_URL must name the PostgreSQL database to back up}"
case "$DATABASE_URL" in postgres://*|postgresql://*) ;; *) echo "backup.sh: only PostgreSQL is supported (DATABASE_URL=$DATABASE_URL)" >&2; exit 2;; esac
out="${1:-var/backups/crm-$(date -u +%Y%m%d-%H%M%S).dump}"
mkdir -p "$(dirname "$out")"
# --format=custom is compressed and lets pg_restore pick objects; --no-owner
# makes the dump restorable as another role.
pg_dump --dbname="$DATABASE_URL" --format=custom --no-owner --no-privileges --file="$out.partial"
mv "$out.partial" "$out"   # a dump is complete or absent, never half-written
echo "$out"
