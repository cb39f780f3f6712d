#!/usr/bin/env bash
# The README's way in, as a new user meets it: `make run` from this checkout on its embedded
# defaults (no VOICE_* settings, a data folder that does not exist yet), `/readyz` answering
# 200, one spoken question through `voice-service talk`, then a stop that takes the embedded
# worker with it. Used by CI after `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${SMOKE_PORT:-8003}
log=$(mktemp)
reply=$(mktemp --suffix=.wav)
for name in $(env | grep -o '^VOICE_[A-Z_]*' || true); do unset "$name"; done
[ ! -e var ] || { echo "smoke: ./var exists; this smoke test wants a fresh data folder" >&2; exit 1; }

setsid make run >"$log" 2>&1 &
make_pid=$!
cleanup() {  # the data folder is this script's own: it checked that none was there
  kill -KILL -- "-$make_pid" 2>/dev/null || true
  rm -rf var "$reply" "$log" "$log.talk"
}
trap cleanup EXIT

ready=0
for _ in $(seq 300); do  # models load in seconds; an install step may come first
  if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then ready=1; break; fi
  kill -0 "$make_pid" 2>/dev/null || break
  sleep 1
done
if [ "$ready" != 1 ]; then
  echo "smoke: make run did not answer /readyz on port $port" >&2
  tail -n 30 "$log" >&2
  exit 1
fi
echo "smoke: make run answers /readyz; data folder mode $(stat -c %a var)"
[ "$(stat -c %a var)" = 700 ] || { echo "smoke: var is not 0700" >&2; exit 1; }

.venv/bin/voice-service talk tests/data/speech/jfk.flac "$reply" \
  --url "ws://127.0.0.1:$port/v1/voice" --speed 2 --timeout 120 --json >"$log.talk"
grep -q '"type": *"turn_end"' "$log.talk" || { echo "smoke: no turn_end" >&2; cat "$log.talk" >&2; exit 1; }
[ "$(stat -c %s "$reply")" -gt 1000 ] || { echo "smoke: the reply audio is empty" >&2; exit 1; }
echo "smoke: talk got an answer to: $(grep -m 1 '"type": "transcript"' "$log.talk")"

# Stop `serve` the hard way (SIGKILL, no clean-up of its own): its worker must follow.
descendants() { local child; for child in $(pgrep -P "$1"); do echo "$child"; descendants "$child"; done; }
serve_pid=$(pgrep -P "$make_pid" | head -n 1)
workers=$(descendants "$serve_pid")
[ -n "$serve_pid" ] && [ -n "$workers" ] || { echo "smoke: no serve or embedded worker found" >&2; exit 1; }
kill -KILL "$serve_pid"
for _ in $(seq 20); do
  left=$(for pid in $workers; do kill -0 "$pid" 2>/dev/null && echo "$pid"; done)
  [ -z "$left" ] && break
  sleep 0.5
done
if [ -n "$left" ]; then echo "smoke: the embedded worker outlived serve by 10 s: $left" >&2; exit 1; fi
echo "smoke: the embedded worker stopped with serve"
