#!/usr/bin/env bash
# Starts a second Apache Kafka broker for Sluice's TLS and SASL tests, beside the plain one
# on 9092 (which this leaves alone), through scripts/kafka/start.sh with more listeners.
# Certificates come from scripts/tls/make-certs.sh (openssl, made once into
# $SLUICE_KAFKA_HOME/certs). Listeners, all on 127.0.0.1:
#
#   19192  PLAINTEXT   inter-broker only (start.sh waits on it); tests do not use it
#   19194  SSL         mutual TLS: the client must show a certificate of the test CA (certs/client.pem)
#   19195  SASL_SSL    TLS (server cert of the test CA) + SASL PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
#                      and OAUTHBEARER (unsecured JWTs, the broker's default validator)
#   19196  SSL         a server certificate for wrong-host.invalid only (a wrong host name)
#   19197  SSL         an expired server certificate (2020-01-01 to 2020-01-02)
#
# SASL users: alice / alice-secret (PLAIN, and SCRAM-SHA-256/512 created at format time).
# Does nothing when the broker already answers. Stop it with
#   SLUICE_KAFKA_HOME=.sluice/kafka-tls scripts/kafka/stop.sh [--wipe]
# Environment: SLUICE_KAFKA_HOME (default .sluice/kafka-tls), SLUICE_KAFKA_WAIT (90).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export SLUICE_KAFKA_HOME="${SLUICE_KAFKA_HOME:-$ROOT/.sluice/kafka-tls}"
# The jars of the plain broker: resolved once for both.
export SLUICE_KAFKA_LIB="${SLUICE_KAFKA_LIB:-$ROOT/.sluice/kafka/lib}"
export SLUICE_KAFKA_PORT=19192
export SLUICE_KAFKA_CONTROLLER_PORT=19193
CERTS="$SLUICE_KAFKA_HOME/certs"

mkdir -p "$SLUICE_KAFKA_HOME"
bash "$ROOT/scripts/tls/make-certs.sh" "$CERTS"
PASS="$(cat "$CERTS/keystore-password")"

keystore() { # listener p12
  printf 'listener.name.%s.ssl.keystore.type=PKCS12\nlistener.name.%s.ssl.keystore.location=%s\nlistener.name.%s.ssl.keystore.password=%s\n' \
    "$1" "$1" "$CERTS/$2.p12" "$1" "$PASS"
}

{
  cat <<EOF
listeners=PLAINTEXT://127.0.0.1:19192,CONTROLLER://127.0.0.1:19193,SSL://127.0.0.1:19194,SASL_SSL://127.0.0.1:19195,WRONGHOST://127.0.0.1:19196,EXPIRED://127.0.0.1:19197
advertised.listeners=PLAINTEXT://127.0.0.1:19192,SSL://127.0.0.1:19194,SASL_SSL://127.0.0.1:19195,WRONGHOST://127.0.0.1:19196,EXPIRED://127.0.0.1:19197
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,WRONGHOST:SSL,EXPIRED:SSL
inter.broker.listener.name=PLAINTEXT
ssl.truststore.type=PEM
ssl.truststore.location=$CERTS/ca.pem
ssl.endpoint.identification.algorithm=
listener.name.ssl.ssl.client.auth=required
listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
EOF
  keystore ssl server
  keystore sasl_ssl server
  keystore wronghost wronghost
  keystore expired expired
} >"$SLUICE_KAFKA_HOME/tls.properties"

export SLUICE_KAFKA_EXTRA_PROPERTIES="$SLUICE_KAFKA_HOME/tls.properties"
export SLUICE_KAFKA_FORMAT_ARGS=$'--add-scram\nSCRAM-SHA-256=[name=alice,password=alice-secret]\n--add-scram\nSCRAM-SHA-512=[name=alice,password=alice-secret]'
exec bash "$HERE/start.sh"
