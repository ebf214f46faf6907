#!/usr/bin/env bash
# Stops the broker that scripts/kafka/start.sh started (by its recorded pid), waiting for a
# clean shutdown (at most 30 s, then SIGKILL). `--wipe` also deletes its data (topics,
# offsets). `--kill` sends SIGKILL at once, as a crash would (fault tests; the data stays,
# and start.sh brings the broker back on it).
#
# SLUICE_KAFKA_HOME picks the broker (default .sluice/kafka, the shared test broker): a
# private one started with SLUICE_KAFKA_HOME=/tmp/k2 scripts/kafka/start.sh stops with
#   SLUICE_KAFKA_HOME=/tmp/k2 scripts/kafka/stop.sh [--kill] [--wipe]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
HOME_DIR="${SLUICE_KAFKA_HOME:-$ROOT/.sluice/kafka}"
PID_FILE="$HOME_DIR/kafka.pid"
KILL=0
WIPE=0
for arg in "$@"; do
  case "$arg" in
    --kill) KILL=1 ;;
    --wipe) WIPE=1 ;;
    *) echo "kafka: unknown option $arg (stop.sh [--kill] [--wipe])" >&2; exit 1 ;;
  esac
done

if [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
  pid="$(cat "$PID_FILE")"
  if [[ $KILL == 1 ]]; then
    kill -9 "$pid"
    for ((i = 0; i < 40; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    echo "kafka: killed broker $pid (SIGKILL)"
  else
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
  fi
else
  echo "kafka: no broker started by start.sh is running"
fi
rm -f "$PID_FILE"

if [[ $WIPE == 1 ]]; then
  rm -rf "$HOME_DIR/data"
  echo "kafka: wiped $HOME_DIR/data"
fi
