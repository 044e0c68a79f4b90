#!/usr/bin/env bash
# Vendor Leaflet and Leaflet.markercluster from the npm registry into static/.
# The dashboard serves them itself (Streamlit static serving): no CDN at run time.
# Usage: scripts/vendor_static.sh   (needs npm; the result is committed)
set -euo pipefail
LEAFLET=1.9.4
MARKERCLUSTER=1.5.3
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "leaflet@$LEAFLET" "leaflet.markercluster@$MARKERCLUSTER" >/dev/null
tar xzf "leaflet-$LEAFLET.tgz" && mv package leaflet
tar xzf "leaflet.markercluster-$MARKERCLUSTER.tgz" && mv package markercluster
rm -rf "$root/static/leaflet" "$root/static/markercluster"
mkdir -p "$root/static/leaflet" "$root/static/markercluster"
cp leaflet/dist/leaflet.js leaflet/dist/leaflet.css leaflet/LICENSE "$root/static/leaflet/"
cp -r leaflet/dist/images "$root/static/leaflet/images"
cp markercluster/dist/leaflet.markercluster.js markercluster/dist/MarkerCluster.css \
   markercluster/dist/MarkerCluster.Default.css markercluster/MIT-LICENCE.txt "$root/static/markercluster/"
(cd "$root/static" && find leaflet markercluster -type f ! -name SHA256SUMS | sort | xargs sha256sum > SHA256SUMS)
echo "vendored leaflet@$LEAFLET and leaflet.markercluster@$MARKERCLUSTER into static/"
