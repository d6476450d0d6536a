#!/usr/bin/env bash
# Screenshots of the web interface for the README: runs the browser tests (Playwright driving Debian's chromium),
# which save every screen to out/ui-screenshots/, then copies them to docs/ui-*.png.
#
#   tools/ui-screenshots.sh           run the tests, then copy
#   tools/ui-screenshots.sh --copy    copy what the last test run saved
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ "${1:-}" != "--copy" ]; then
  ./streamvision test --filter 'FullyQualifiedName~WebUiTests'
fi
SRC="out/ui-screenshots"
# test's name -> README's name
for pair in wall:wall wall-phone:wall-phone wall-cluster:wall-cluster stream:stream draw:draw review:review charts:charts add-errors:add; do
  from="$SRC/${pair%%:*}.png" to="docs/ui-${pair##*:}.png"
  if [ ! -f "$from" ]; then echo "ui-screenshots: $from is missing (did the browser tests run?)" >&2; exit 1; fi
  cp "$from" "$to"
  echo "$to"
done
