#!/usr/bin/env bash
# Starts a single-node OpenSearch 2.19 on 127.0.0.1:9200 (HTTP) for Sluice's OpenSearch
# sink tests, from Maven Central jars (scripts/opensearch/pom.xml) and a small main class
# (SluiceOpenSearchNode.java: a Node with the netty4 HTTP transport).
#
# - Does nothing when something already answers on its port.
# - The first run resolves the server into $SLUICE_OPENSEARCH_HOME/lib (default
#   ~/.cache/sluice/opensearch): about 45 MB into ~/.m2 the first time, then cached.
# - Starts the server in the background (it outlives this script; log in
#   $SLUICE_OPENSEARCH_HOME/logs/stdout.log) and waits until HTTP answers, at most
#   $SLUICE_OPENSEARCH_WAIT seconds (default 180).
# Stop it with scripts/opensearch/stop.sh. Needs Java 17 and Maven.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../lib/jvm-service.sh"
NAME=opensearch
# Outside the checkout: the server outlives the run that started it, and other checkouts (CI clones) share it.
HOME_DIR="${SLUICE_OPENSEARCH_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice/opensearch}"
PID_FILE="$HOME_DIR/opensearch.pid"
LIB="$HOME_DIR/lib"
CLASSES="$HOME_DIR/classes"
LOG="$HOME_DIR/logs/stdout.log"
PORT="${SLUICE_OPENSEARCH_PORT:-9200}"
TRANSPORT_PORT="${SLUICE_OPENSEARCH_TRANSPORT_PORT:-9300}"

service_start_once
mkdir -p "$HOME_DIR/logs"
service_resolve_jars "$HERE/pom.xml" "$LIB"
if [[ ! -f "$CLASSES/SluiceOpenSearchNode.class" ]] || [[ "$HERE/SluiceOpenSearchNode.java" -nt "$CLASSES/SluiceOpenSearchNode.class" ]]; then
  mkdir -p "$CLASSES"
  javac -cp "$LIB/*" -d "$CLASSES" "$HERE/SluiceOpenSearchNode.java"
fi
service_launch "$LOG" java -Xms512m -Xmx1g -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
  -cp "$CLASSES:$LIB/*" SluiceOpenSearchNode "$HOME_DIR" "$PORT" "$TRANSPORT_PORT"
service_wait "${SLUICE_OPENSEARCH_WAIT:-180}" "$LOG" HTTP
