#!/usr/bin/env bash
# Restore a dump made by scripts/backup.sh into the database named by
# DATABASE_URL, replacing what is there, and the attachments' files from the
# archive beside it (<FILE without .dump>.attachments.tar.gz) into
# ATTACHMENT_ROOT (as scripts/backup.sh: default $VAR_DIR/attachments).
# Stop the web and worker processes first.
#   DATABASE_URL=postgres://... scripts/restore.sh FILE
set -euo pipefail
: "${DATABASE_URL:?DATABASE_URL must name the PostgreSQL database to restore into}"
file="${1:?usage: scripts/restore.sh FILE}"
[ -s "$file" ] || { echo "restore.sh: $file is missing or empty" >&2; exit 2; }
pg_restore --list "$file" >/dev/null   # refuse a corrupt dump before touching the database

backend="${ATTACHMENT_STORAGE_BACKEND:-django.core.files.storage.FileSystemStorage}"
files="${file%.dump}.attachments.tar.gz"
case "$backend" in
  *FileSystemStorage)
    if [ -e "$files" ]; then
      tar -tzf "$files" >/dev/null   # refuse a corrupt archive before touching anything
      root="${ATTACHMENT_ROOT:-${VAR_DIR:-$(cd "$(dirname "$0")/.." && pwd)/var}/attachments}"
      mkdir -p "$root"
      # Files first: they are only ever added (each under its own random name), so extra ones are
      # harmless if the database restore below fails, while rows without their files would not be.
      tar -C "$root" -xzf "$files" --no-same-owner
      echo "restored the attachments' files from $files into $root"
    else
      echo "restore.sh: no $files beside the dump: the attachments' files were not restored" >&2
    fi
    ;;
  *) echo "restore.sh: attachments are kept by $backend; restore that store with its own tools" >&2 ;;
esac
# One transaction: a failed restore leaves the database as it was.
pg_restore --dbname="$DATABASE_URL" --clean --if-exists --no-owner --no-privileges \
  --single-transaction --exit-on-error "$file"
echo "restored $file"
