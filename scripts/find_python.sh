#!/usr/bin/env bash
# Print a Python >= 3.12 (Django 6 needs it), preferring the version pinned in
# .python-version. Exit 1 with a clear message when none is found.
set -u
cd "$(dirname "$0")/.."
pinned=$(cat .python-version 2>/dev/null || echo 3.13.0)
candidates=(
  "${PYTHON:-}"
  "$HOME/.pyenv/versions/$pinned/bin/python3"
  "$(command -v pyenv >/dev/null 2>&1 && pyenv root 2>/dev/null)/versions/$pinned/bin/python3"
  python3.13 python3.12 python3.14 python3
)
for c in "${candidates[@]}"; do
  [ -n "$c" ] || continue
  path=$(command -v "$c" 2>/dev/null) || continue
  if "$path" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
    echo "$path"
    exit 0
  fi
done
echo "No Python >= 3.12 found. Django 6 needs it: install Python 3.13 (e.g. 'pyenv install $pinned') or set PYTHON=/path/to/python3.13." >&2
exit 1
