#!/usr/bin/env bash
# What the deployment tests run: Debian's docker-compose (1.29), which checks docker-compose.yml
# offline (`config`), with and without the monitoring profile. No Docker engine is needed or
# started. Installs it when missing and run as root. (kubectl, where present, also builds
# deploy/k8s with kustomize; Debian has no package of it, so that one check skips without it.)
set -euo pipefail
if ! command -v docker-compose >/dev/null; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "ensure-compose: docker-compose is missing; the compose checks will skip" >&2
    exit 0
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
fi
echo "ensure-compose: $(docker-compose version --short 2>/dev/null)"
