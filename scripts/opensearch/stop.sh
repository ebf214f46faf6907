#!/usr/bin/env bash
# Stops the server that scripts/opensearch/start.sh started (by its recorded pid), waiting
# for it to exit (at most 30 s, then SIGKILL). `--wipe` also deletes its data.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Outside the checkout: the server outlives the run that started it, and other checkouts (CI clones) share it.
HOME_DIR="${SLUICE_OPENSEARCH_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice/opensearch}"
PID_FILE="$HOME_DIR/opensearch.pid"
WIPE=0
for arg in "$@"; do
  case "$arg" in
    --wipe) WIPE=1 ;;
    *) echo "opensearch: unknown option $arg (stop.sh [--wipe])" >&2; exit 1 ;;
  esac
done

if [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
  pid="$(cat "$PID_FILE")"
  kill "$pid"
  for ((i = 0; i < 120; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  echo "opensearch: stopped server $pid"
else
  echo "opensearch: no server of $HOME_DIR is running"
fi
rm -f "$PID_FILE"
if [[ $WIPE == 1 ]]; then rm -rf "$HOME_DIR/data"; echo "opensearch: data wiped"; fi
