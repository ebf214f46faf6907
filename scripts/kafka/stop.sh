#!/usr/bin/env bash
# Stops the broker that scripts/kafka/start.sh started (by its recorded pid), waiting for a
# clean shutdown (at most 30 s, then SIGKILL). `--wipe` also deletes its data (topics, offsets).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
HOME_DIR="${SLUICE_KAFKA_HOME:-$ROOT/.sluice/kafka}"
PID_FILE="$HOME_DIR/kafka.pid"

if [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
  pid="$(cat "$PID_FILE")"
  kill "$pid"
  for ((i = 0; i < 120; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "kafka: broker $pid did not stop in 30 s; killing it" >&2
    kill -9 "$pid" || true
  fi
  echo "kafka: stopped broker $pid"
else
  echo "kafka: no broker started by start.sh is running"
fi
rm -f "$PID_FILE"

if [[ "${1:-}" == "--wipe" ]]; then
  rm -rf "$HOME_DIR/data"
  echo "kafka: wiped $HOME_DIR/data"
fi
