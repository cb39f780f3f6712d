#!/usr/bin/env bash
# What the monitoring tests run: Debian's `prometheus` package (a real Prometheus server, run by
# the tests on a loopback port of their own, and `promtool`, which checks the rules and the
# dashboard's queries). Installs it when missing and run as root; the service the package
# defines is never started here (the tests start their own server).
set -euo pipefail
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "ensure-prometheus: prometheus is missing; the monitoring tests that need it will skip" >&2
    exit 0
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
echo "ensure-prometheus: $(prometheus --version 2>&1 | head -n 1)"
