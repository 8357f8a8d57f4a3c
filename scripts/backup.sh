#!/usr/bin/env bash
# Back up the PostgreSQL database named by DATABASE_URL to a custom-format dump,
# and the attachments' files beside it.
#   DATABASE_URL=postgres://... scripts/backup.sh [FILE]
# Default FILE: var/backups/crm-YYYYmmdd-HHMMSS.dump. Prints the files written,
# one a line: the dump, then (file-system storage) the attachments' archive.
#
# Attachments (docs/attachments.md): with the file-system storage (the default),
# the files under ATTACHMENT_ROOT (default: $VAR_DIR/attachments, VAR_DIR
# default: this checkout's var/; the same variables as the app's settings) go
# into FILE's sibling <FILE without .dump>.attachments.tar.gz, which
# scripts/restore.sh finds there. The archive is made after the dump: the app
# never changes or removes a stored file (a replace or a delete keeps the old
# one, named by its history row), so every file a row of the dump names is
# already on disk. With another storage (ATTACHMENT_STORAGE_BACKEND, an S3
# bucket) back up that store with its own tools (versioning): nothing to archive here.
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
written=("$out")

backend="${ATTACHMENT_STORAGE_BACKEND:-django.core.files.storage.FileSystemStorage}"
case "$backend" in
  *FileSystemStorage)
    root="${ATTACHMENT_ROOT:-${VAR_DIR:-$(cd "$(dirname "$0")/.." && pwd)/var}/attachments}"
    files="${out%.dump}.attachments.tar.gz"
    if [ -d "$root" ]; then
      tar -C "$root" -czf "$files.partial" .
    else
      tar -czf "$files.partial" -T /dev/null   # no files yet: an empty archive says so to the restore
    fi
    chmod 600 "$files.partial"
    mv "$files.partial" "$files"
    written+=("$files")
    ;;
  *) echo "backup.sh: attachments are kept by $backend; back that store up with its own tools" >&2 ;;
esac

if [ -n "${BACKUP_COPY_CMD:-}" ]; then
  for path in "${written[@]}"; do
    # Word-split on purpose: BACKUP_COPY_CMD is a command with its options.
    # shellcheck disable=SC2086
    if ! $BACKUP_COPY_CMD "$path"; then
      echo "backup.sh: the off-machine copy failed (BACKUP_COPY_CMD); the local files ${written[*]} are kept" >&2
      exit 3
    fi
  done
fi
printf '%s\n' "${written[@]}"
