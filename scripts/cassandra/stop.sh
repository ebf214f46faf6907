#!/usr/bin/env bash
# Stops the server that scripts/cassandra/start.sh started (by its recorded pid), waiting
# for it to exit (at most 30 s, then SIGKILL). `--wipe` also deletes its data.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../lib/jvm-service.sh"
NAME=cassandra
# Outside the checkout: the server outlives the run that started it, and other checkouts (CI clones) share it.
HOME_DIR="${SLUICE_CASSANDRA_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice/cassandra}"
PID_FILE="$HOME_DIR/cassandra.pid"
service_stop "$HOME_DIR/data" "$@"
