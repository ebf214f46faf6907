#!/usr/bin/env bash
# Starts a single-node Apache Cassandra 5.0 on 127.0.0.1:9042 (CQL) for Sluice's external
# state tests and benchmarks, from Maven Central jars (scripts/cassandra/pom.xml).
#
# - Does nothing when something already answers on its port.
# - The first run resolves the server into $SLUICE_CASSANDRA_HOME/lib (default
#   ~/.cache/sluice/cassandra): about 70 MB into ~/.m2 the first time, then cached.
# - Starts the server in the background (it outlives this script; log in
#   $SLUICE_CASSANDRA_HOME/logs/stdout.log) and waits until CQL answers, at most
#   $SLUICE_CASSANDRA_WAIT seconds (default 180: a first start on a busy machine is slow).
# Stop it with scripts/cassandra/stop.sh. Needs Java 17 and Maven.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../lib/jvm-service.sh"
NAME=cassandra
# Outside the checkout: the server outlives the run that started it, and other checkouts (CI clones) share it.
HOME_DIR="${SLUICE_CASSANDRA_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice/cassandra}"
PID_FILE="$HOME_DIR/cassandra.pid"
LIB="$HOME_DIR/lib"
DATA="$HOME_DIR/data"
LOGS="$HOME_DIR/logs"
PORT="${SLUICE_CASSANDRA_PORT:-9042}"
STORAGE_PORT="${SLUICE_CASSANDRA_STORAGE_PORT:-7000}"

service_start_once
mkdir -p "$LOGS" "$DATA"
service_resolve_jars "$HERE/pom.xml" "$LIB"

cat >"$HOME_DIR/cassandra.yaml" <<EOF
cluster_name: sluice
num_tokens: 16
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
commitlog_sync: periodic
commitlog_sync_period: 10000ms
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "127.0.0.1:$STORAGE_PORT"
listen_address: 127.0.0.1
rpc_address: 127.0.0.1
native_transport_port: $PORT
storage_port: $STORAGE_PORT
endpoint_snitch: SimpleSnitch
data_file_directories: [$DATA/data]
commitlog_directory: $DATA/commitlog
saved_caches_directory: $DATA/saved_caches
hints_directory: $DATA/hints
cdc_raw_directory: $DATA/cdc
start_native_transport: true
EOF

# What Cassandra's own jvm17-server.options opens to it on Java 17.
JAVA_OPTS=(-Xms512m -Xmx1g -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
  "-Dcassandra.config=file://$HOME_DIR/cassandra.yaml" -Dcassandra-foreground=yes -Dcassandra.jmx.local.port=7199
  "-Dcassandra.logdir=$LOGS" -Dcassandra.skip_wait_for_gossip_to_settle=0)
for p in java.base/jdk.internal.misc java.base/jdk.internal.ref java.base/sun.nio.ch java.management.rmi/com.sun.jmx.remote.internal.rmi \
  java.rmi/sun.rmi.registry java.rmi/sun.rmi.server java.sql/java.sql java.base/jdk.internal.math java.base/jdk.internal.module \
  java.base/jdk.internal.util.jar jdk.management/com.sun.management.internal; do
  JAVA_OPTS+=(--add-exports "$p=ALL-UNNAMED")
done
for p in java.base/java.lang java.base/java.lang.module java.base/java.net java.base/jdk.internal.loader java.base/jdk.internal.ref \
  java.base/jdk.internal.reflect java.base/jdk.internal.math java.base/jdk.internal.module java.base/jdk.internal.util.jar \
  jdk.management/com.sun.management.internal java.base/sun.nio.ch java.base/java.io java.base/java.nio java.base/java.util.concurrent \
  java.base/java.util java.base/java.util.concurrent.atomic java.base/java.lang.reflect; do
  JAVA_OPTS+=(--add-opens "$p=ALL-UNNAMED")
done

service_launch "$LOGS/stdout.log" java "${JAVA_OPTS[@]}" -cp "$LIB/*" org.apache.cassandra.service.CassandraDaemon
service_wait "${SLUICE_CASSANDRA_WAIT:-180}" "$LOGS/stdout.log" CQL
