#!/usr/bin/env bash
# Copies the front-end packages named in static/vendor/package.json from the npm registry into
# static/vendor, with their licenses. Run by `make vendor`; the app itself never touches the network.
set -euo pipefail
cd "$(dirname "$0")/../static/vendor"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
version() { python3 -c "import json,sys; print(json.load(open('package.json'))['dependencies'][sys.argv[1]])" "$1"; }
fetch() { (cd "$tmp" && npm pack --silent "$1@$(cd - >/dev/null && version "$1")" | tail -1 | xargs -I{} tar xzf {} --one-top-level="$1"); }
for pkg in bootstrap htmx.org chart.js; do fetch "$pkg"; done
mkdir -p bootstrap/css bootstrap/js htmx chartjs
cp "$tmp"/bootstrap/package/dist/css/bootstrap.min.css{,.map} bootstrap/css/
cp "$tmp"/bootstrap/package/dist/js/bootstrap.bundle.min.js{,.map} bootstrap/js/
cp "$tmp"/bootstrap/package/LICENSE bootstrap/
cp "$tmp"/htmx.org/package/dist/htmx.min.js "$tmp"/htmx.org/package/LICENSE htmx/
cp "$tmp"/chart.js/package/dist/chart.umd.min.js "$tmp"/chart.js/package/LICENSE.md chartjs/
# Chart.js ships no map for its minified build: a dangling reference breaks the manifest storage.
sed -i '/sourceMappingURL/d' chartjs/chart.umd.min.js
echo "static/vendor refreshed."
