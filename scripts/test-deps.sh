#!/usr/bin/env bash
# Installs the Debian packages whose tools the tests use when present:
#   wg (wireguard-tools)            the tunnel tests run `wg show`
#   promtool, prometheus            the ops tests check metrics and rules and scrape a hierarchy
#   pdftotext (poppler-utils)       the bulletin tests read their PDFs back
#   a CJK TrueType font             the bulletin PDFs are set in Chinese
#   chromium, fonts-wqy-microhei    the console's browser test (console/browser_test.go)
# Each is checked first, so this is fast when all are there. A failed install
# (no apt, not root, no network) only prints a note: the tests that need the
# tool skip with a message saying which.
set -u
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need wg wireguard-tools
need promtool prometheus
need prometheus prometheus
need pdftotext poppler-utils
[ -e /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf ] || missing+=(fonts-droid-fallback)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)
[ ${#missing[@]} -eq 0 ] && exit 0
pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
echo "test-deps: installing ${pkgs}"
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${pkgs}; } >/dev/null 2>&1; then
	echo "test-deps: note: could not install ${pkgs}; the tests that need them will skip"
fi
exit 0
