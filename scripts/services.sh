#!/usr/bin/env bash
# Starts the services the connector tests use, each only if its port does not answer yet:
# PostgreSQL (5432), Redis (6379), NATS with JetStream (4222), Mosquitto MQTT (1883), RabbitMQ (5672), all on
# 127.0.0.1. On request only (not in the default set): InfluxDB 1.x (8086), installed from
# Debian's `influxdb` package when missing (test/setup/influxdb.ts asks for it). The commands are how this machine (and CI) starts them. Waits, bounded, until
# each answers and says what it did; exits non-zero if one does not come up.
#   scripts/services.sh            # all of them
#   scripts/services.sh redis nats # some
#   scripts/services.sh influxdb   # InfluxDB (apt-get installs it the first time)
set -u

WAIT_SECONDS="${SLUICE_SERVICES_WAIT:-30}"

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_postgres() { pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start; }
start_redis() {
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
}
start_mosquitto() { mosquitto -d -c /etc/mosquitto/mosquitto.conf; }
start_rabbitmq() { rabbitmq-server -detached; }
start_nats() {
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
}
start_influxdb() {
  if ! command -v influxd >/dev/null; then
    echo "services: installing influxdb (Debian package)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends influxdb >/var/log/sluice-influxdb-install.log 2>&1 ||
      { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends influxdb >>/var/log/sluice-influxdb-install.log 2>&1; } ||
      { echo "services: apt-get install influxdb failed, see /var/log/sluice-influxdb-install.log" >&2; return 1; }
  fi
  mkdir -p /var/lib/influxdb /var/log/influxdb
  INFLUXDB_HTTP_BIND_ADDRESS=127.0.0.1:8086 INFLUXDB_BIND_ADDRESS=127.0.0.1:8088 INFLUXDB_REPORTING_DISABLED=true INFLUXDB_HTTP_LOG_ENABLED=false \
    start-stop-daemon --start --oknodo --background --exec "$(command -v influxd)" --output /var/log/influxdb/sluice.log -- -config /etc/influxdb/influxdb.conf
}

failed=0
ensure() { # name port
  local name="$1" port="$2"
  if answers "$port"; then
    echo "services: $name already answers on 127.0.0.1:$port"
    return
  fi
  echo "services: starting $name"
  "start_$name" || echo "services: the start command of $name failed (exit $?)"
  local waited=0
  until answers "$port"; do
    if [ "$waited" -ge $((WAIT_SECONDS * 10)) ]; then
      echo "services: $name does not answer on 127.0.0.1:$port after ${WAIT_SECONDS}s" >&2
      failed=1
      return
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  echo "services: $name answers on 127.0.0.1:$port"
}

wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(postgres redis nats mosquitto rabbitmq)
for s in "${wanted[@]}"; do
  case "$s" in
    postgres) ensure postgres 5432 ;;
    redis) ensure redis 6379 ;;
    nats) ensure nats 4222 ;;
    mosquitto) ensure mosquitto 1883 ;;
    rabbitmq) ensure rabbitmq 5672 ;;
    influxdb) ensure influxdb 8086 ;;
    *) echo "services: unknown service '$s' (postgres, redis, nats, mosquitto, rabbitmq, influxdb)" >&2; failed=1 ;;
  esac
done
exit "$failed"
