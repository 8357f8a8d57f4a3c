#!/usr/bin/env bash
# Back up the PostgreSQL database named by DATABASE_URL to a custom-format dump.
#   DATABASE_URL=postgres://... scripts/backup.sh [FILE]
# Default FILE: var/backups/crm-YYYYmmdd-HHMMSS.dump. Prints the file written.
#
# The dump holds every confidential note: it is written 0600 (umask 077) in a
# 0700 folder, readable by the backup's owner only.
#
# Off-machine copy: a dump on the machine it backs up is lost with that machine.
# Set BACKUP_COPY_CMD to a command that takes the dump's path as its last
# argument; it runs after the dump is complete, and a failed copy fails the
# backup (exit 3, the local dump is kept). Examples:
#   BACKUP_COPY_CMD="rsync -a --chmod=F600"   ... plus a destination, e.g. via a wrapper:
#   BACKUP_COPY_CMD="/usr/local/bin/crm-copy-offsite"   (rclone copy "$1" offsite:crm-backups/)
#   BACKUP_COPY_CMD="aws s3 cp --sse AES256 --quiet"    would need the destination last: use a wrapper.
# Restore drill (monthly): README.md, Operations → "Backups and the restore drill".
set -euo pipefail
umask 077
: "${DATABASE_URL:?DATABASE_URL must name the PostgreSQL database to back up}"
case "$DATABASE_URL" in postgres://*|postgresql://*) ;; *) echo "backup.sh: only PostgreSQL is supported (DATABASE_URL=${DATABASE_URL%%://*}://…)" >&2; exit 2;; esac
out="${1:-var/backups/crm-$(date -u +%Y%m%d-%H%M%S).dump}"
mkdir -p "$(dirname "$out")"
# --format=custom is compressed and lets pg_restore pick objects; --no-owner
# makes the dump restorable as another role.
pg_dump --dbname="$DATABASE_URL" --format=custom --no-owner --no-privileges --file="$out.partial"
chmod 600 "$out.partial"   # even when FILE's folder existed with a looser mode
mv "$out.partial" "$out"   # a dump is complete or absent, never half-written
if [ -n "${BACKUP_COPY_CMD:-}" ]; then
  # Word-split on purpose: BACKUP_COPY_CMD is a command with its options.
  # shellcheck disable=SC2086
  if ! $BACKUP_COPY_CMD "$out"; then
    echo "backup.sh: the off-machine copy failed (BACKUP_COPY_CMD); the local dump $out is kept" >&2
    exit 3
  fi
fi
echo "$out"
