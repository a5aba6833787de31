#!/usr/bin/env bash
# Builds the example's HTML report and takes the screenshots README.md shows:
#   docs/report-desktop.png  the page in a 1280 px wide window (the top 1000 px)
#   docs/report-print.png    the first page printed to PDF with Chromium's defaults (no
#                            background graphics, as a print dialog starts), as PNG
# Needs Chromium and pdftoppm (Debian: apt-get install chromium poppler-utils).
# Run from anywhere: docs/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet
bin="${CARGO_TARGET_DIR:-target}/debug/preflight"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The example is a NO-GO (exit 1): that is the report worth showing.
status=0
"$bin" audit --inventory examples/hyperv-cluster.json --host HV01 --now 2026-11-25T17:00:00Z \
  --format html --output "$work/report.html" --quiet >/dev/null || status=$?
if [ "$status" -ne 1 ]; then
  echo "error: the example audit exited $status, expected 1 (no-go)" >&2
  exit 1
fi

chrome() {
  chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
    --hide-scrollbars --user-data-dir="$work/profile" "$@" "file://$work/report.html" 2>/dev/null
}
chrome --window-size=1280,1000 --screenshot="$work/desktop.png"
chrome --print-to-pdf="$work/report.pdf" --no-pdf-header-footer
pdftoppm -png -r 60 -f 1 -l 1 -singlefile "$work/report.pdf" "$work/print"

cp "$work/desktop.png" docs/report-desktop.png
cp "$work/print.png" docs/report-print.png
ls -l docs/report-desktop.png docs/report-print.png
