#!/usr/bin/env bash
# Refreshes the front-end packages the pages use, from the npm registry at the pinned
# versions below, and checks them against SHA256SUMS. The files are committed and compiled
# into the binary: nothing is fetched at run time.
#
#   ./refresh.sh          fetch and verify
#   ./refresh.sh --update fetch and rewrite SHA256SUMS (after changing a version)
set -euo pipefail
cd "$(dirname "$0")"

HTMX=2.0.11
ECHARTS=6.1.0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "htmx.org@$HTMX" "echarts@$ECHARTS" >/dev/null)
tar -xzf "$work/htmx.org-$HTMX.tgz" -C "$work" package/dist/htmx.min.js package/LICENSE
cp "$work/package/dist/htmx.min.js" htmx.min.js
cp "$work/package/LICENSE" LICENSE.htmx
rm -rf "$work/package"
tar -xzf "$work/echarts-$ECHARTS.tgz" -C "$work" package/dist/echarts.min.js package/LICENSE package/NOTICE
cp "$work/package/dist/echarts.min.js" echarts.min.js
cp "$work/package/LICENSE" LICENSE.echarts
cp "$work/package/NOTICE" NOTICE.echarts
printf 'htmx.org %s\necharts %s\n' "$HTMX" "$ECHARTS" > VERSIONS

if [ "${1:-}" = "--update" ]; then
  sha256sum htmx.min.js echarts.min.js LICENSE.htmx LICENSE.echarts NOTICE.echarts > SHA256SUMS
fi
sha256sum -c SHA256SUMS
