#!/usr/bin/env bash
# What the page tests run on: Debian's Chromium (Playwright drives /usr/bin/chromium; it never
# downloads a browser of its own) and Node 18+ (node's test runner for the page modules).
# Installs what is missing, when run as root.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 18 ] || missing+=(nodejs)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "ensure-chromium: missing ${missing[*]}; the page tests that need them will skip" >&2
    exit 0
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "ensure-chromium: $(/usr/bin/chromium --version 2>/dev/null), node $(node --version 2>/dev/null)"
