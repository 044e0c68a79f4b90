#!/usr/bin/env bash
# Vendor axe-core (accessibility rules engine) from the npm registry into static/axe/.
# Used only by the browser tests, which inject the local file into the page
# (page.add_script_tag(path=...)): no CDN, no request at test time.
# Usage: scripts/vendor_axe.sh   (needs npm; the result is committed)
# AXE is the latest 4.x release when last vendored (`npm view axe-core@4 version`).
set -euo pipefail
AXE=4.14.1
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "axe-core@$AXE" >/dev/null
tar xzf "axe-core-$AXE.tgz" && mv package axe
rm -rf "$root/static/axe"
mkdir -p "$root/static/axe"
cp axe/axe.min.js axe/LICENSE "$root/static/axe/"
[ -f axe/LICENSE-3RD-PARTY.txt ] && cp axe/LICENSE-3RD-PARTY.txt "$root/static/axe/"
echo "$AXE" > "$root/static/axe/VERSION"
(cd "$root/static" && find axe -type f ! -name SHA256SUMS | sort | xargs sha256sum > axe/SHA256SUMS)
echo "vendored axe-core@$AXE into static/axe/"
