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
# Outside the checkout: the server outlives the run that started it, and other checkouts (CI clones) share it.
HOME_DIR="${SLUICE_OPENSEARCH_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice/opensearch}"
LIB="$HOME_DIR/lib"
CLASSES="$HOME_DIR/classes"
LOGS="$HOME_DIR/logs"
WAIT="${SLUICE_OPENSEARCH_WAIT:-180}"
PORT="${SLUICE_OPENSEARCH_PORT:-9200}"
TRANSPORT_PORT="${SLUICE_OPENSEARCH_TRANSPORT_PORT:-9300}"

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

if answers; then
  echo "opensearch: a server already answers on 127.0.0.1:$PORT"
  exit 0
fi

mkdir -p "$HOME_DIR" "$LOGS"
# One starter at a time (parallel test runs): the others wait here, then find it running.
exec 9>"$HOME_DIR/start.lock"
flock 9
if answers; then
  echo "opensearch: a server already answers on 127.0.0.1:$PORT"
  exit 0
fi

command -v java >/dev/null || { echo "opensearch: java (17) is needed to run the server" >&2; exit 1; }

if [[ ! -f "$LIB/.complete" ]] || [[ "$HERE/pom.xml" -nt "$LIB/.complete" ]]; then
  command -v mvn >/dev/null || { echo "opensearch: maven is needed to fetch the server jars" >&2; exit 1; }
  echo "opensearch: resolving the server jars into $LIB"
  rm -rf "$LIB.tmp"
  mvn -q -B -f "$HERE/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIB.tmp"
  rm -rf "$LIB"
  mv "$LIB.tmp" "$LIB"
  touch "$LIB/.complete"
fi
if [[ ! -f "$CLASSES/SluiceOpenSearchNode.class" ]] || [[ "$HERE/SluiceOpenSearchNode.java" -nt "$CLASSES/SluiceOpenSearchNode.class" ]]; then
  mkdir -p "$CLASSES"
  javac -cp "$LIB/*" -d "$CLASSES" "$HERE/SluiceOpenSearchNode.java"
fi

echo "opensearch: starting the server (log: $LOGS/stdout.log)"
# setsid + nohup: the server outlives this script and the test run that called it.
setsid nohup java -Xms512m -Xmx1g -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
  -cp "$CLASSES:$LIB/*" SluiceOpenSearchNode "$HOME_DIR" "$PORT" "$TRANSPORT_PORT" >>"$LOGS/stdout.log" 2>&1 </dev/null &
echo $! >"$HOME_DIR/opensearch.pid"

for ((i = 0; i < WAIT * 4; i++)); do
  if answers; then
    echo "opensearch: HTTP answers on 127.0.0.1:$PORT (pid $(cat "$HOME_DIR/opensearch.pid"))"
    exit 0
  fi
  if ! kill -0 "$(cat "$HOME_DIR/opensearch.pid")" 2>/dev/null; then
    echo "opensearch: the server exited; the end of its log:" >&2
    tail -30 "$LOGS/stdout.log" >&2 || true
    exit 1
  fi
  sleep 0.25
done
echo "opensearch: the server did not answer within ${WAIT}s; see $LOGS/stdout.log" >&2
exit 1
