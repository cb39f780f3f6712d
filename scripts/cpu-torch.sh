#!/usr/bin/env bash
# Prints the newest CPU-only torch wheel (`torch-*+cpu-*.whl`) found in pip's configured
# find-links folders, or nothing. `make install-dev` installs it before the `train` extra:
# the default PyPI build of torch brings gigabytes of CUDA libraries a CPU machine never uses.
set -euo pipefail
pip=${1:-.venv/bin/pip}
links=$("$pip" config list 2>/dev/null | sed -n "s/^[a-z]*\.find-links='\(.*\)'$/\1/p" || true)
for folder in $links ${PIP_FIND_LINKS:-}; do
  folder=${folder#file://}
  [ -d "$folder" ] && ls "$folder"/torch-*+cpu-*.whl 2>/dev/null
done | sort -V | tail -n 1
