#!/usr/bin/env bash
# Starts (or stops) the TLS-and-authentication instances of NATS, Redis, PostgreSQL and
# Mosquitto that the transport-security tests use, beside the plain ones (which stay on their
# standard ports, untouched). Certificates are made here with openssl, once, into
# $SLUICE_SECURE_DIR (default /var/tmp/sluice-secure: outside the checkout, and readable by
# the postgres and mosquitto users the servers run as):
#   ca.pem                 the test CA (clients must be given it: it is in no system store)
#   server.pem/.key        for localhost and 127.0.0.1 (not 127.0.0.2: "wrong host" connects there)
#   expired.pem/.key       for localhost and 127.0.0.1, expired yesterday
#   wronghost.pem/.key     for wrong.example only
#   client.pem/.key        CN=sluice_cert, PostgreSQL's client-certificate user
#   client-expired.pem/.key  the same user, expired
#   nkey.seed / nkey.pub   a NATS NKEY user
#
#   port   what                                                        auth
#   14222  nats-server -js, TLS                                        users sluice/sluice-pass, the NKEY
#   14223  nats-server -js, TLS                                        token sluice-token
#   14224  nats-server, TLS with the expired certificate
#   14225  nats-server, TLS with the wrong.example certificate
#   16379  redis-server TLS only, bound to 127.0.0.1 and 127.0.0.2     ACL user sluice/sluice-pass (default user off)
#   16380  redis-server TLS only, the expired certificate
#   15432  postgres ssl=on, on 127.0.0.1 and 127.0.0.2, hostssl only  sluice_pw/sluice-pass (scram), sluice_cert (cert)
#   18883  mosquitto mqtts                                             sluice/sluice-pass
#   18884  mosquitto mqtts, the expired certificate
#   18885  mosquitto mqtts, the wrong.example certificate
#
#   scripts/secure-services.sh start   # idempotent: what answers already is reused
#   scripts/secure-services.sh stop
#   scripts/secure-services.sh env     # prints SLUICE_SECURE_DIR=…
# Servers outlive the script (pid files and logs in $SLUICE_SECURE_DIR/run).
set -euo pipefail

DIR="${SLUICE_SECURE_DIR:-/var/tmp/sluice-secure}"
CERTS="$DIR/certs"
RUN="$DIR/run"
WAIT="${SLUICE_SERVICES_WAIT:-30}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
PASSWORD=sluice-pass
PG_BIN="$(dirname "$(readlink -f "$(command -v postgres || echo /usr/local/bin/postgres)")")"

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- certificates ---------------------------------------------------------------------
sign() { # name subject san days
  local name="$1" subject="$2" san="$3" days="$4"
  openssl req -newkey rsa:2048 -nodes -keyout "$CERTS/$name.key" -out "$CERTS/$name.csr" -subj "$subject" 2>/dev/null
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\n' "$san" >"$CERTS/$name.ext"
  # -days -1: valid from now, expired since yesterday (OpenSSL 3.0 has no -not_after).
  openssl x509 -req -in "$CERTS/$name.csr" -CA "$CERTS/ca.pem" -CAkey "$CERTS/ca.key" -CAcreateserial \
    -out "$CERTS/$name.pem" -days "$days" -extfile "$CERTS/$name.ext" 2>/dev/null
  rm -f "$CERTS/$name.csr" "$CERTS/$name.ext"
}

make_certs() {
  [[ -f "$CERTS/.complete" ]] && return
  rm -rf "$CERTS"
  mkdir -p "$CERTS"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$CERTS/ca.key" -out "$CERTS/ca.pem" -subj "/CN=Sluice Test CA" -days 3650 2>/dev/null
  sign server "/CN=localhost" "DNS:localhost,IP:127.0.0.1" 825
  sign expired "/CN=localhost" "DNS:localhost,IP:127.0.0.1" -1
  sign wronghost "/CN=wrong.example" "DNS:wrong.example" 825
  sign client "/CN=sluice_cert" "DNS:sluice_cert" 825
  sign client-expired "/CN=sluice_cert" "DNS:sluice_cert" -1
  # A NATS NKEY user, made with the nkeys library the NATS client ships with.
  (cd "$ROOT" && node --input-type=module -e "
    import { createUser } from '@nats-io/nkeys';
    import { writeFileSync } from 'node:fs';
    const u = createUser();
    writeFileSync('$CERTS/nkey.seed', new TextDecoder().decode(u.getSeed()));
    writeFileSync('$CERTS/nkey.pub', u.getPublicKey());
  ")
  # Test-only keys: readable by the users the servers run as.
  chmod 755 "$DIR" "$CERTS"
  chmod 644 "$CERTS"/*
  touch "$CERTS/.complete"
}

# --- servers --------------------------------------------------------------------------
wait_for() { # name port
  local waited=0
  until answers "$2"; do
    if [[ "$waited" -ge $((WAIT * 10)) ]]; then
      echo "secure-services: $1 does not answer on 127.0.0.1:$2 after ${WAIT}s (logs in $RUN)" >&2
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

start_nats() { # name port cert extra-config
  local name="$1" port="$2" cert="$3" auth="$4"
  answers "$port" && return 0
  mkdir -p "$RUN/$name-js"
  cat >"$RUN/$name.conf" <<EOF
listen: 127.0.0.1:$port
jetstream { store_dir: "$RUN/$name-js", max_memory_store: 64MB, max_file_store: 256MB }
tls { cert_file: "$CERTS/$cert.pem", key_file: "$CERTS/$cert.key", timeout: 5 }
$auth
EOF
  # Without the lock's descriptor (a server holding it would block every later start) or the caller's output.
  nats-server -c "$RUN/$name.conf" -P "$RUN/$name.pid" -l "$RUN/$name.log" </dev/null >/dev/null 2>&1 9>&- &
  disown
  wait_for "$name" "$port"
}

start_redis() { # name port cert
  local name="$1" port="$2" cert="$3"
  answers "$port" && return 0
  cat >"$RUN/$name.acl" <<EOF
user default off
user sluice on >$PASSWORD ~* &* +@all
EOF
  redis-server --daemonize yes --port 0 --tls-port "$port" --bind 127.0.0.1 127.0.0.2 \
    --tls-cert-file "$CERTS/$cert.pem" --tls-key-file "$CERTS/$cert.key" --tls-ca-cert-file "$CERTS/ca.pem" \
    --tls-auth-clients no --aclfile "$RUN/$name.acl" --save "" --appendonly no --dir "$RUN" \
    --pidfile "$RUN/$name.pid" --logfile "$RUN/$name.log" </dev/null >/dev/null 9>&-
  wait_for "$name" "$port"
}

start_postgres() {
  local port=15432 data="$RUN/pg-data"
  answers "$port" && return 0
  if [[ ! -f "$data/PG_VERSION" ]]; then
    rm -rf "$data"
    mkdir -p "$data"
    chown postgres "$data"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$data" -U postgres --auth-local=trust >"$RUN/pg-initdb.log" 2>&1
  fi
  # The server's own copies: PostgreSQL refuses a key others can read.
  install -o postgres -m 600 "$CERTS/server.key" "$data/server.key"
  install -o postgres -m 644 "$CERTS/server.pem" "$data/server.pem"
  install -o postgres -m 644 "$CERTS/ca.pem" "$data/ca.pem"
  cat >"$data/pg_hba.conf" <<EOF
local all postgres trust
hostssl all sluice_cert 127.0.0.0/8 cert
hostssl all sluice_pw 127.0.0.0/8 scram-sha-256
EOF
  chown postgres "$data/pg_hba.conf"
  touch "$RUN/postgres.log" && chown postgres "$RUN/postgres.log"
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" -l "$RUN/postgres.log" -w -t "$WAIT" start \
    -o "-p $port -c listen_addresses=127.0.0.1,127.0.0.2 -c unix_socket_directories=$data -c ssl=on -c ssl_cert_file=server.pem -c ssl_key_file=server.key -c ssl_ca_file=ca.pem -c password_encryption=scram-sha-256 -c max_connections=50 -c shared_buffers=16MB -c fsync=off" </dev/null >/dev/null 9>&-
  runuser -u postgres -- "$PG_BIN/../bin/psql" -h "$data" -p "$port" -U postgres -q -v ON_ERROR_STOP=1 >/dev/null <<EOF
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sluice_pw') THEN CREATE ROLE sluice_pw LOGIN SUPERUSER; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sluice_cert') THEN CREATE ROLE sluice_cert LOGIN SUPERUSER; END IF;
END \$\$;
ALTER ROLE sluice_pw PASSWORD '$PASSWORD';
EOF
  wait_for postgres "$port"
}

start_mosquitto() {
  answers 18883 && answers 18884 && answers 18885 && return 0
  [[ -f "$RUN/mosquitto/mosquitto.pid" ]] && kill "$(cat "$RUN/mosquitto/mosquitto.pid")" 2>/dev/null && sleep 0.5
  # Started as root, mosquitto runs as the mosquitto user: its pid file and log go where that user may write.
  mkdir -p "$RUN/mosquitto" && chown mosquitto "$RUN/mosquitto"
  mosquitto_passwd -b -c "$RUN/mosquitto.passwd" sluice "$PASSWORD" 2>/dev/null
  chmod 644 "$RUN/mosquitto.passwd"
  cat >"$RUN/mosquitto.conf" <<EOF
pid_file $RUN/mosquitto/mosquitto.pid
persistence false
log_dest file $RUN/mosquitto/mosquitto.log
allow_anonymous false
password_file $RUN/mosquitto.passwd
listener 18883 127.0.0.1
certfile $CERTS/server.pem
keyfile $CERTS/server.key
listener 18884 127.0.0.1
certfile $CERTS/expired.pem
keyfile $CERTS/expired.key
listener 18885 127.0.0.1
certfile $CERTS/wronghost.pem
keyfile $CERTS/wronghost.key
EOF
  mosquitto -d -c "$RUN/mosquitto.conf" </dev/null >/dev/null 9>&-
  wait_for mosquitto 18883
}

start() {
  mkdir -p "$DIR"
  # One starter at a time (test files in parallel forks): the others wait, then reuse.
  exec 9>"$DIR/start.lock"
  flock 9
  make_certs
  mkdir -p "$RUN"
  chmod 755 "$RUN"
  local nkey
  nkey="$(cat "$CERTS/nkey.pub")"
  start_nats nats-users 14222 server "authorization { users: [ { user: sluice, password: $PASSWORD }, { nkey: $nkey } ] }"
  start_nats nats-token 14223 server "authorization { token: sluice-token }"
  start_nats nats-expired 14224 expired "authorization { token: sluice-token }"
  start_nats nats-wronghost 14225 wronghost "authorization { token: sluice-token }"
  start_redis redis-tls 16379 server
  start_redis redis-expired 16380 expired
  start_postgres
  start_mosquitto
  echo "secure-services: all answer (certificates in $CERTS)"
}

stop() {
  for pid in "$RUN"/*.pid "$RUN"/mosquitto/*.pid; do
    [[ -f "$pid" ]] || continue
    kill "$(cat "$pid")" 2>/dev/null || true
    rm -f "$pid"
  done
  if [[ -f "$RUN/pg-data/postmaster.pid" ]]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$RUN/pg-data" -m fast -w stop >/dev/null || true
  fi
  echo "secure-services: stopped"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  env) echo "SLUICE_SECURE_DIR=$DIR" ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
