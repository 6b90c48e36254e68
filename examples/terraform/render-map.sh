#!/usr/bin/env sh
# Regenerate the example residency maps shown in docs/map.md, from the repository root so the file
# paths in the maps read examples/terraform/... . tests/test_map_cli.py checks the SVGs are
# current; the PNGs are screenshots in headless chromium (not compared byte for byte):
#   examples/terraform/residency-map.png       the HTML page of examples/terraform
#   examples/residency-map-240.png             the summary of a generated 240-resource estate
#   examples/residency-map-240-region.png      the same page with a region opened
# The last two are taken by tests/test_map_browser.py (chromium and chromium-driver).
set -eu
cd "$(dirname "$0")/../.."
CIIGUARD="${CIIGUARD:-ciiguard}"
PYTHON="${PYTHON:-python3}"
"$CIIGUARD" map examples/terraform --output examples/terraform/residency-map.svg
"$CIIGUARD" map examples/terraform --detail resources \
  --output examples/terraform/residency-map-resources.svg
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$CIIGUARD" map examples/terraform --output "$tmp/residency-map.html"
"${CHROMIUM:-chromium}" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
  --force-device-scale-factor=1 --user-data-dir="$tmp/profile" --window-size=1100,860 \
  --screenshot=examples/terraform/residency-map.png "file://$tmp/residency-map.html" 2>/dev/null
CIIGUARD_UPDATE_SCREENSHOTS=1 "$PYTHON" -m pytest -q --run-slow tests/test_map_browser.py \
  -k "estate_screenshots and 240"
echo "wrote examples/terraform/residency-map.svg, residency-map-resources.svg, residency-map.png"
echo "and examples/residency-map-240.png, examples/residency-map-240-region.png"
