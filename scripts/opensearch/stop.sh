#!/usr/bin/env bash
# Stops the server that scripts/opensearch/start.sh started (by its recorded pid), waiting
# for it to exit (at most 30 s, then SIGKILL). `--wipe` also deletes its data.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../lib/jvm-service.sh"
NAME=opensearch
HOME_DIR="${SLUICE_OPENSEARCH_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice/opensearch}"
PID_FILE="$HOME_DIR/opensearch.pid"
service_stop "$HOME_DIR/data" "$@"
