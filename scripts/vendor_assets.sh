#!/usr/bin/env bash
# Copy the pinned front-end packages (package.json) from node_modules into
# static/vendor/, which is committed: nothing is fetched from a CDN at run time.
#   npm ci && npm run vendor
set -euo pipefail
cd "$(dirname "$0")/.."
NM=node_modules
OUT=static/vendor
[ -d "$NM/@uswds/uswds" ] || { echo "node_modules missing: run 'npm ci' first" >&2; exit 1; }

rm -rf "$OUT/uswds" "$OUT/chartjs"
mkdir -p "$OUT/uswds/css" "$OUT/uswds/js" "$OUT/uswds/fonts" "$OUT/uswds/img" "$OUT/chartjs"

# USWDS 3: precompiled CSS and JS with their source maps.
U="$NM/@uswds/uswds/dist"
cp "$U/css/uswds.min.css" "$U/css/uswds.min.css.map" "$OUT/uswds/css/"
cp "$U/js/uswds.min.js" "$U/js/uswds.min.js.map" "$U/js/uswds-init.min.js" "$U/js/uswds-init.min.js.map" "$OUT/uswds/js/"
# Fonts: the woff2 files are all that the CSS references (modern browsers).
for family in source-sans-pro merriweather roboto-mono public-sans; do
  mkdir -p "$OUT/uswds/fonts/$family"
  cp "$U/fonts/$family/"*.woff2 "$OUT/uswds/fonts/$family/"
done
# Images the CSS and our templates reference (the 8 MB material-icons set is left out).
cp "$U/img/"*.svg "$U/img/"*.png "$U/img/"*.gif "$U/img/hero.jpg" "$OUT/uswds/img/"
cp -r "$U/img/usa-icons" "$U/img/usa-icons-bg" "$U/img/favicons" "$OUT/uswds/img/"
cp "$NM/@uswds/uswds/LICENSE.md" "$OUT/uswds/LICENSE.md"

# Chart.js 4 (UMD build for a plain <script>), for the dashboard's charts.
cp "$NM/chart.js/dist/chart.umd.min.js" "$NM/chart.js/dist/chart.umd.min.js.map" "$OUT/chartjs/"
cp "$NM/chart.js/LICENSE.md" "$OUT/chartjs/LICENSE.md"

echo "Vendored into $OUT:"
du -sh "$OUT"/*
