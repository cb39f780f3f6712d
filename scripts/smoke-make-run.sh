#!/usr/bin/env bash
# The README's way in, as a new user meets it: `make run` from this checkout on its embedded
# defaults (no VOICE_* settings but a data folder that does not exist yet, in a temporary
# place so that a ./var of the checkout's is neither needed nor touched), `/readyz` answering
# 200, one spoken question through `voice-service talk`, then a stop that takes the embedded
# worker with it. Used by CI after `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${SMOKE_PORT:-8003}
log=$(mktemp)
reply=$(mktemp --suffix=.wav)
for name in $(env | grep -o '^VOICE_[A-Z_]*' || true); do unset "$name"; done
scratch=$(mktemp -d)
export VOICE_DATA_DIR="$scratch/var"  # does not exist yet: serve must make it

setsid make run >"$log" 2>&1 &
make_pid=$!
cleanup() {
  kill -KILL -- "-$make_pid" 2>/dev/null || true
  rm -rf "$scratch" "$reply" "$log" "$log.talk"
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
mode=$(stat -c %a "$VOICE_DATA_DIR")
echo "smoke: make run answers /readyz; it made the data folder with mode $mode"
[ "$mode" = 700 ] || { echo "smoke: the data folder is not 0700" >&2; exit 1; }

.venv/bin/voice-service talk tests/data/speech/jfk.flac "$reply" \
  --url "ws://127.0.0.1:$port/v1/voice" --speed 2 --timeout 120 --json >"$log.talk"
grep -q '"type": *"turn_end"' "$log.talk" || { echo "smoke: no turn_end" >&2; cat "$log.talk" >&2; exit 1; }
[ "$(stat -c %s "$reply")" -gt 1000 ] || { echo "smoke: the reply audio is empty" >&2; exit 1; }
echo "smoke: talk got an answer to: $(grep -m 1 '"type": "transcript"' "$log.talk")"

# Stop `serve` the hard way (SIGKILL, no clean-up of its own): its worker must follow.
descendants() { local child; for child in $(pgrep -P "$1"); do echo "$child"; descendants "$child"; done; }
serve_pid=$(pgrep -P "$make_pid" | head -n 1 || true)
workers=$([ -z "$serve_pid" ] || descendants "$serve_pid")
if [ -z "$serve_pid" ] || [ -z "$workers" ]; then
  echo "smoke: no serve (${serve_pid:-none}) or embedded worker found below make ($make_pid)" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
kill -KILL "$serve_pid"
for _ in $(seq 20); do
  left=$(for pid in $workers; do if kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi; done)
  [ -z "$left" ] && break
  sleep 0.5
done
if [ -n "$left" ]; then echo "smoke: the embedded worker outlived serve by 10 s: $left" >&2; exit 1; fi
echo "smoke: the embedded worker stopped with serve"
