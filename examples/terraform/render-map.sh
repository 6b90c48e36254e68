#!/usr/bin/env sh
# Regenerate the example residency map shown in the README, from the repository root so the file
# paths in the map read examples/terraform/... . tests/test_map_cli.py checks the SVG is current;
# the PNG is a screenshot of the HTML page in headless chromium (not compared byte for byte).
set -eu
cd "$(dirname "$0")/../.."
CIIGUARD="${CIIGUARD:-ciiguard}"
"$CIIGUARD" map examples/terraform --output examples/terraform/residency-map.svg
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$CIIGUARD" map examples/terraform --output "$tmp/residency-map.html"
"${CHROMIUM:-chromium}" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
  --force-device-scale-factor=1 --user-data-dir="$tmp/profile" --window-size=1100,1010 \
  --screenshot=examples/terraform/residency-map.png "file://$tmp/residency-map.html" 2>/dev/null
echo "wrote examples/terraform/residency-map.svg and examples/terraform/residency-map.png"
