#!/usr/bin/env bash
# Re-fetches the console's vendored assets at their pinned versions and checks
# them against console/static/vendor/SHA256SUMS (the files are committed, so
# building and testing need no network; run this only to verify or to bump).
#   ECHARTS_VERSION  pinned Apache ECharts release (npm package "echarts")
#   ECHARTS_SHA512   the npm tarball's integrity (npm view echarts@V dist.integrity)
# Uses npm's own client (`npm pack`) and verifies the tarball's integrity
# before extracting dist/echarts.min.js, LICENSE and NOTICE.
# --check only verifies the committed files against SHA256SUMS (no network).
set -euo pipefail
ECHARTS_VERSION=6.1.0
ECHARTS_SHA512=q0yaFPggC9FUdsWH4blavRWFmxdrIodbkoKNAjJudAI6CA9gNPxHtV2RcZNEepZVlk4yvBYkOkbk6HIVpIyHZA==
root=$(cd "$(dirname "$0")/.." && pwd)
vendor="$root/console/static/vendor"
if [ "${1:-}" != "--check" ]; then
	command -v npm >/dev/null || { echo "console-assets: npm is needed to fetch (only here, never at build or run time)"; exit 1; }
	tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && npm pack --silent "echarts@${ECHARTS_VERSION}" >/dev/null)
	tgz="$tmp/echarts-${ECHARTS_VERSION}.tgz"
	got=$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)
	[ "$got" = "$ECHARTS_SHA512" ] || { echo "console-assets: echarts-${ECHARTS_VERSION}.tgz integrity $got, want $ECHARTS_SHA512"; exit 1; }
	tar -xzf "$tgz" -C "$tmp" package/dist/echarts.min.js package/LICENSE package/NOTICE
	mkdir -p "$vendor/echarts"
	cp "$tmp/package/dist/echarts.min.js" "$tmp/package/LICENSE" "$tmp/package/NOTICE" "$vendor/echarts/"
	echo "console-assets: echarts ${ECHARTS_VERSION} fetched"
fi
(cd "$vendor" && sha256sum -c --quiet SHA256SUMS) && echo "console-assets: checksums match console/static/vendor/SHA256SUMS"
