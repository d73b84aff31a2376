#!/usr/bin/env bash
# Re-fetch the JavaScript libraries the HTML pages inline (mbcost/render/html/vendor/) from the
# npm registry at their pinned versions, and check them against the recorded SHA-256 sums.
# Usage: tools/vendor_js.sh          (verify: fetch, compare, change nothing)
#        tools/vendor_js.sh --write  (replace the vendored files; then update SHA256SUMS and
#                                     vendor/README.md when a version changes)
set -euo pipefail
cd "$(dirname "$0")/.."
VENDOR=mbcost/render/html/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# package@version  file inside the package  vendored name
PINS=(
  "@dagrejs/dagre@3.1.3 package/dist/dagre.min.js dagre.min.js"
  "chart.js@4.6.1 package/dist/chart.umd.min.js chart.umd.min.js"
)
for pin in "${PINS[@]}"; do
  read -r spec inner name <<<"$pin"
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
  tarball=$(ls -t "$tmp"/*.tgz | head -1)
  mkdir -p "$tmp/x" && tar xzf "$tarball" -C "$tmp/x" "$inner"
  if [[ "${1:-}" == "--write" ]]; then
    cp "$tmp/x/$inner" "$VENDOR/$name"
  else
    cmp -s "$tmp/x/$inner" "$VENDOR/$name" || { echo "$name differs from $spec's $inner"; exit 1; }
  fi
  rm -rf "$tmp/x" "$tarball"
done
(cd "$VENDOR" && sha256sum -c SHA256SUMS)
