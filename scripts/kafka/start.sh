#!/usr/bin/env bash
# Starts a single-node Apache Kafka broker (KRaft, combined broker+controller) on
# 127.0.0.1:9092 for Sluice's connector tests and benchmarks, from Maven Central jars.
#
# - Does nothing when something already answers on its port.
# - The first run resolves the broker and its tools (scripts/kafka/pom.xml) into
#   $SLUICE_KAFKA_LIB (default .sluice/kafka/lib, gitignored): a few hundred MB into
#   ~/.m2 the first time, then cached.
# - Formats the storage once with a fixed cluster id, starts the broker in the background
#   (it outlives this script; logs in $SLUICE_KAFKA_HOME/logs/server.log) and waits until
#   it answers, at most $SLUICE_KAFKA_WAIT seconds (default 90).
# Stop it with scripts/kafka/stop.sh. Needs Java 17+ and Maven.
#
# A second, private broker (fault tests kill it; the shared one on 9092 must stay up):
#   SLUICE_KAFKA_PORT=19092 SLUICE_KAFKA_HOME=/tmp/k2 scripts/kafka/start.sh
#   SLUICE_KAFKA_HOME=/tmp/k2 scripts/kafka/stop.sh --wipe
# Environment (defaults keep the shared test broker as it always was):
#   SLUICE_KAFKA_PORT             client port (9092)
#   SLUICE_KAFKA_CONTROLLER_PORT  KRaft controller port (the client port + 1)
#   SLUICE_KAFKA_HOME             config, data, logs and pid file (.sluice/kafka)
#   SLUICE_KAFKA_LIB              the broker jars ($SLUICE_KAFKA_HOME/lib when that is set,
#                                 else .sluice/kafka/lib); brokers may share one
#   SLUICE_KAFKA_WAIT             seconds to wait for the broker to answer (90)
#   SLUICE_KAFKA_EXTRA_PROPERTIES a file appended to server.properties (its keys win): more
#                                 listeners, TLS, SASL (scripts/kafka/start-tls.sh)
#   SLUICE_KAFKA_FORMAT_ARGS      further arguments of the storage format, one a line
#                                 (--add-scram for SCRAM users; read only when formatting)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
HOME_DIR="${SLUICE_KAFKA_HOME:-$ROOT/.sluice/kafka}"
LIB="${SLUICE_KAFKA_LIB:-$HOME_DIR/lib}"
DATA="$HOME_DIR/data"
LOGS="$HOME_DIR/logs"
WAIT="${SLUICE_KAFKA_WAIT:-90}"
PORT="${SLUICE_KAFKA_PORT:-9092}"
CONTROLLER_PORT="${SLUICE_KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
# A fixed cluster id: the base64url of the 16 bytes "sluice-kafka-001".
CLUSTER_ID="c2x1aWNlLWthZmthLTAwMQ"

[[ "$PORT" =~ ^[0-9]+$ && "$CONTROLLER_PORT" =~ ^[0-9]+$ && "$PORT" != "$CONTROLLER_PORT" ]] \
  || { echo "kafka: SLUICE_KAFKA_PORT ($PORT) and SLUICE_KAFKA_CONTROLLER_PORT ($CONTROLLER_PORT) must be two different port numbers" >&2; exit 1; }

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

if answers; then
  echo "kafka: a broker already answers on 127.0.0.1:$PORT"
  exit 0
fi

mkdir -p "$HOME_DIR" "$LOGS"
# One starter at a time (parallel test runs): the others wait here, then find it running.
exec 9>"$HOME_DIR/start.lock"
flock 9
if answers; then
  echo "kafka: a broker already answers on 127.0.0.1:$PORT"
  exit 0
fi

command -v java >/dev/null || { echo "kafka: java (17+) is needed to run the broker" >&2; exit 1; }

mkdir -p "$(dirname "$LIB")"
# Brokers with other homes may share the jars: one resolver at a time.
exec 8>"$LIB.lock"
flock 8
if [[ ! -f "$LIB/.complete" ]] || [[ "$HERE/pom.xml" -nt "$LIB/.complete" ]]; then
  command -v mvn >/dev/null || { echo "kafka: maven is needed to fetch the broker jars" >&2; exit 1; }
  echo "kafka: resolving the broker jars into $LIB (the first time downloads a few hundred MB)"
  rm -rf "$LIB.tmp"
  mvn -q -B -f "$HERE/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIB.tmp"
  rm -rf "$LIB"
  mv "$LIB.tmp" "$LIB"
  touch "$LIB/.complete"
fi
exec 8>&-

cat >"$HOME_DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA
num.partitions=1
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=8
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
# A dead cluster member's open transaction is aborted within a second of its timeout, not
# up to ten (the default check interval): failover waits for that abort.
transaction.abort.timed.out.transaction.cleanup.interval.ms=1000
# Cluster members may ask for session timeouts down to a second (the default floor is 6 s):
# the failover benchmark measures how fast a dead member's tasks move with short ones.
group.min.session.timeout.ms=1000
log.retention.hours=24
log.segment.bytes=67108864
EOF
if [[ -n "${SLUICE_KAFKA_EXTRA_PROPERTIES:-}" ]]; then
  cat "$SLUICE_KAFKA_EXTRA_PROPERTIES" >>"$HOME_DIR/server.properties"
fi

cat >"$HOME_DIR/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $LOGS/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = info
logger.state.name = state.change.logger
logger.state.level = warn
EOF

JAVA_OPTS=(-Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true "-Dlog4j2.configurationFile=$HOME_DIR/log4j2.properties")

if [[ ! -f "$DATA/meta.properties" ]]; then
  echo "kafka: formatting storage in $DATA (cluster $CLUSTER_ID)"
  FORMAT_ARGS=()
  [[ -n "${SLUICE_KAFKA_FORMAT_ARGS:-}" ]] && mapfile -t FORMAT_ARGS <<<"$SLUICE_KAFKA_FORMAT_ARGS"
  java "${JAVA_OPTS[@]}" -cp "$LIB/*" kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$HOME_DIR/server.properties" --ignore-formatted ${FORMAT_ARGS[@]+"${FORMAT_ARGS[@]}"} >>"$LOGS/format.log" 2>&1 \
    || { echo "kafka: formatting failed, see $LOGS/format.log" >&2; tail -20 "$LOGS/format.log" >&2; exit 1; }
fi

echo "kafka: starting the broker (log: $LOGS/server.log)"
# setsid + nohup: the broker outlives this script and the test run that called it.
setsid nohup java "${JAVA_OPTS[@]}" -cp "$LIB/*" kafka.Kafka "$HOME_DIR/server.properties" >>"$LOGS/stdout.log" 2>&1 < /dev/null &
echo $! >"$HOME_DIR/kafka.pid"

for ((i = 0; i < WAIT * 4; i++)); do
  if answers; then
    echo "kafka: broker answers on 127.0.0.1:$PORT (pid $(cat "$HOME_DIR/kafka.pid"))"
    exit 0
  fi
  if ! kill -0 "$(cat "$HOME_DIR/kafka.pid")" 2>/dev/null; then
    echo "kafka: the broker exited; the end of its log:" >&2
    tail -30 "$LOGS/stdout.log" "$LOGS/server.log" >&2 2>/dev/null || true
    exit 1
  fi
  sleep 0.25
done
echo "kafka: the broker did not answer within ${WAIT}s; see $LOGS/server.log" >&2
exit 1
